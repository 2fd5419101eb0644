"""Server spans from the one middleware pass: a :class:`RequestHook`, not a middleware.

The span starts before the app (context extracted from ``traceparent``/``tracestate`` and
``baggage``), is current while the app runs, and ends after the last response byte with
the route template, the status and any exception. No receive/send sub-spans.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._http_types import EndpointResponse, RequestRecord
from ._active import activate, deactivate
from ._light import LightSpan, LightTracer
from ._setup import current

if TYPE_CHECKING:
    from ..config import TracesSettings
    from ._setup import TracingState

__all__ = ["STATE_KEY", "TRACE_ID_KEY", "ServerSpanHook"]

_W3C_HEADERS = frozenset(("traceparent", "baggage"))
STATE_KEY = "watchkeeper.span"
TRACE_ID_KEY = "trace_id"
"""``record.state[TRACE_ID_KEY]``: the sampled trace id, for exemplars and error events."""


class _RecordGetter:
    """OpenTelemetry ``Getter`` over a :class:`RequestRecord`'s headers (read lazily)."""

    def get(self, carrier: RequestRecord, key: str) -> list[str] | None:
        value = carrier.header(key)
        return None if value is None else [value]

    def keys(self, carrier: RequestRecord) -> list[str]:
        return [name for name, _ in carrier.headers()]


class ServerSpanHook:
    """Starts a SERVER span per request and ends it with HTTP semantic-convention data."""

    def __init__(self, state: TracingState, settings: TracesSettings) -> None:
        from opentelemetry import propagate
        from opentelemetry.trace import SpanKind, Status, StatusCode

        self._extract = propagate.extract
        # With the default W3C propagators, a request without their headers has nothing to
        # extract: two header lookups instead of the propagator machinery.
        self._w3c_only = sorted(type(p).__name__ for p in getattr(
            propagate.get_global_textmap(), "_propagators", ())) == [
            "TraceContextTextMapPropagator", "W3CBaggagePropagator"]
        self._getter: Any = _RecordGetter()
        self._server = SpanKind.SERVER
        self._error = StatusCode.ERROR
        self._status = Status
        self._header = settings.trace_id_header
        self.adds_response_headers = bool(self._header)
        self._bind_tracer(state)

    def _bind_tracer(self, state: TracingState) -> None:
        self._state = state
        self._start = state.tracer.start_span
        # A LightTracer may keep the attribute dict this hook builds (str values only).
        self._owned: dict[str, Any] = ({"owned": True}
                                       if isinstance(state.tracer, LightTracer) else {})

    def on_request(self, record: RequestRecord) -> EndpointResponse | None:
        if not self._state.live:  # a later init() reconfigured tracing or turned it off
            fresh = current()
            if fresh is None:
                return None
            self._bind_tracer(fresh)
        if self._w3c_only and not record.has_any_header(_W3C_HEADERS):
            parent = None
        else:
            parent = self._extract(record, getter=self._getter)  # malformed: ignored
        attributes: dict[str, Any] = {
            "http.request.method": record.method,
            "url.path": record.path,
            "url.scheme": record.scheme,
        }
        if record.query_string:
            attributes["url.query"] = record.query_string
        if record.client:
            attributes["client.address"] = record.client
        span = self._start(record.method, parent, self._server, attributes, **self._owned)
        record.state[STATE_KEY] = (span, activate(span, parent))
        ctx = span.get_span_context()
        if ctx[3] & 1:  # sampled
            trace_id = ctx[0].to_bytes(16, "big").hex()  # twice as fast as format()
            record.state[TRACE_ID_KEY] = trace_id
            if self._header:
                record.response_headers.append((self._header, trace_id))
        return None

    def on_response(self, record: RequestRecord) -> None:
        found = record.state.pop(STATE_KEY, None)
        if found is None:
            return
        span, activation = found
        try:
            if type(span) is LightSpan:
                if span.end_time is None:
                    self._finish_light(span, record)
            elif span.is_recording():
                self._finish(span, record)
                span.end()
        finally:
            deactivate(activation)

    def _finish_light(self, span: LightSpan, record: RequestRecord) -> None:
        """The common case, written straight into the span: no exception, room for two
        more attributes and no length limit (otherwise the Span API, which applies
        them)."""
        attrs = span._attributes
        tracer = span._tracer
        if record.exception is not None or record.status >= 500 or \
                tracer.max_length is not None or (tracer.max_attributes is not None and
                                                  len(attrs) + 2 > tracer.max_attributes):
            self._finish(span, record)
        else:
            route = record.route
            if route:
                span.name = f"{record.method} {route}"
                if "http.route" in attrs:  # set again: moves to the end, as in the SDK
                    del attrs["http.route"]
                attrs["http.route"] = route
            if "http.response.status_code" in attrs:
                del attrs["http.response.status_code"]
            attrs["http.response.status_code"] = record.status
        span.end()

    def _finish(self, span: Any, record: RequestRecord) -> None:
        """Route, status and exception through the Span API."""
        route = record.route
        status = record.status
        if route:
            span.update_name(f"{record.method} {route}")
            span.set_attributes({"http.route": route, "http.response.status_code": status})
        else:
            span.set_attribute("http.response.status_code", status)
        exc = record.exception
        if exc is not None:
            span.record_exception(exc)
            span.set_attribute("error.type", type(exc).__qualname__)
            span.set_status(self._status(self._error, type(exc).__qualname__))
        elif status >= 500:
            span.set_attribute("error.type", str(status))
            span.set_status(self._status(self._error))
