"""Local sinks: a stream (stdout/stderr) and an in-memory list for tests, and the
background flusher the file sink uses (WARNING and above, and everything after SIGTERM,
is flushed at once, so a crash loses at most one interval of low-level lines).
"""

from __future__ import annotations

import collections
import contextlib
import io
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

    def after_fork(self) -> None:
        """In a forked child: a new lock and, if sinks are registered, a new thread."""
        self._lock = threading.Lock()
        self._thread = None
        if self._sinks:
            self._thread = threading.Thread(target=self._run, name="watchkeeper-log-flush",
                                            daemon=True)
            self._thread.start()

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
    """JSON lines or console lines to stdout/stderr, written by a background thread.

    The caller only appends to a bounded queue: a stdout pipe nobody reads (a stuck log
    collector, a test harness) makes lines drop — counted like a shipper's — instead of
    blocking the application. The writer wakes every ``flush_interval`` and at once for
    WARNING and above (and for every line after SIGTERM).

    Args:
        stream: ``"stdout"``/``"stderr"`` or a text/binary stream.
        console: human-readable lines instead of JSON.
        colour: ANSI colours in console mode.
        flush_interval: seconds between writes; 0 writes synchronously on the caller.
        max_pending: lines held while the stream is blocked; the oldest drop first.
        count_drops: called with (sink name, count) when lines are dropped.
    """

    def __init__(
        self,
        stream: str | IO[Any] = "stdout",
        *,
        console: bool = False,
        colour: bool = False,
        min_level: int = 0,
        flush_interval: float = 0.2,
        max_pending: int = 10_000,
        count_drops: Callable[[str, int], None] | None = None,
        name: str | None = None,
    ) -> None:
        self.name = name or (stream if isinstance(stream, str) else "stream")
        self.min_level = min_level
        self.console = console
        self.colour = colour
        self.flush_interval = flush_interval
        self.max_pending = max_pending
        self.dropped = 0
        self._count_drops = count_drops
        # A named stream is looked up at each write: sys.stdout may be replaced after
        # configure() (pytest's capture, a server redirecting output).
        self._stream_name = stream if isinstance(stream, str) else None
        self._fixed: Any = None if isinstance(stream, str) else stream
        # Encoded lines, each run preceded by the stream it goes to (see write()).
        self._pending: collections.deque[Any] = collections.deque(maxlen=max_pending)
        self._target: Any = None
        self._writer_target: Any = None
        self._wake = threading.Event()
        self._stopped = False
        self._io_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        if flush_interval > 0:
            self._thread = threading.Thread(target=self._run, daemon=True,
                                            name=f"watchkeeper-log-{self.name}")
            self._thread.start()

    def _current(self) -> Any:
        return self._fixed if self._stream_name is None else getattr(sys, self._stream_name)

    @staticmethod
    def _write(target: Any, data: bytes) -> None:
        binary = getattr(target, "buffer", None)
        if binary is not None:
            # Text printed earlier through the text layer must not come out after us.
            target.flush()
            binary.write(data)
            binary.flush()
        elif isinstance(target, io.RawIOBase | io.BufferedIOBase):
            target.write(data)
            target.flush()
        else:  # a text stream without a buffer (StringIO)
            target.write(data.decode("utf-8", "replace"))
            target.flush()

    def write(self, entry: Entry) -> None:
        line = console_line(entry.record, colour=self.colour) if self.console else entry.line
        if self._thread is None:
            with self._io_lock:
                self._write(self._current(), line)
            return
        pending = self._pending
        if len(pending) >= self.max_pending:
            self._drop(1)
        # Lines go to the stream current when they were logged (sys.stdout may be swapped
        # later): a switch is queued as the stream object itself, ahead of its lines. The
        # lines are queued as bare bytes, which the garbage collector never tracks (a
        # tuple holding the stream would be tracked and promoted with every line).
        name = self._stream_name
        target = self._fixed if name is None else getattr(sys, name)
        if target is not self._target:
            self._target = target
            pending.append(target)
        pending.append(line)
        if (entry.level >= 30 or flusher.every_line) and not self._wake.is_set():
            self._wake.set()

    def _drop(self, count: int) -> None:
        self.dropped += count
        if self._count_drops is not None:
            with contextlib.suppress(Exception):
                self._count_drops(self.name, count)

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            self._write_pending()
        self._write_pending()

    def _write_pending(self) -> None:
        pending = self._pending
        with self._io_lock:
            chunk: list[bytes] = []
            while True:
                try:
                    item = pending.popleft()
                except IndexError:
                    break
                if type(item) is bytes:
                    chunk.append(item)
                    if len(chunk) >= 512:
                        self._write_chunk(chunk)
                        chunk = []
                else:  # a stream switch: the lines before it go to the previous stream
                    if chunk:
                        self._write_chunk(chunk)
                        chunk = []
                    self._writer_target = item
            if chunk:
                self._write_chunk(chunk)

    def _write_chunk(self, chunk: list[bytes]) -> None:
        target = self._writer_target
        if target is None:  # a switch precedes the first line; this is a safety net
            target = self._current()
        try:
            self._write(target, b"".join(chunk))
        except (OSError, ValueError):  # closed or broken pipe: nothing to do
            self._drop(len(chunk))

    def flush(self, timeout: float = 1.0) -> None:
        """Have the writer write everything pending; wait up to ``timeout`` for it."""
        if self._thread is None:
            return
        self._wake.set()
        end = time.monotonic() + timeout
        while self._pending and time.monotonic() < end:
            time.sleep(0.001)
        # The last chunk may still be in the write call.
        if self._io_lock.acquire(timeout=max(0.0, end - time.monotonic())):
            self._io_lock.release()

    def after_fork(self) -> None:
        """In a forked child: lines pending at the fork are the parent's to write; the
        writer thread did not survive the fork and its lock may be held."""
        self._pending.clear()
        self._target = None  # the child's first line queues its stream again
        self._io_lock = threading.Lock()
        self._wake = threading.Event()
        if self._thread is not None and not self._stopped:
            self._thread = threading.Thread(target=self._run, daemon=True,
                                            name=f"watchkeeper-log-{self.name}")
            self._thread.start()

    def close(self, timeout: float) -> None:
        """Stop the writer after it wrote what is pending (bounded by ``timeout``)."""
        self._stopped = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)


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
