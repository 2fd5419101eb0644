"""Label matchers: ``a="b"``, ``a!="b"``, ``a=~"re"``, ``a!~"re"`` and ``{...}`` lists.

Parsing follows Alertmanager 0.25's ``pkg/labels`` (the classic parser): values may be
quoted or bare, regular expressions are anchored as ``^(?:re)$``, and a matcher list is
split on commas outside double quotes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum

__all__ = [
    "MatchType",
    "Matcher",
    "MatcherError",
    "Matchers",
    "compile_go_regex",
    "parse_matcher",
    "parse_matchers",
]

_MATCHER_RE = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*(.*?)\s*$", re.S)
LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class MatcherError(ValueError):
    """A matcher could not be parsed or its regular expression does not compile."""


class MatchType(Enum):
    EQUAL = "="
    NOT_EQUAL = "!="
    REGEXP = "=~"
    NOT_REGEXP = "!~"


_TYPE_ORDER = {MatchType.EQUAL: 0, MatchType.NOT_EQUAL: 1, MatchType.REGEXP: 2,
               MatchType.NOT_REGEXP: 3}

# Go's RE2 knows POSIX classes inside brackets and \z; Python's re spells them differently.
_POSIX = {
    "[:alnum:]": "a-zA-Z0-9", "[:alpha:]": "a-zA-Z", "[:digit:]": "0-9",
    "[:lower:]": "a-z", "[:upper:]": "A-Z", "[:space:]": r"\s", "[:word:]": r"\w",
    "[:xdigit:]": "0-9A-Fa-f", "[:punct:]": r"!-/:-@\[-`{-~",
}


def compile_go_regex(pattern: str) -> re.Pattern[str]:
    """Compile an RE2 pattern anchored the way Alertmanager anchors matcher regexes."""
    text = pattern.replace(r"\z", r"\Z")
    for posix, py in _POSIX.items():
        text = text.replace(posix, py)
    try:
        return re.compile("^(?:" + text + r")\Z", re.S if "(?s" in text else 0)
    except re.error as exc:
        raise MatcherError(f"invalid regular expression {pattern!r}: {exc}") from exc


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


@dataclass(frozen=True, slots=True)
class Matcher:
    """One label matcher; a missing label matches as the empty string."""

    name: str
    type: MatchType
    value: str
    _re: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def create(cls, name: str, type_: MatchType | str, value: str) -> Matcher:
        mtype = MatchType(type_) if isinstance(type_, str) else type_
        compiled = None
        if mtype in (MatchType.REGEXP, MatchType.NOT_REGEXP):
            compiled = compile_go_regex(value)
        return cls(name, mtype, value, compiled)

    def matches(self, value: str) -> bool:
        if self.type is MatchType.EQUAL:
            return value == self.value
        if self.type is MatchType.NOT_EQUAL:
            return value != self.value
        assert self._re is not None
        hit = self._re.match(value) is not None
        return hit if self.type is MatchType.REGEXP else not hit

    def __str__(self) -> str:
        return f'{self.name}{self.type.value}"{_escape(self.value)}"'

    def sort_key(self) -> tuple[str, str, int]:
        return (self.name, self.value, _TYPE_ORDER[self.type])

    @property
    def is_regex(self) -> bool:
        return self.type in (MatchType.REGEXP, MatchType.NOT_REGEXP)

    @property
    def is_equal(self) -> bool:
        return self.type in (MatchType.EQUAL, MatchType.REGEXP)


class Matchers(tuple[Matcher, ...]):
    """An ordered set of matchers; all must match."""

    __slots__ = ()

    def __new__(cls, items: Iterable[Matcher] = ()) -> Matchers:
        return super().__new__(cls, items)

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels.get(m.name, "")) for m in self)

    def sorted(self) -> Matchers:
        return Matchers(sorted(self, key=Matcher.sort_key))

    def __str__(self) -> str:
        return "{" + ",".join(str(m) for m in self) + "}"


def parse_matcher(text: str) -> Matcher:
    """Parse one matcher such as ``severity=~"warn|crit"`` or ``env = prod``."""
    found = _MATCHER_RE.match(text)
    if found is None:
        raise MatcherError(f"bad matcher format: {text}")
    raw = found.group(3)
    expect_quote = raw.startswith('"')
    if expect_quote:
        raw = raw[1:]
    out: list[str] = []
    escaped = False
    last = len(raw) - 1
    for i, ch in enumerate(raw):
        if escaped:
            escaped = False
            if ch == "n":
                out.append("\n")
            elif ch in ('"', "\\"):
                out.append(ch)
            else:
                out.append("\\" + ch)
            continue
        if ch == "\\":
            if i < last:
                escaped = True
                continue
            out.append("\\")
        elif ch == '"':
            if not expect_quote or i < last:
                raise MatcherError(
                    f"matcher value contains unescaped double quote: {found.group(3)}")
            expect_quote = False
        else:
            out.append(ch)
    if expect_quote:
        raise MatcherError(f"matcher value contains unescaped double quote: {found.group(3)}")
    return Matcher.create(found.group(1), found.group(2), "".join(out))


def parse_matchers(text: str) -> Matchers:
    """Parse ``{a="b", c=~"d"}`` (braces optional) into matchers, in the written order."""
    if text.startswith("{"):
        text = text[1:]
    if text.endswith("}"):
        text = text[:-1]
    tokens: list[str] = []
    token: list[str] = []
    inside = escaped = False
    for ch in text:
        if ch == "," and not inside:
            tokens.append("".join(token))
            token = []
            continue
        if ch == '"':
            if not escaped:
                inside = not inside
            else:
                escaped = False
        elif ch == "\\":
            escaped = not escaped
        else:
            escaped = False
        token.append(ch)
    tail = "".join(token).strip()
    if tail:
        tokens.append(tail)
    return Matchers(parse_matcher(t) for t in tokens)
