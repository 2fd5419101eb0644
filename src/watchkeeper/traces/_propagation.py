"""Carrying a trace across processes: into and out of message headers.

For queues, Kafka/Celery headers and background jobs: the producer calls
:func:`inject`, the consumer :func:`continue_trace`. Uses the configured OpenTelemetry
propagators (W3C ``traceparent``/``tracestate`` and ``baggage`` unless
``OTEL_PROPAGATORS`` says otherwise). Malformed headers are ignored, never raised on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..logs import _context
from ._span import span

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span

__all__ = ["continue_trace", "current_span_id", "current_trace_id", "extract", "inject"]

Carrier = Mapping[str, Any] | Iterable[tuple[str, Any]]


def current_trace_id() -> str | None:
    """The current trace id (32 hex digits), or None outside any trace."""
    value = _context.trace_id.get()
    if value is not None:
        return value
    ids = _otel_ids()
    return ids[0] if ids else None


def current_span_id() -> str | None:
    """The current span id (16 hex digits), or None outside any span."""
    value = _context.span_id.get()
    if value is not None:
        return value
    ids = _otel_ids()
    return ids[1] if ids else None


def _otel_ids() -> tuple[str, str] | None:
    # A span started with the plain OpenTelemetry API is current too.
    import sys

    if "opentelemetry.trace" not in sys.modules:
        return None
    from opentelemetry import trace

    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


def inject(carrier: MutableMapping[str, str] | None = None) -> MutableMapping[str, str]:
    """Write the current trace context into ``carrier`` (a new dict if None) and return it.

    Example::

        queue.put({"payload": job, "headers": watchkeeper.traces.inject()})
    """
    from opentelemetry import propagate

    out: MutableMapping[str, str] = {} if carrier is None else carrier
    propagate.inject(out)
    return out


class _Getter:
    """Reads mappings (any key case) and header lists such as Kafka's [(name, bytes)]."""

    def get(self, carrier: dict[str, str], key: str) -> list[str] | None:
        value = carrier.get(key)
        return None if value is None else [value]

    def keys(self, carrier: dict[str, str]) -> list[str]:
        return list(carrier)


def _normalise(carrier: Carrier) -> dict[str, str]:
    items = carrier.items() if isinstance(carrier, Mapping) else carrier
    out: dict[str, str] = {}
    for item in items:
        try:
            key, value = item
        except (TypeError, ValueError):
            continue
        if isinstance(key, bytes):
            key = key.decode("latin-1")
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if isinstance(key, str) and isinstance(value, str):
            out.setdefault(key.lower(), value)
    return out


def extract(carrier: Carrier) -> Context:
    """The OpenTelemetry context described by ``carrier``'s headers (empty if none)."""
    from opentelemetry import propagate

    getter: Any = _Getter()
    return propagate.extract(_normalise(carrier), getter=getter)


@contextmanager
def continue_trace(carrier: Carrier, name: str | None = None,
                   **attributes: Any) -> Iterator[Span | None]:
    """Continue the trace in ``carrier`` in this thread/task; with ``name``, inside a
    new CONSUMER span that is the child of the producer's span.

    Example::

        def worker(message):
            with watchkeeper.continue_trace(message["headers"], "process order"):
                log.info("processing")       # carries the producer's trace id
    """
    from opentelemetry.context import attach, detach
    from opentelemetry.trace import SpanKind, get_current_span

    ctx = extract(carrier)
    token = attach(ctx)
    remote = get_current_span(ctx).get_span_context()
    trace_token = span_token = None
    if remote.is_valid:
        trace_token = _context.trace_id.set(format(remote.trace_id, "032x"))
        span_token = _context.span_id.set(format(remote.span_id, "016x"))
    try:
        if name is None:
            yield None
        else:
            with span(name, kind=SpanKind.CONSUMER, **attributes) as s:
                yield s
    finally:
        if span_token is not None:
            _context.span_id.reset(span_token)
        if trace_token is not None:
            _context.trace_id.reset(trace_token)
        detach(token)
