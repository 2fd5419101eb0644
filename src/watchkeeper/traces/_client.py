"""Client spans for outgoing HTTP, called from the one client patch in
``integrations/_http_client.py`` (beside the client metrics): a CLIENT span per call and
the trace context injected into the outgoing headers."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from ._setup import current

__all__ = ["end_client_span", "start_client_span"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def start_client_span(  # noqa: PLR0917 - one call site per client library
    method: str, scheme: str, host: str, port: int | None, path: str,
    headers: MutableMapping[str, str],
) -> Any:
    """Start a CLIENT span and write its context into ``headers``; None when tracing is
    off or suppressed (the exporters' own requests)."""
    state = current()
    if state is None:
        return None
    from opentelemetry import propagate
    from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, get_value
    from opentelemetry.trace import SpanKind, set_span_in_context

    if get_value(_SUPPRESS_INSTRUMENTATION_KEY):
        return None
    method = method.upper()
    shown_port = port or _DEFAULT_PORTS.get(scheme)
    attributes: dict[str, Any] = {
        "http.request.method": method,
        "server.address": host,
        # Never the query string or credentials: only where the call went.
        "url.full": f"{scheme}://{host}{'' if port is None else f':{port}'}{path}",
    }
    if shown_port is not None:
        attributes["server.port"] = shown_port
    span = state.tracer.start_span(method, kind=SpanKind.CLIENT, attributes=attributes)
    propagate.inject(headers, context=set_span_in_context(span))
    return span


def end_client_span(span: Any, status: int | None = None,
                    exc: BaseException | None = None) -> None:
    if span is None:
        return
    if span.is_recording():
        from opentelemetry.trace import Status, StatusCode

        if status is not None:
            span.set_attribute("http.response.status_code", status)
            if status >= 400:
                span.set_attribute("error.type", str(status))
                span.set_status(Status(StatusCode.ERROR))
        if exc is not None:
            span.record_exception(exc)
            span.set_attribute("error.type", type(exc).__qualname__)
            span.set_status(Status(StatusCode.ERROR, type(exc).__qualname__))
    span.end()
