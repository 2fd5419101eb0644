"""A file sink that rotates by size and by time, keeps N files and expires old ones.

Rotated files are named ``<file>.<UTC time>`` (sortable), so "keep N" and "older than
the retention" are decided from names and modification times alone. A separate error
file is just a second sink with ``min_level=ERROR`` and its own retention, which is how
per-level retention (ERROR 30 d, INFO 7 d, ...) is expressed.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import IO, Any

from ._pipeline import Entry
from ._sinks import flusher

__all__ = ["FileSink"]


class FileSink:
    """Append JSON lines to ``path``; rotate at ``max_bytes`` or every ``rotate_every``.

    Args:
        path: the active file; its directory is created.
        max_bytes: rotate when the file would grow past this (0: never by size).
        rotate_every: seconds between time-based rotations, aligned to UTC epoch
            multiples (86400 rotates at midnight UTC); 0 disables.
        keep: rotated files kept (newest first); 0 keeps none.
        retention: rotated files older than this many seconds are deleted (0: no limit).
        min_level: lowest level written.
        flush_interval: background flush period; WARNING+ is flushed at once.
        clock: injectable time source (tests).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_bytes: int = 5 * 1024 * 1024,
        rotate_every: float = 0.0,
        keep: int = 5,
        retention: float = 0.0,
        min_level: int = 0,
        flush_interval: float = 0.2,
        name: str | None = None,
        clock: Any = time.time,
    ) -> None:
        self.path = Path(path)
        self.name = name or f"file:{self.path.name}"
        self.min_level = min_level
        self.max_bytes = max_bytes
        self.rotate_every = rotate_every
        self.keep = keep
        self.retention = retention
        self.flush_interval = flush_interval
        self._clock = clock
        # Re-entrant: the SIGTERM handler may close the sink while the interrupted main
        # thread is inside write().
        self._lock = threading.RLock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[bytes] = open(self.path, "ab", buffering=1 << 16)  # noqa: SIM115
        self._size = self.path.stat().st_size
        self._next_rollover = self._compute_next(clock())
        self._plain = not max_bytes and rotate_every <= 0
        self._flush_level = 30 if flush_interval > 0 else 0
        self._expire()
        if flush_interval > 0:
            flusher.add(self, flush_interval)

    def _compute_next(self, now: float) -> float:
        if self.rotate_every <= 0:
            return float("inf")
        return (now // self.rotate_every + 1) * self.rotate_every

    def write(self, entry: Entry) -> None:
        line = entry.line
        if self._plain:
            # No rotation: the buffered file is thread-safe on its own; skip our lock.
            # Lines collect in the 64 KiB buffer; WARNING and above (everything, after
            # SIGTERM or with flush_interval 0) go out at once, the rest within one
            # flush interval (the flusher thread) or at close (atexit, SIGTERM, reset).
            self._file.write(line)
            if entry.level >= self._flush_level or flusher.every_line:
                self._file.flush()
            return
        with self._lock:
            if (self.max_bytes and self._size and self._size + len(line) > self.max_bytes) or (
                entry.time >= self._next_rollover
            ):
                self._rotate(entry.time)
            self._file.write(line)
            self._size += len(line)
            if entry.level >= self._flush_level or flusher.every_line:
                self._file.flush()

    def _rotate(self, now: float) -> None:
        self._file.close()
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now))
        target = self.path.with_name(f"{self.path.name}.{stamp}")
        n = 0
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.{stamp}.{n:03d}")
        if self._size:
            os.replace(self.path, target)
        self._file = open(self.path, "ab", buffering=1 << 16)  # noqa: SIM115
        self._size = 0
        self._next_rollover = self._compute_next(now)
        self._expire()

    def rotated(self) -> list[Path]:
        """Rotated files, newest first."""
        prefix = self.path.name + "."
        found = [p for p in self.path.parent.iterdir() if p.name.startswith(prefix)]
        return sorted(found, key=lambda p: p.name, reverse=True)

    def _expire(self) -> None:
        files = self.rotated()
        cutoff = self._clock() - self.retention if self.retention > 0 else None
        for index, file in enumerate(files):
            try:
                if index >= self.keep or (cutoff is not None and file.stat().st_mtime < cutoff):
                    file.unlink()
            except OSError:
                pass

    def after_fork(self) -> None:
        """In a forked child: the lock may have been held by a thread that is gone. (The
        buffer was flushed before the fork, so no line is written twice.)"""
        self._lock = threading.RLock()

    def flush(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()

    def close(self, timeout: float) -> None:
        flusher.discard(self)
        with self._lock:
            if not self._file.closed:
                self._file.flush()
                self._file.close()
