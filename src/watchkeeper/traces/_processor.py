"""A bounded batch span processor that counts what it drops and redacts what it sends.

The SDK's ``BatchSpanProcessor`` drops silently (a log line) when the queue is full; an
exporter that is down must cost the application nothing but a counter, so this one keeps
the numbers (``watchkeeper_spans_dropped_total`` via :class:`ProcessorStats`). Redaction
runs on the export thread, off the request path. Fork-safe: a child process gets a fresh
queue and worker thread on its first span.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._light import LightSpan, readable

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import ReadableSpan, Span
    from opentelemetry.sdk.trace.export import SpanExporter

    from ..logs import Redactor

__all__ = ["BoundedBatchProcessor", "ProcessorStats"]

_log = logging.getLogger("watchkeeper.traces")


@dataclass
class ProcessorStats:
    """Counters of one processor: spans queued, exported, dropped (queue full) and failed."""

    queued: int = 0
    exported: int = 0
    dropped: int = 0
    failed: int = 0


class BoundedBatchProcessor:
    """``SpanProcessor`` with a bounded queue, a background export thread and counters."""

    def __init__(self, exporter: SpanExporter, *, max_queue_size: int = 2048,
                 max_export_batch_size: int = 512, schedule_delay: float = 5.0,
                 redactor: Redactor | None = None,
                 on_drop: Callable[[int], None] | None = None) -> None:
        self.exporter = exporter
        self.max_queue_size = max_queue_size
        self.batch_size = min(max_export_batch_size, max_queue_size)
        self.schedule_delay = schedule_delay
        self.redactor = redactor
        self.stats = ProcessorStats()
        self._redacted: dict[tuple[str, Any, type], Any] = {}
        self._on_drop = on_drop
        self._shutdown = False
        self._start_worker()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._start_worker)

    def _start_worker(self) -> None:
        # Queue, lock and thread belong to one process: a forked child starts afresh.
        self._queue: collections.deque[ReadableSpan] = collections.deque()
        self._export_lock = threading.Lock()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._worker, name="watchkeeper-span-export",
                                        daemon=True)
        self._thread.start()

    # -- SpanProcessor -----------------------------------------------------------------
    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def _on_ending(self, span: Span) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        if span.context.trace_flags.sampled:
            self.enqueue(span)

    def enqueue(self, span: Any) -> None:
        """Queue a finished, sampled span (SDK or :class:`~._light.LightSpan`)."""
        if self._shutdown:
            return
        queue = self._queue  # a forked child has a fresh one (register_at_fork)
        if len(queue) >= self.max_queue_size:
            self.stats.dropped += 1
            if self._on_drop is not None:
                self._on_drop(1)
            return
        queue.append(span)
        self.stats.queued += 1
        if len(queue) >= self.batch_size:
            self._wake.set()

    def shutdown(self) -> None:
        if self._shutdown:
            return
        self._shutdown = True
        self._wake.set()
        self._thread.join(timeout=self.schedule_delay + 5.0)
        self._export_all()
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        if self._shutdown:
            return False
        self._export_all()
        return True

    # -- worker ----------------------------------------------------------------------------
    def _worker(self) -> None:
        while not self._shutdown:
            full = self._wake.wait(self.schedule_delay)
            self._wake.clear()
            if self._shutdown:
                break
            # Woken by a full batch: send full batches only. Sending whatever arrived
            # during the last export made a busy service ship thousands of tiny
            # requests, each paying the HTTP round trip. The schedule delay sends the rest.
            self._export_all(full_batches_only=full)

    def _export_all(self, full_batches_only: bool = False) -> None:
        from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, attach, detach, set_value
        from opentelemetry.sdk.trace.export import SpanExportResult

        with self._export_lock:
            while self._queue and (not full_batches_only
                                   or len(self._queue) >= self.batch_size):
                batch: list[Any] = []
                queue = self._queue
                while queue and len(batch) < self.batch_size:
                    batch.append(queue.popleft())
                if self.redactor is not None:
                    _redact_spans(batch, self.redactor, self._redacted)
                if not getattr(self.exporter, "accepts_light_spans", False):
                    batch = [readable(s) if type(s) is LightSpan else s for s in batch]
                # Our own client instrumentation must not trace the exporter's request.
                token = attach(set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
                try:
                    result = self.exporter.export(batch)
                except Exception:
                    _log.exception("span export failed")
                    result = SpanExportResult.FAILURE
                finally:
                    detach(token)
                if result == SpanExportResult.SUCCESS:
                    self.stats.exported += len(batch)
                else:
                    self.stats.failed += len(batch)


_CACHE_LIMIT = 4096
_CACHEABLE = frozenset((str, int, float, bool))


def _redact_spans(batch: Sequence[Any], redactor: Redactor,
                  cache: dict[tuple[str, Any, type], Any] | None = None) -> None:
    from opentelemetry.sdk.trace import Event

    if cache is None:
        cache = {}
    for span in batch:
        attrs: Any = span._attributes
        if attrs:
            span._attributes = _redact_attributes(attrs, redactor, cache)
        if span._events:
            span._events = tuple(
                Event(e.name, _redact_attributes(e.attributes, redactor, cache), e.timestamp)
                if e.attributes else e
                for e in span._events
            )
        if span._status.description:
            from opentelemetry.trace import Status

            span._status = Status(span._status.status_code,
                                  redactor.redact_exception_text(span._status.description))


def _redact_attributes(attrs: Any, redactor: Redactor,
                       cache: dict[tuple[str, Any, type], Any]) -> dict[str, Any]:
    """Redacted attributes. Server and client spans repeat the same pairs (method, route,
    status, host), so scalar pairs are remembered: the redactor is fixed per processor."""
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        kind = type(value)
        if kind in _CACHEABLE:
            cache_key = (key, value, kind)
            hit = cache.get(cache_key, cache)
            if hit is not cache:
                out[key] = hit
                continue
            redacted = _redact_value(key, value, redactor)
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            cache[cache_key] = out[key] = redacted
        else:
            out[key] = _redact_value(key, value, redactor)
    return out


def _redact_value(key: str, value: Any, redactor: Redactor) -> Any:
    if redactor.is_sensitive_key(key):
        return redactor.replacement
    if isinstance(value, str):
        return (redactor.redact_exception_text(value) if key == "exception.stacktrace"
                else redactor.redact_str(value))
    if isinstance(value, tuple | list):
        return tuple(redactor.redact_str(v) if isinstance(v, str) else v for v in value)
    return value
