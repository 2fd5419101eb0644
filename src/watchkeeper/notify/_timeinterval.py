"""Time intervals (``time_intervals`` / ``mute_time_intervals``) with Alertmanager's rules."""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["TimeInterval", "parse_time_interval"]

_DAYS = {name: i for i, name in enumerate(
    ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"])}
_MONTHS = {name: i + 1 for i, name in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august",
     "september", "october", "november", "december"])}
_TIME_RE = re.compile(r"^((([01][0-9])|(2[0-3])):[0-5][0-9])$|(^24:00$)")


@dataclass(frozen=True, slots=True)
class TimeInterval:
    """One interval; every set field must contain the instant (fields are ANDed)."""

    times: tuple[tuple[int, int], ...] | None = None
    weekdays: tuple[tuple[int, int], ...] | None = None
    days_of_month: tuple[tuple[int, int], ...] | None = None
    months: tuple[tuple[int, int], ...] | None = None
    years: tuple[tuple[int, int], ...] | None = None
    location: str | None = None

    def contains(self, t: datetime) -> bool:
        if self.location == "Local":
            t = t.astimezone()
        elif self.location is not None:
            t = t.astimezone(ZoneInfo(self.location))
        if self.times is not None:
            minute = t.hour * 60 + t.minute
            if not any(a <= minute < b for a, b in self.times):
                return False
        if self.days_of_month is not None:
            days = calendar.monthrange(t.year, t.month)[1]
            hit = False
            for begin, end in self.days_of_month:
                b = days + begin + 1 if begin < 0 else begin
                e = days + end + 1 if end < 0 else end
                if b > days:
                    continue
                b, e = max(-days, min(b, days)), max(-days, min(e, days))
                if b <= t.day <= e:
                    hit = True
                    break
            if not hit:
                return False
        if self.months is not None and not any(a <= t.month <= b for a, b in self.months):
            return False
        weekday = (t.weekday() + 1) % 7  # Go: Sunday == 0
        if self.weekdays is not None and not any(a <= weekday <= b for a, b in self.weekdays):
            return False
        return self.years is None or any(a <= t.year <= b for a, b in self.years)


def _member(text: str, names: dict[str, int] | None, what: str) -> int:
    if names is not None:
        if text in names:
            return names[text]
        if what == "day of the week":
            raise ValueError(f"{text} is not a valid weekday")
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{text} is not a valid {what}") from None


def _range(value: Any, names: dict[str, int] | None, what: str) -> tuple[int, int]:
    text = str(value).lower()
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 2:
            raise ValueError(f"couldn't parse range {text}, invalid format")
        return _member(parts[0], names, what), _member(parts[1], names, what)
    v = _member(text, names, what)
    return v, v


def _minutes(text: str) -> int:
    if not _TIME_RE.match(text):
        raise ValueError(f"couldn't parse timestamp {text}, invalid format")
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _list(raw: dict[str, Any], key: str) -> Sequence[Any] | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        raise ValueError(f"{key} must be a list")
    return value


def parse_time_interval(raw: Any) -> TimeInterval:
    """Build a :class:`TimeInterval` from its YAML mapping; raises ``ValueError``."""
    if not isinstance(raw, dict):
        raise ValueError("time interval must be a mapping")
    unknown = set(raw) - {"times", "weekdays", "days_of_month", "months", "years", "location"}
    if unknown:
        raise ValueError(f"field {sorted(unknown)[0]} not found in type timeinterval.plain")
    times = None
    if (items := _list(raw, "times")) is not None:
        out = []
        for item in items:
            if not isinstance(item, dict) or not item.get("start_time") or not item.get("end_time"):
                raise ValueError("both start and end times must be provided")
            start, end = _minutes(str(item["start_time"])), _minutes(str(item["end_time"]))
            if start >= end:
                raise ValueError("start time cannot be equal or greater than end time")
            out.append((start, end))
        times = tuple(out)
    weekdays = None
    if (items := _list(raw, "weekdays")) is not None:
        out = []
        for item in items:
            b, e = _range(item, _DAYS, "day of the week")
            if b > e:
                raise ValueError("start day cannot be before end day")
            if not (0 <= b <= 6 and 0 <= e <= 6):
                raise ValueError(f"{item} is not a valid day of the week: out of range")
            out.append((b, e))
        weekdays = tuple(out)
    dom = None
    if (items := _list(raw, "days_of_month")) is not None:
        out = []
        for item in items:
            b, e = _range(item, None, "day of the month")
            for v in (b, e):
                if v == 0 or v < -31 or v > 31:
                    raise ValueError(f"{v} is not a valid day of the month: out of range")
            if b < 0 < e:
                raise ValueError("end day must be negative if start day is negative")
            if (28 + b if b < 0 else b) > (28 + e if e < 0 else e):
                raise ValueError(f"end day {e} is always before start day {b}")
            out.append((b, e))
        dom = tuple(out)
    months = None
    if (items := _list(raw, "months")) is not None:
        out = []
        for item in items:
            b, e = _range(item, _MONTHS, "month")
            if not (1 <= b <= 12 and 1 <= e <= 12):
                raise ValueError(f"{item} is not a valid month: out of range")
            if b > e:
                raise ValueError("end month is before start month")
            out.append((b, e))
        months = tuple(out)
    years = None
    if (items := _list(raw, "years")) is not None:
        out = []
        for item in items:
            b, e = _range(item, None, "year")
            if b > e:
                raise ValueError("end year is before start year")
            out.append((b, e))
        years = tuple(out)
    location = raw.get("location")
    if location is not None and location != "Local":
        try:
            ZoneInfo(str(location))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {location!r}") from exc
    if location is not None:
        location = str(location)
    return TimeInterval(times, weekdays, dom, months, years, location)
