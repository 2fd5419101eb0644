"""The non-blocking shipper base every network sink builds on.

The caller's cost is one ``deque.append`` of a tuple: records queue in a bounded deque (the oldest
is dropped when full, and counted), and one daemon thread per sink batches them by size
and time, sends, and retries failures with exponential backoff and full jitter. A sink
that refuses or hangs therefore never slows the application; it only drops, visibly:
``watchkeeper_log_records_dropped_total{sink}`` and one WARNING per interval.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import orjson

from ._pipeline import Entry

__all__ = ["DropCounter", "PermanentError", "Shipped", "Shipper", "registry_drop_counter"]


class Shipped:
    """One record in a batch handed to :meth:`Shipper.send`: the encoded line, its level
    and time — not the record dict (a backed-up queue stays small)."""

    __slots__ = ("level", "line", "time")

    def __init__(self, when: float, level: int, line: bytes) -> None:
        self.time = when
        self.level = level
        self.line = line

    @property
    def record(self) -> dict[str, Any]:
        """The record, parsed back from the line (for sinks that need fields)."""
        value: dict[str, Any] = orjson.loads(self.line)
        return value


class PermanentError(Exception):
    """A batch the receiver rejected for good (bad request): dropped, not retried."""


DropCounter: TypeAlias = Callable[[str, int], None]
"""Called with (sink name, records dropped)."""


def registry_drop_counter(registry: Any) -> DropCounter:
    """Count drops in a metrics registry (``watchkeeper.metrics.Registry`` or alike)."""
    family = registry.counter(
        "watchkeeper_log_records_dropped_total",
        "Log records dropped by a shipping sink (queue full, retries exhausted, shutdown).",
        ("sink",),
    )

    def count(sink: str, n: int) -> None:
        family.labels(sink).inc(n)

    return count


class Shipper:
    """Base class: subclasses implement :meth:`send` (raise to retry).

    Args:
        name: the ``sink`` label of the drop metric.
        queue_size: records held while the receiver is slow or down.
        batch_size: a batch is sent as soon as this many records wait.
        batch_interval: ...or when the oldest waiting record is this old (seconds).
        max_retries: attempts after the first before a batch is dropped.
        backoff_initial / backoff_max: retry delays grow as ``initial * 2**n`` up to
            ``max``, each multiplied by a random factor in [0.5, 1) (jitter).
        drop_warning_interval: at most one WARNING about drops per this many seconds.
        count_drops: where drop counts go (the metrics registry in production).
        warn: how the drop WARNING is written (the pipeline's own logger).
    """

    def __init__(
        self,
        name: str,
        *,
        min_level: int = 0,
        queue_size: int = 10_000,
        batch_size: int = 500,
        batch_interval: float = 1.0,
        max_retries: int = 5,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        drop_warning_interval: float = 60.0,
        count_drops: DropCounter | None = None,
        warn: Callable[[str, dict[str, Any]], None] | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.name = name
        self.min_level = min_level
        self.queue_size = queue_size
        self.batch_size = batch_size
        self.batch_interval = batch_interval
        self.max_retries = max_retries
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.drop_warning_interval = drop_warning_interval
        self._count_drops = count_drops
        self._warn = warn
        self._rng = rng
        # Plain (time, level, line) tuples: the garbage collector stops tracking a tuple
        # of atoms after one pass, so a backed-up queue (a dead receiver) adds nothing to
        # later collections — and a tuple is cheaper to build on the caller than an object.
        self._queue: collections.deque[tuple[float, int, bytes]] = collections.deque(
            maxlen=queue_size)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._deadline = float("inf")
        self.dropped = 0
        self.sent = 0
        self._unreported = 0
        self._last_warning = -float("inf")
        self._drop_lock = threading.Lock()
        self._reset_counts()
        self._thread = threading.Thread(target=self._run, name=f"watchkeeper-ship-{name}",
                                        daemon=True)
        self._thread.start()

    # -- caller side ------------------------------------------------------------------
    def write(self, entry: Entry) -> None:
        queue = self._queue
        # A full deque discards the oldest on append. The caller only counts appends (one
        # atomic C call); the worker derives the drops: appended - taken - still queued.
        next(self._appended)
        queue.append((entry.time, entry.level, entry.line))
        # Wake the worker once per batch, when the queue reaches a batch (a stuck
        # receiver keeps the queue full: no call pays for Event.set's lock).
        if len(queue) == self.batch_size:
            self._wake.set()

    def flush(self) -> None:
        """Send what is queued now, without waiting."""
        self._wake.set()

    def drain(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for the queue to empty; True if it did."""
        end = time.monotonic() + timeout
        self._wake.set()
        while time.monotonic() < end:
            if not self._queue and self._idle.is_set():
                return True
            self._wake.set()
            time.sleep(0.005)
        return not self._queue and self._idle.is_set()

    def close(self, timeout: float) -> None:
        """Send what is queued within ``timeout`` seconds, then stop; the rest is dropped."""
        self._deadline = time.monotonic() + timeout
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout + 0.05)
        left = 0
        while True:  # one by one: a record appended meanwhile is counted too
            try:
                self._queue.popleft()
            except IndexError:
                break
            left += 1
        self._taken += left
        if left:
            self._drop(left)
        self._report_drops(force=True)
        self.shutdown()

    def after_fork(self) -> None:
        """In a forked child: the worker thread did not survive the fork, its events and
        lock may be held, queued records and open connections are the parent's."""
        if self._stop.is_set():
            return
        self._queue.clear()
        self._reset_counts()
        self._wake, self._stop, self._idle = (threading.Event(), threading.Event(),
                                              threading.Event())
        self._idle.set()
        self._drop_lock = threading.Lock()
        with contextlib.suppress(Exception):
            self.shutdown()  # closes the child's copies of the sockets only
        self._thread = threading.Thread(target=self._run, name=f"watchkeeper-ship-{self.name}",
                                        daemon=True)
        self._thread.start()

    # -- subclass API -----------------------------------------------------------------
    def send(self, batch: Sequence[Shipped]) -> None:
        """Deliver ``batch``; raise :class:`PermanentError` to drop it, anything else to retry."""
        raise NotImplementedError

    def shutdown(self) -> None:
        """Release connections (after the last send)."""

    # -- worker -----------------------------------------------------------------------
    def _run(self) -> None:
        # Every wait ends by timeout (the oldest record is at most one interval old) or by
        # a wake-up (batch full, flush, close): either way, send what is queued.
        while True:
            if self._stop.is_set() and not self._queue:
                return
            if not self._stop.is_set():
                self._wake.wait(self.batch_interval)
                self._wake.clear()
            while self._queue:
                if self._stop.is_set() and time.monotonic() >= self._deadline:
                    break
                self._idle.clear()
                try:
                    self._deliver(self._take())
                finally:
                    self._idle.set()
            self._report_drops()
            if self._stop.is_set():
                return

    def _take(self) -> list[Shipped]:
        batch: list[Shipped] = []
        queue = self._queue
        while queue and len(batch) < self.batch_size:
            try:
                when, level, line = queue.popleft()
            except IndexError:
                break
            batch.append(Shipped(when, level, line))
        self._taken += len(batch)
        return batch

    def _deliver(self, batch: list[Shipped]) -> None:
        attempt = 0
        while True:
            try:
                self.send(batch)
                self.sent += len(batch)
                return
            except PermanentError:
                self._drop(len(batch))
                return
            except Exception:
                attempt += 1
                if attempt > self.max_retries:
                    self._drop(len(batch))
                    return
                delay = min(self.backoff_max, self.backoff_initial * 2 ** (attempt - 1))
                delay *= 0.5 + self._rng() / 2
                if self._stop.is_set():
                    remaining = self._deadline - time.monotonic()
                    if remaining <= delay:
                        self._drop(len(batch))
                        return
                if self._stop.wait(delay) and time.monotonic() >= self._deadline:
                    self._drop(len(batch))
                    return

    def _drop(self, count: int) -> None:
        with self._drop_lock:
            self.dropped += count
            self._unreported += count
        if self._count_drops is not None:
            with contextlib.suppress(Exception):
                self._count_drops(self.name, count)

    def _reset_counts(self) -> None:
        self._appended = itertools.count()
        self._appended_reads = 0
        self._taken = 0
        self._overflow_counted = 0

    def _collect_overflow(self) -> None:
        """Count records the full deque discarded since the last call."""
        with self._drop_lock:
            # next() both reads and advances the counter: subtract our own reads. Reading
            # it before len() can only undercount (a record appended in between is seen
            # as queued); the total is exact once the callers pause, so it catches up.
            appended = next(self._appended) - self._appended_reads
            self._appended_reads += 1
            lost = appended - self._taken - len(self._queue)
            new = lost - self._overflow_counted
            if new > 0:
                self._overflow_counted = lost
        if new > 0:
            self._drop(new)

    def _report_drops(self, *, force: bool = False) -> None:
        self._collect_overflow()
        if not self._unreported or self._warn is None:
            return
        now = time.monotonic()
        if not force and now - self._last_warning < self.drop_warning_interval:
            return
        with self._drop_lock:
            count, self._unreported = self._unreported, 0
        self._last_warning = now
        with contextlib.suppress(Exception):
            self._warn(
                f"log sink {self.name!r} dropped {count} records",
                {"sink": self.name, "dropped": count, "dropped_total": self.dropped},
            )
