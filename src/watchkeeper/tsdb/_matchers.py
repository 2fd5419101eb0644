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
        return re.compile(_translate(pattern), re.DOTALL)
    except (re.error, OverflowError, RecursionError) as exc:
        raise InvalidMatcherError(f"invalid regular expression {pattern!r}: {exc}") from exc


_POSIX = {"alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7F",
          "blank": "\\t ", "cntrl": "\\x00-\\x1F\\x7F", "digit": "0-9",
          "graph": "!-~", "lower": "a-z", "print": " -~",
          "punct": "!-/:-@\\[-`{-~", "space": "\\t\\n\\v\\f\\r ",
          "upper": "A-Z", "word": "0-9A-Za-z_", "xdigit": "0-9A-Fa-f"}
_FLAGS = re.compile(r"\(\?([imsU-]+)\)")


def _translate(p: str) -> str:
    """Rewrite RE2-only syntax into Python's dialect.

    RE2 allows ``(?i)`` anywhere (scoped to the rest of the enclosing group), POSIX
    classes, ``\\z``, ``\\Q..\\E`` and ``(?<name>``; Python needs other spellings.
    """
    out: list[str] = []
    # Stack of how many ")" to emit when the enclosing group closes.
    closers: list[int] = [0]
    i = 0
    n = len(p)
    in_class = False
    while i < n:
        c = p[i]
        if c == "\\" and i + 1 < n:
            nxt = p[i + 1]
            if nxt == "Q":
                end = p.find("\\E", i + 2)
                lit = p[i + 2:] if end < 0 else p[i + 2:end]
                out.append(re.escape(lit))
                i = n if end < 0 else end + 2
                continue
            out.append("\\Z" if nxt == "z" and not in_class else p[i:i + 2])
            i += 2
            continue
        if in_class:
            if p.startswith("[:", i):
                end = p.find(":]", i + 2)
                name = p[i + 2:end] if end > 0 else ""
                neg = name.startswith("^")
                if name.lstrip("^") in _POSIX and not neg:
                    out.append(_POSIX[name])
                    i = end + 2
                    continue
            if c == "]":
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            if i < n and p[i] == "^":
                out.append("^")
                i += 1
            if i < n and p[i] == "]":
                out.append("\\]")
                i += 1
            continue
        if c == "(":
            m = _FLAGS.match(p, i)
            if m:
                flags = m.group(1).replace("U", "")
                if flags and flags != "-":
                    out.append(f"(?{flags}:")
                    closers[-1] += 1
                i = m.end()
                continue
            if p.startswith("(?<", i) and not p.startswith("(?<=", i) and \
                    not p.startswith("(?<!", i):
                out.append("(?P<")
                i += 3
            else:
                out.append("(")
                i += 1
            closers.append(0)
            continue
        if c == ")":
            extra = closers.pop() if len(closers) > 1 else 0
            out.append(")" * extra + ")")
            i += 1
            continue
        out.append(c)
        i += 1
    out.append(")" * closers[0])
    return "".join(out)


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
