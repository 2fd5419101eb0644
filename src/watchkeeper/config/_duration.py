"""Prometheus duration strings (``15s``, ``1m30s``, ``1.5``) as seconds.

Every duration setting in watchkeeper accepts the Prometheus form and plain seconds, so
the same values can be copied between watchkeeper, Prometheus and Alertmanager files.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BeforeValidator

__all__ = ["Duration", "format_duration", "parse_duration"]

_UNITS_MS = {"y": 365 * 86_400_000, "w": 7 * 86_400_000, "d": 86_400_000, "h": 3_600_000,
             "m": 60_000, "s": 1000, "ms": 1}
_ORDER = ["y", "w", "d", "h", "m", "s", "ms"]
_PART = re.compile(r"(\d+)(ms|y|w|d|h|m|s)")


def parse_duration_ms(text: str) -> int:
    """Parse a Prometheus duration string into integer milliseconds.

    Units must appear largest first and at most once each (``1h30m``, not ``30m1h``),
    exactly as Prometheus' ``model.ParseDuration`` demands.

    Raises:
        ValueError: naming the text and what is wrong with it.
    """
    if text == "0":
        return 0
    if not text:
        raise ValueError("empty duration string")
    pos = 0
    last_rank = -1
    total = 0
    while pos < len(text):
        match = _PART.match(text, pos)
        if match is None:
            raise ValueError(f"not a valid duration string: {text!r}")
        rank = _ORDER.index(match.group(2))
        if rank <= last_rank:
            raise ValueError(f"not a valid duration string: {text!r} (units out of order)")
        last_rank = rank
        total += int(match.group(1)) * _UNITS_MS[match.group(2)]
        pos = match.end()
    return total


def parse_duration(value: object) -> float:
    """Seconds from a Prometheus duration string or a plain number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            seconds = float(text)
        except ValueError:
            seconds = parse_duration_ms(text) / 1000.0
    else:
        raise ValueError(f"not a duration: {value!r} (use e.g. '15s', '1m30s' or seconds)")
    if math.isnan(seconds) or seconds < 0 or math.isinf(seconds):
        raise ValueError(f"duration must be a finite number of seconds >= 0, got {value!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """Render seconds the way Prometheus prints durations (``1h30m``, ``500ms``, ``0s``)."""
    ms = round(seconds * 1000)
    if ms == 0:
        return "0s"
    out = []
    for unit in _ORDER:
        size = _UNITS_MS[unit]
        count, ms = divmod(ms, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)


def _validate(value: Any) -> float:
    return parse_duration(value)


Duration = Annotated[float, BeforeValidator(_validate)]
"""A settings field holding seconds, written as ``15s``/``1m30s`` or plain seconds."""
