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
        self._on_drop = on_drop
        self._shutdown = False
        self._start_worker()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._start_worker)

    def _start_worker(self) -> None:
        # Queue, lock and thread belong to one process: a forked child starts afresh.
        self._pid = os.getpid()
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
        if self._shutdown or not span.context.trace_flags.sampled:
            return
        if self._pid != os.getpid():
            self._start_worker()
        queue = self._queue
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
            self._wake.wait(self.schedule_delay)
            self._wake.clear()
            if self._shutdown:
                break
            self._export_all()

    def _export_all(self) -> None:
        from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, attach, detach, set_value
        from opentelemetry.sdk.trace.export import SpanExportResult

        with self._export_lock:
            while self._queue:
                batch: list[ReadableSpan] = []
                queue = self._queue
                while queue and len(batch) < self.batch_size:
                    batch.append(queue.popleft())
                if self.redactor is not None:
                    _redact_spans(batch, self.redactor)
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


def _redact_spans(batch: Sequence[ReadableSpan], redactor: Redactor) -> None:
    from opentelemetry.sdk.trace import Event

    for span in batch:
        attrs: Any = span._attributes
        if attrs:
            span._attributes = _redact_attributes(attrs, redactor)
        if span._events:
            span._events = tuple(
                Event(e.name, _redact_attributes(e.attributes, redactor), e.timestamp)
                if e.attributes else e
                for e in span._events
            )
        if span._status.description:
            from opentelemetry.trace import Status

            span._status = Status(span._status.status_code,
                                  redactor.redact_exception_text(span._status.description))


def _redact_attributes(attrs: Any, redactor: Redactor) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if redactor.is_sensitive_key(key):
            out[key] = redactor.replacement
        elif isinstance(value, str):
            out[key] = (redactor.redact_exception_text(value)
                        if key == "exception.stacktrace" else redactor.redact_str(value))
        elif isinstance(value, tuple | list):
            out[key] = tuple(redactor.redact_str(v) if isinstance(v, str) else v
                             for v in value)
        else:
            out[key] = value
    return out
