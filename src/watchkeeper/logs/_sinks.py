"""Local sinks: a stream (stdout/stderr) and an in-memory list for tests.

Streams are written through their binary buffer and flushed by one background thread
every ``flush_interval``; WARNING and above, and everything after SIGTERM, is flushed
at once, so a crash loses at most one interval of low-level lines.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
import weakref
from collections.abc import Callable
from typing import IO, Any

from ._format import console_line
from ._pipeline import Entry

__all__ = ["MemorySink", "StreamSink", "flush_every_line", "flusher"]


class _Flusher:
    """One daemon thread flushing every registered buffered sink periodically."""

    def __init__(self) -> None:
        self._sinks: weakref.WeakSet[Any] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.interval = 0.2
        self.every_line = False

    def add(self, sink: Any, interval: float) -> None:
        with self._lock:
            self._sinks.add(sink)
            self.interval = min(self.interval, interval) if self._sinks else interval
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="watchkeeper-log-flush",
                                                daemon=True)
                self._thread.start()

    def discard(self, sink: Any) -> None:
        with self._lock:
            self._sinks.discard(sink)

    def flush_all(self) -> None:
        for sink in list(self._sinks):
            with contextlib.suppress(Exception):
                sink.flush()

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            self.flush_all()


flusher = _Flusher()


def flush_every_line() -> None:
    """From now on, buffered sinks flush after each line (set when SIGTERM arrives)."""
    flusher.every_line = True
    flusher.flush_all()


class StreamSink:
    """JSON lines or console lines to a text stream's binary buffer (default stdout).

    Args:
        stream: a text stream with ``.buffer`` or a binary stream; resolved lazily from
            ``sys.stdout``/``sys.stderr`` when given as ``"stdout"``/``"stderr"``.
        console: human-readable lines instead of JSON.
        colour: ANSI colours in console mode.
        flush_interval: seconds between background flushes; 0 flushes every line.
    """

    def __init__(
        self,
        stream: str | IO[Any] = "stdout",
        *,
        console: bool = False,
        colour: bool = False,
        min_level: int = 0,
        flush_interval: float = 0.2,
        name: str | None = None,
    ) -> None:
        self.name = name or (stream if isinstance(stream, str) else "stream")
        self.min_level = min_level
        self.console = console
        self.colour = colour
        self.flush_interval = flush_interval
        target: Any = getattr(sys, stream) if isinstance(stream, str) else stream
        binary = getattr(target, "buffer", None)
        if binary is not None:
            # Text printed earlier must not come out after our bytes.
            target.flush()
        self._write: Callable[[bytes], Any] = (binary.write if binary is not None
                                               else target.write)
        self._flush: Callable[[], Any] = (binary.flush if binary is not None
                                          else target.flush)
        if flush_interval > 0:
            flusher.add(self, flush_interval)

    def write(self, entry: Entry) -> None:
        line = console_line(entry.record, colour=self.colour) if self.console else entry.line
        self._write(line)
        if entry.level >= 30 or self.flush_interval <= 0 or flusher.every_line:
            self._flush()

    def flush(self) -> None:
        with contextlib.suppress(ValueError):  # closed by the host at exit
            self._flush()

    def close(self, timeout: float) -> None:
        flusher.discard(self)
        self.flush()


class MemorySink:
    """Keeps entries in a list (the pytest helper and tests)."""

    def __init__(self, *, min_level: int = 0, name: str = "memory") -> None:
        self.name = name
        self.min_level = min_level
        self.entries: list[Entry] = []
        self._lock = threading.Lock()

    def write(self, entry: Entry) -> None:
        with self._lock:
            self.entries.append(entry)

    def flush(self) -> None:
        pass

    def close(self, timeout: float) -> None:
        pass
