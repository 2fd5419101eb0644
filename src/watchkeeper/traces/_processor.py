"""A bounded batch span processor that counts what it drops and redacts what it sends.

The SDK's ``BatchSpanProcessor`` drops silently (a log line) when the queue is full; an
exporter that is down must cost the application nothing but a counter, so this one keeps
the numbers (``watchkeeper_spans_dropped_total`` via :class:`ProcessorStats`). Every
span is redacted before an exporter sees it: for the OTLP/HTTP exporter as it is encoded
when it ends (see ``_otlp``), for others on the export thread. Fork-safe: a child process
gets a fresh queue and worker thread on its first span.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._light import LightSpan, readable
from ._otlp import SpanEncoder
from ._redaction import redact_spans

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
        self.max_queue_size = max_queue_size
        self.batch_size = min(max_export_batch_size, max_queue_size)
        self.schedule_delay = schedule_delay
        self._redactor = redactor
        self.exporter = exporter
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

    @property
    def exporter(self) -> SpanExporter:
        return self._exporter

    @exporter.setter
    def exporter(self, exporter: SpanExporter) -> None:
        self._exporter = exporter
        # An exporter that takes encoded spans gets them encoded (and redacted) as they
        # end; queued spans of the previous exporter's kind still reach it (_export).
        self._encoder = (SpanEncoder(self._redactor)
                         if hasattr(exporter, "export_encoded") else None)

    @property
    def redactor(self) -> Redactor | None:
        return self._redactor

    @redactor.setter
    def redactor(self, redactor: Redactor | None) -> None:
        self._redactor = redactor
        self.exporter = self._exporter  # a fresh encoder: its cache is redacted output

    # -- SpanProcessor -----------------------------------------------------------------
    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def _on_ending(self, span: Span) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        if span.context.trace_flags.sampled:
            self.enqueue(span)

    def enqueue(self, span: Any) -> None:
        """Queue a finished, sampled span (SDK or :class:`~._light.LightSpan`); encoded
        at once when the exporter takes encoded spans."""
        if self._shutdown:
            return
        queue = self._queue  # a forked child has a fresh one (register_at_fork)
        if len(queue) >= self.max_queue_size:
            self.stats.dropped += 1
            if self._on_drop is not None:
                self._on_drop(1)
            return
        encoder = self._encoder
        if encoder is not None:
            try:
                span = encoder.item(span)
            except Exception:  # an attribute the encoder cannot write: the span only
                _log.exception("span encoding failed")
                self.stats.failed += 1
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
                exporter = self._exporter
                takes_encoded = hasattr(exporter, "export_encoded")
                if not takes_encoded and any(type(s) is tuple for s in batch):
                    # Encoded for an exporter since replaced by one that cannot read them.
                    kept = [s for s in batch if type(s) is not tuple]
                    self.stats.failed += len(batch) - len(kept)
                    batch = kept
                    if not batch:
                        continue
                # Our own client instrumentation must not trace the exporter's request.
                token = attach(set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
                try:
                    result = self._export(exporter, batch, takes_encoded)
                except Exception:
                    _log.exception("span export failed")
                    result = SpanExportResult.FAILURE
                finally:
                    detach(token)
                if result == SpanExportResult.SUCCESS:
                    self.stats.exported += len(batch)
                else:
                    self.stats.failed += len(batch)

    def _export(self, exporter: Any, batch: list[Any], takes_encoded: bool) -> Any:
        """Encoded spans to ``export_encoded``; span objects (queued before the exporter
        was set, or by an exporter that takes objects) redacted here first."""
        if takes_encoded:
            encoder = self._encoder or SpanEncoder(self._redactor)
            return exporter.export_encoded(
                [s if type(s) is tuple else encoder.item(s) for s in batch])
        if self._redactor is not None:
            redact_spans(batch, self._redactor, self._redacted)
        if not getattr(exporter, "accepts_light_spans", False):
            batch = [readable(s) if type(s) is LightSpan else s for s in batch]
        return exporter.export(batch)
