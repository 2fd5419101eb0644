"""The notification log: what was last sent per group and integration, persisted on disk.

The dedup stage reads it to avoid sending the same notification twice; every successful
send appends one fsync'ed line *before* the pipeline moves on, so a restart (even after
``kill -9``) neither repeats a sent notification nor forgets an unsent one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from ._persist import atomic_write, fsync_append

__all__ = ["NflogEntry", "NotificationLog"]

RETENTION = timedelta(hours=120)


@dataclass(frozen=True, slots=True)
class NflogEntry:
    group_key: str
    receiver: str
    integration: str
    idx: int
    timestamp: datetime
    firing: frozenset[int]
    resolved: frozenset[int]
    expires_at: datetime

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.group_key, self.receiver, self.integration, self.idx)

    def to_json(self) -> bytes:
        return orjson.dumps({
            "g": self.group_key, "r": self.receiver, "i": self.integration, "x": self.idx,
            "t": self.timestamp.timestamp(), "f": sorted(self.firing),
            "s": sorted(self.resolved), "e": self.expires_at.timestamp(),
        })

    @classmethod
    def from_json(cls, raw: bytes) -> NflogEntry:
        d = orjson.loads(raw)
        return cls(d["g"], d["r"], d["i"], int(d["x"]),
                   datetime.fromtimestamp(d["t"], UTC), frozenset(d["f"]), frozenset(d["s"]),
                   datetime.fromtimestamp(d["e"], UTC))


class NotificationLog:
    """In-memory index of the newest entry per key, backed by an append-only file."""

    def __init__(self, path: str | Path | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self._path = Path(path) if path is not None else None
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str, str, int], NflogEntry] = {}
        if self._path is not None and self._path.exists():
            self._load()

    def _load(self) -> None:
        assert self._path is not None
        lines = 0
        for raw in self._path.read_bytes().splitlines():
            if not raw.strip():
                continue
            lines += 1
            try:
                entry = NflogEntry.from_json(raw)
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                continue  # a torn last line after a crash
            self._entries[entry.key] = entry
        self._drop_expired()
        if lines > len(self._entries):
            self._compact()

    def _compact(self) -> None:
        assert self._path is not None
        data = b"".join(e.to_json() + b"\n" for e in self._entries.values())
        atomic_write(self._path, data)

    def _drop_expired(self) -> None:
        now = self._clock()
        for key in [k for k, e in self._entries.items() if e.expires_at < now]:
            del self._entries[key]

    def query(self, group_key: str, receiver: str, integration: str, idx: int) -> NflogEntry | None:
        with self._lock:
            return self._entries.get((group_key, receiver, integration, idx))

    def log(self, group_key: str, receiver: str, integration: str, idx: int,  # noqa: PLR0917
            firing: frozenset[int], resolved: frozenset[int], now: datetime) -> NflogEntry:
        entry = NflogEntry(group_key, receiver, integration, idx, now, firing, resolved,
                           now + RETENTION)
        with self._lock:
            if self._path is not None:
                fsync_append(self._path, entry.to_json() + b"\n")
            self._entries[entry.key] = entry
        return entry

    def entries(self) -> list[NflogEntry]:
        with self._lock:
            return list(self._entries.values())

    def gc(self) -> None:
        with self._lock:
            self._drop_expired()
            if self._path is not None:
                self._compact()
