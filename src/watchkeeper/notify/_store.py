"""The alert store: merges repeated reports of an alert and persists the set on disk."""

from __future__ import annotations

import builtins
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from ..rules._alert import Alert, format_time, parse_time
from ._persist import atomic_write, fsync_append

__all__ = ["AlertStore", "alert_from_json", "alert_to_json"]


def alert_to_json(a: Alert) -> dict[str, Any]:
    return {
        "labels": dict(a.labels), "annotations": dict(a.annotations),
        "startsAt": format_time(a.starts_at),
        "endsAt": format_time(a.ends_at) if a.ends_at is not None else None,
        "generatorURL": a.generator_url, "updatedAt": format_time(a.updated_at),
        "timeout": a.timeout,
    }


def alert_from_json(d: dict[str, Any]) -> Alert:
    return Alert(
        labels=dict(d["labels"]), annotations=dict(d.get("annotations") or {}),
        starts_at=parse_time(d["startsAt"]),
        ends_at=parse_time(d["endsAt"]) if d.get("endsAt") else None,
        generator_url=d.get("generatorURL", ""), updated_at=parse_time(d["updatedAt"]),
        timeout=bool(d.get("timeout", False)),
    )


class AlertStore:
    """Alerts by fingerprint. Resolved alerts stay until :meth:`gc` (like Alertmanager)."""

    def __init__(self, path: str | Path | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self._path = Path(path) if path is not None else None
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._alerts: dict[int, Alert] = {}
        self._lines = 0
        if self._path is not None and self._path.exists():
            for raw in self._path.read_bytes().splitlines():
                try:
                    a = alert_from_json(orjson.loads(raw))
                except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                    continue
                self._alerts[a.fingerprint] = a
                self._lines += 1
            self._compact()

    def _compact(self) -> None:
        if self._path is None:
            return
        data = b"".join(orjson.dumps(alert_to_json(a)) + b"\n" for a in self._alerts.values())
        atomic_write(self._path, data)
        self._lines = len(self._alerts)

    def put(self, alerts: Iterable[Alert]) -> builtins.list[Alert]:
        """Merge and store; returns the stored (merged) versions, in input order."""
        out = []
        now = self._clock()
        with self._lock:
            for new in alerts:
                fp = new.fingerprint
                old = self._alerts.get(fp)
                if old is not None and old.ends_at is not None and (
                    (new.ends_at is not None and old.starts_at < new.ends_at < old.ends_at)
                    or (old.starts_at < new.starts_at < old.ends_at)
                ):
                    new = old.merge(new, now)  # noqa: PLW2901
                self._alerts[fp] = new
                out.append(new)
            if self._path is not None and out:
                fsync_append(self._path, b"".join(
                    orjson.dumps(alert_to_json(a)) + b"\n" for a in out))
                self._lines += len(out)
                if self._lines > 4 * max(len(self._alerts), 256):
                    self._compact()
        return out

    def get(self, fp: int) -> Alert | None:
        return self._alerts.get(fp)

    def list(self) -> list[Alert]:
        with self._lock:
            return list(self._alerts.values())

    def __len__(self) -> int:
        return len(self._alerts)

    def gc(self, keep: timedelta = timedelta(0)) -> builtins.list[Alert]:
        """Drop alerts resolved more than ``keep`` ago; returns them."""
        now = self._clock()
        with self._lock:
            gone = [a for a in self._alerts.values() if a.resolved_at(now - keep)]
            for a in gone:
                del self._alerts[a.fingerprint]
            if gone:
                self._compact()
        return gone
