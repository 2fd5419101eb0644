"""The plain alert record that flows through the notification pipeline."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

__all__ = [
    "ZERO_TIME",
    "Alert",
    "alert_sort_key",
    "fingerprint",
    "format_time",
    "labelset_string",
    "parse_time",
]

_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_MASK = (1 << 64) - 1
_SEP = 0xFF

#: Go's zero ``time.Time``; Alertmanager uses it for "no end time".
ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)


def fingerprint(labels: Mapping[str, str]) -> int:
    """The 64-bit FNV-1a label-set fingerprint, exactly as Prometheus' ``model`` computes it."""
    h = _FNV_OFFSET
    for name in sorted(labels):
        for part in (name, labels[name]):
            for byte in part.encode():
                h = ((h ^ byte) * _FNV_PRIME) & _MASK
            h = ((h ^ _SEP) * _FNV_PRIME) & _MASK
    return h


def labelset_string(labels: Mapping[str, str]) -> str:
    """``{a="1", b="2"}`` - Go's ``model.LabelSet.String()`` (sorted, ``%q`` quoted)."""
    return "{" + ", ".join(f"{k}={go_quote(labels[k])}" for k in sorted(labels)) + "}"


def go_quote(value: str) -> str:
    """Go's ``%q`` for the printable strings labels hold."""
    out = ['"']
    for ch in value:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def format_time(value: datetime) -> str:
    """RFC 3339 with nanosecond-style trimming, as Go's ``time.Time`` marshals to JSON."""
    value = value.astimezone(UTC)
    base = (f"{value.year:04d}-{value.month:02d}-{value.day:02d}T"
            f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}")
    if value.microsecond:
        base += "." + f"{value.microsecond:06d}".rstrip("0")
    return base + "Z"


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (``Z`` or offset; fractions up to nanoseconds)."""
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    if "." in text:
        head, _, rest = text.partition(".")
        digits = ""
        i = 0
        while i < len(rest) and rest[i].isdigit():
            i += 1
        digits, tail = rest[:i], rest[i:]
        text = head + ("." + (digits + "000000")[:6] if digits else "") + tail
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert as Alertmanager sees it.

    ``ends_at`` is ``None`` while the alert has no known end; ``timeout`` marks an end time
    that was filled in from ``resolve_timeout`` rather than sent by the client.
    """

    labels: Mapping[str, str]
    annotations: Mapping[str, str] = field(default_factory=dict)
    starts_at: datetime = ZERO_TIME
    ends_at: datetime | None = None
    generator_url: str = ""
    updated_at: datetime = ZERO_TIME
    timeout: bool = False
    _fp: int = field(default=-1, init=False, repr=False, compare=False)

    @property
    def fingerprint(self) -> int:
        # Cached: the pure-Python FNV-1a hash is the hottest call when routing 10k alerts.
        fp = self._fp
        if fp < 0:
            fp = fingerprint(self.labels)
            object.__setattr__(self, "_fp", fp)
        return fp

    @property
    def fingerprint_hex(self) -> str:
        return f"{self.fingerprint:016x}"

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")

    def resolved_at(self, now: datetime) -> bool:
        return self.ends_at is not None and self.ends_at != ZERO_TIME and self.ends_at <= now

    def status(self, now: datetime) -> str:
        return "resolved" if self.resolved_at(now) else "firing"

    def with_(self, **changes: object) -> Alert:
        return replace(self, **changes)  # type: ignore[arg-type]

    def merge(self, newer: Alert, now: datetime) -> Alert:
        """Alertmanager's ``Alert.Merge``: combine two reports of the same alert."""
        a, o = self, newer
        if o.updated_at < a.updated_at:
            a, o = o, a
        starts = min(a.starts_at, o.starts_at)
        ends = o.ends_at
        if o.resolved_at(now):
            if a.resolved_at(now) and a.ends_at is not None and o.ends_at is not None \
                    and a.ends_at > o.ends_at:
                ends = a.ends_at
        elif (a.ends_at is not None and (o.ends_at is None or a.ends_at > o.ends_at)
              and not a.timeout):
            ends = a.ends_at
        return replace(o, starts_at=starts, ends_at=ends)


def _labels_before(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    if len(a) != len(b):
        return len(a) < len(b)
    for name in sorted(set(a) | set(b)):
        if name not in a:
            return True
        if name not in b:
            return False
        if a[name] != b[name]:
            return a[name] < b[name]
    return False


class _SortKey:
    __slots__ = ("labels",)

    def __init__(self, labels: Mapping[str, str]) -> None:
        self.labels = labels

    def __lt__(self, other: _SortKey) -> bool:
        for key in ("job", "instance"):
            a, b = self.labels.get(key), other.labels.get(key)
            if a is None and b is None:
                continue
            if a is None:
                return False
            if b is None:
                return True
            if a != b:
                return a < b
        return _labels_before(self.labels, other.labels)


def alert_sort_key(alert: Alert) -> _SortKey:
    """Sort key giving Alertmanager's ``AlertSlice`` order (job, instance, then labels)."""
    return _SortKey(alert.labels)


def sorted_alerts(alerts: Iterable[Alert]) -> list[Alert]:
    return sorted(alerts, key=alert_sort_key)
