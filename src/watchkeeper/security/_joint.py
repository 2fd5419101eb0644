"""One search over path and query together, for the common case where neither matches.

The joint text is ``path + "\\x1f" + query`` (both already normalised) and the joint
pattern is the alternation of the rules with their anchors widened: a leading ``^``
becomes ``(?:^|\\x1f)``, a trailing ``$`` becomes ``(?:$|\\n?\\x1f)``. Every match of a
rule in the path or in the query is then a match of the joint pattern in the joint
text: consuming atoms see the same characters; ``\\b``/``\\B`` see the same neighbours
(``\\x1f`` is a non-word character, like a text edge); a leading ``^`` at the query's
start consumes the separator just before it, and nothing in the pattern precedes it; a
trailing ``$`` at the path's end (or, under ``re``, before its final newline) consumes
the separator after it, and nothing follows it. So a miss of the joint pattern proves a
miss of every rule in both parts; a hit (possibly one spanning the separator) only sends
both parts through the ordinary per-location inspection.

Patterns whose anchors sit anywhere else, or that use constructs not written out here,
are not rewritten: the inspector then searches path and query separately.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

__all__ = ["SEPARATOR", "joint_source"]

SEPARATOR = "\x1f"


class Unsupported(Exception):
    """A construct this rewriter does not handle (the caller falls back)."""


def joint_source(patterns: Sequence[str]) -> str | None:
    """The joint pattern of ``patterns``, or None when one of them cannot be rewritten."""
    from re import _parser  # type: ignore[attr-defined]

    parts = []
    for pattern in patterns:
        try:
            parsed = _parser.parse(pattern)
            if parsed.state.flags & ~(re.IGNORECASE | re.UNICODE | re.VERBOSE):
                raise Unsupported("global flags that change what . ^ $ match")
            parts.append(_seq(list(parsed), lead=True, trail=True))
        except (re.error, Unsupported, RecursionError, OverflowError):
            return None
    return "|".join(f"(?:{part})" for part in parts)


def _seq(items: list[Any], *, lead: bool, trail: bool) -> str:
    last = len(items) - 1
    return "".join(_node(item, lead=lead and i == 0, trail=trail and i == last)
                   for i, item in enumerate(items))


def _node(item: Any, *, lead: bool, trail: bool) -> str:
    from re import _constants as c  # type: ignore[attr-defined]

    op, arg = item
    if op in (c.LITERAL, c.NOT_LITERAL, c.ANY, c.IN, c.CATEGORY):
        return _atom(op, arg)
    if op == c.AT:
        if arg == c.AT_BOUNDARY:
            return r"\b"
        if arg == c.AT_NON_BOUNDARY:
            return r"\B"
        if arg == c.AT_BEGINNING and lead:
            return r"(?:^|\x1f)"
        if arg == c.AT_END and trail:
            return r"(?:$|\n?\x1f)"
        raise Unsupported(f"anchor {arg} here")
    if op == c.BRANCH:
        return "(?:" + "|".join(_seq(list(branch), lead=lead, trail=trail)
                                for branch in arg[1]) + ")"
    if op == c.SUBPATTERN:
        _group, add_flags, del_flags, body = arg
        if add_flags or del_flags:
            raise Unsupported("inline flags")
        return "(?:" + _seq(list(body), lead=lead, trail=trail) + ")"
    if op in (c.MAX_REPEAT, c.MIN_REPEAT):
        low, high, body = arg
        inner = _seq(list(body), lead=False, trail=False)
        bound = "" if high == c.MAXREPEAT else str(high)
        return f"(?:{inner}){{{low},{bound}}}"
    raise Unsupported(str(op))


def _char(code: int) -> str:
    if code < 128 and chr(code).isalnum():
        return chr(code)
    if code < 256:
        return f"\\x{code:02x}"
    return re.escape(chr(code))


def _category(arg: Any) -> str:
    from re import _constants as c  # type: ignore[attr-defined]

    names = {c.CATEGORY_DIGIT: r"\d", c.CATEGORY_NOT_DIGIT: r"\D", c.CATEGORY_WORD: r"\w",
             c.CATEGORY_NOT_WORD: r"\W", c.CATEGORY_SPACE: r"\s",
             c.CATEGORY_NOT_SPACE: r"\S"}
    if arg not in names:
        raise Unsupported(str(arg))
    return names[arg]


def _atom(op: Any, arg: Any) -> str:
    from re import _constants as c  # type: ignore[attr-defined]

    if op == c.LITERAL:
        return _char(arg)
    if op == c.NOT_LITERAL:
        return f"[^{_char(arg)}]"
    if op == c.ANY:
        return "."
    if op == c.CATEGORY:
        return _category(arg)
    parts = []
    negate = False
    for sub_op, sub_arg in arg:
        if sub_op == c.NEGATE:
            negate = True
        elif sub_op == c.LITERAL:
            parts.append(_char(sub_arg))
        elif sub_op == c.RANGE:
            parts.append(f"{_char(sub_arg[0])}-{_char(sub_arg[1])}")
        elif sub_op == c.CATEGORY:
            parts.append(_category(sub_arg))
        else:
            raise Unsupported(str(sub_op))
    return "[" + ("^" if negate else "") + "".join(parts) + "]"
