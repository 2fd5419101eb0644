"""Alertmanager's template functions, on top of the Go builtins in ``_gotemplate``."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from .._gotemplate import BUILTIN_FUNCS, TEXT_FUNCS, go_float, go_str

__all__ = ["ALERTMANAGER_FUNCS", "go_float"]


def _human_duration(v: Any) -> str:
    seconds = float(v)
    if seconds == 0 or math.isnan(seconds):
        return f"{go_float(seconds)}s"
    if abs(seconds) >= 1:
        sign = "-" if seconds < 0 else ""
        s = abs(seconds)
        days, s = divmod(s, 86400)
        hours, s = divmod(s, 3600)
        minutes, s = divmod(s, 60)
        secs = int(s)
        if days:
            return f"{sign}{int(days)}d {int(hours)}h {int(minutes)}m {secs}s"
        if hours:
            return f"{sign}{int(hours)}h {int(minutes)}m {secs}s"
        if minutes:
            return f"{sign}{int(minutes)}m {secs}s"
        return f"{sign}{go_float(round(s, 3))}s"
    for prefix, scale in (("m", 1e3), ("u", 1e6), ("n", 1e9)):
        value = seconds * scale
        if abs(value) >= 1 or prefix == "n":
            return f"{go_float(round(value, 3))}{prefix}s"
    return f"{seconds}s"


def _as_time(t: Any) -> datetime:
    if isinstance(t, datetime):
        return t
    return datetime.fromtimestamp(float(t), UTC)


_GO_LAYOUT = [("2006", "%Y"), ("01", "%m"), ("02", "%d"), ("15", "%H"), ("04", "%M"),
              ("05", "%S"), ("Jan", "%b"), ("Mon", "%a"), ("MST", "%Z"), ("-0700", "%z")]


def _date(layout: str, t: Any) -> str:
    fmt = layout
    for go, py in _GO_LAYOUT:
        fmt = fmt.replace(go, py)
    return _as_time(t).strftime(fmt)


ALERTMANAGER_FUNCS: dict[str, Callable[..., Any]] = {
    **BUILTIN_FUNCS,
    **TEXT_FUNCS,
    "trimSpace": lambda s: str(s).strip(),
    "join": lambda sep, items: str(sep).join(go_str(i) for i in items),
    "stringSlice": lambda *s: [str(x) for x in s],
    "date": _date,
    "tz": lambda name, t: _as_time(t).astimezone(ZoneInfo(str(name))),
    "since": lambda t: (datetime.now(UTC) - _as_time(t)).total_seconds(),
    "humanizeDuration": _human_duration,
    "toJson": lambda v: json.dumps(v, default=str),
}
