"""Pieces of the test-script language that need no engine: ``@st`` lines and the rules
for ``expect warn|info|no_warn|no_info`` (upstream promqltest semantics)."""

from __future__ import annotations

import re

from ..config._duration import parse_duration_ms

__all__ = ["check_annotations", "is_st_line", "parse_st_offsets"]


_ST_ITEM = re.compile(r"^(?P<base>[+-]?(?:0|(?:\d+(?:ms|[smhdwy]))+))"
                      r"(?:(?P<sign>[+-])(?P<step>(?:\d+(?:ms|[smhdwy]))+))?(?:x(?P<n>\d+))?$")


def is_st_line(line: str) -> bool:
    """``metric{...}@st <offsets>``: start timestamps for the next series line."""
    head = line.split(" ", 1)[0] if "}" not in line else line[:line.index("}") + 4]
    return head.rstrip().endswith("@st")


def parse_st_offsets(text: str) -> list[int | None]:
    """Offsets (ms, relative to each sample's time; ``None`` for ``_``) of an @st line."""
    offs: list[int | None] = []
    for item in text.split():
        if item == "_":
            offs.append(None)
            continue
        m = re.fullmatch(r"_x(\d+)", item)
        if m:
            offs.extend([None] * int(m.group(1)))
            continue
        m = _ST_ITEM.match(item)
        if not m:
            raise ValueError(f"invalid ST item {item!r}")
        base = _signed_ms(m.group("base"))
        step = parse_duration_ms(m.group("step")) if m.group("step") else 0
        if m.group("sign") == "-":
            step = -step
        if m.group("n") is None:
            if m.group("step"):
                raise ValueError(f"expected 'x<count>' after step duration in {item!r}")
            offs.append(base)
        else:
            offs.extend(base + step * i for i in range(int(m.group("n")) + 1))
    return offs


def _signed_ms(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    return 0 if body == "0" else sign * parse_duration_ms(body)


def _matches(how: str | None, what: str | None, text: str) -> bool:
    if how == "msg":
        return text == what
    if how == "regex" and what is not None:
        return re.search(what, text) is not None
    return True  # a bare ``expect warn`` matches any annotation of its kind


def check_annotations(expects: list[tuple[str, str | None, str | None]],
                      warnings: list[str], infos: list[str]) -> str | None:
    """Upstream promqltest rules: every expected annotation must be produced, and once a
    kind is expected every produced annotation of that kind must match an expectation;
    ``no_warn``/``no_info`` forbid the kind altogether."""
    for kind, pool in (("warn", warnings), ("info", infos)):
        wanted = [(how, what) for k, how, what in expects if k == kind]
        if any(k == "no_" + kind for k, _, _ in expects) and pool:
            return f"unexpected {kind} annotations: {pool}"
        if not wanted:
            continue
        if not pool:
            return f"expected {kind} annotations but none were found"
        for how, what in wanted:
            if not any(_matches(how, what, p) for p in pool):
                return f"expected {kind} annotation matching {what!r}, found: {pool}"
        for p in pool:
            if not any(_matches(how, what, p) for how, what in wanted):
                return f"unexpected {kind} annotation {p!r}"
    return None


