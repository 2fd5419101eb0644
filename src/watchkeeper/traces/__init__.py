"""Tracing: OpenTelemetry setup (resource, sampler, exporters, fork and shutdown), server
spans from the middleware's single pass, custom spans, and propagation helpers.
``watchkeeper.init()`` calls :func:`configure`; nothing here imports the SDK before that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._propagation import continue_trace, current_span_id, current_trace_id, extract, inject
from ._setup import TracingState, current, exporter_names, flush, resource_attributes, shutdown
from ._span import NoSpan, span, traced
from ._timer import timer

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

    from ..config import Settings
    from ..logs import Redactor
    from ._server import ServerSpanHook

__all__ = [
    "NoSpan",
    "TracingState",
    "configure",
    "continue_trace",
    "current",
    "current_span_id",
    "current_trace_id",
    "disable_framework_tracing",
    "dropped_spans",
    "exporter_names",
    "extract",
    "finished_spans",
    "flush",
    "inject",
    "redactor_for",
    "request_hook",
    "resource_attributes",
    "shutdown",
    "span",
    "timer",
    "traced",
]


def redactor_for(settings: Settings) -> Redactor | None:
    """The shared redactor as the logs settings describe it (None if redaction is off)."""
    from ..logs import Redactor

    r = settings.logs.redaction
    if not r.enabled:
        return None
    return Redactor(add_keys=r.add_keys, remove_keys=r.remove_keys, value_rules=r.value_rules,
                    emails=r.emails, ips=r.ips, replacement=r.replacement)


def configure(settings: Settings) -> TracingState | None:
    """Set up tracing from ``settings.traces`` (called by ``watchkeeper.init()``).

    Raises:
        TracingError: an exporter was asked for whose package is not installed.
    """
    from .. import _runtime
    from . import _setup

    def dropped(count: int) -> None:
        try:
            registry = _runtime.registry()
            registry.counter("watchkeeper_spans_dropped_total",
                             "Finished spans dropped because the export queue was full.",
                             ).inc(count)
        except Exception:
            pass

    state = _setup.configure(settings, redactor_for(settings), dropped)
    from ..logs import set_trace_provider
    from ._propagation import _otel_ids

    # Spans started with the plain OpenTelemetry API (libraries, the app's own tracer)
    # are current too: log lines outside any watchkeeper span read their ids from there.
    set_trace_provider(_otel_ids if state is not None else None)
    return state


def request_hook(settings: Settings) -> ServerSpanHook | None:
    """The server-span hook for the middleware, or None when tracing is off."""
    state = current()
    if state is None:
        return None
    from ._server import ServerSpanHook

    return ServerSpanHook(state, settings.traces)


def dropped_spans() -> int:
    """Spans dropped so far because an exporter could not keep up (queue full)."""
    state = current()
    return 0 if state is None else state.dropped


def finished_spans() -> list[ReadableSpan]:
    """Spans collected by the ``memory`` exporter (tests), after flushing the queue."""
    state = current()
    if state is None or state.memory is None:
        return []
    flush()
    return list(state.memory.get_finished_spans())


def disable_framework_tracing(app: Any) -> None:
    """Turn off FastAPI's built-in tracing on ``app`` (it starts as soon as a global SDK
    TracerProvider exists and would trace every request a second time)."""
    config = getattr(app, "_telemetry", None)
    if isinstance(config, dict) and "tracing" in config:
        config["tracing"] = False
