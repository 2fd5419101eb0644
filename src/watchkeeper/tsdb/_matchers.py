"""Label matchers (``=``, ``!=``, ``=~``, ``!~``) with fully anchored, RE2-compatible regexes."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..exceptions import InvalidMatcherError

__all__ = ["MatchType", "Matcher"]


class MatchType(enum.Enum):
    """The four matcher operators of PromQL."""

    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


# RE2 has no backreferences, lookaround, atomic groups or possessive quantifiers; Python's
# re has them all, so reject them up front to keep the accepted language the same.
_RE2_REJECTS = [
    (re.compile(r"\(\?[=!]"), "lookahead"),
    (re.compile(r"\(\?<[=!]"), "lookbehind"),
    (re.compile(r"\(\?>"), "atomic group"),
    (re.compile(r"\(\?P=|\(\?\(|\\[1-9]|\\g<"), "backreference"),
    (re.compile(r"(?<![\\])[*+?}]\+"), "possessive quantifier"),
    (re.compile(r"\\[ZAG]"), "escape sequence not supported by RE2"),
]


def _strip_escapes_and_classes(pattern: str) -> str:
    """Drop escaped characters' meaning so checks do not fire on ``\\(?=`` literals."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append("\\" + nxt if nxt.isdigit() or nxt in "ZAGg" else "__")
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


@lru_cache(maxsize=4096)
def _compile(pattern: str) -> re.Pattern[str]:
    checked = _strip_escapes_and_classes(pattern)
    for rx, what in _RE2_REJECTS:
        if rx.search(checked):
            raise InvalidMatcherError(f"invalid regular expression {pattern!r}: {what}")
    try:
        # Prometheus anchors as ^(?s:...)$: '.' matches newlines too.
        return re.compile(pattern, re.DOTALL)
    except (re.error, OverflowError, RecursionError) as exc:
        raise InvalidMatcherError(f"invalid regular expression {pattern!r}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Matcher:
    """One label matcher; regexes match the whole value (fully anchored)."""

    type: MatchType
    name: str
    value: str
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.type in (MatchType.REGEX, MatchType.NOT_REGEX):
            object.__setattr__(self, "_regex", _compile(self.value))

    @classmethod
    def parse_op(cls, op: str, name: str, value: str) -> Matcher:
        """Build from the operator's text (``"=~"`` etc.)."""
        return cls(MatchType(op), name, value)

    def matches(self, value: str) -> bool:
        """Whether a label value (``""`` when the label is absent) satisfies the matcher."""
        t = self.type
        if t is MatchType.EQUAL:
            return value == self.value
        if t is MatchType.NOT_EQUAL:
            return value != self.value
        assert self._regex is not None
        hit = self._regex.fullmatch(value) is not None
        return hit if t is MatchType.REGEX else not hit

    def matches_empty(self) -> bool:
        """True if series *without* this label match (e.g. ``{a=""}`` or ``{a!="x"}``)."""
        return self.matches("")

    def __str__(self) -> str:
        from ._labels import _quote

        return f"{self.name}{self.type.value}{_quote(self.value)}"
