"""The hand-written OTLP encoder produces exactly what the SDK's encoder produces."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as sdk_encode
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

import watchkeeper
from watchkeeper import traces
from watchkeeper._http_types import RequestRecord
from watchkeeper.traces._light import LightSpan, readable
from watchkeeper.traces._otlp import encode_spans


def _spans(raw: bool = False) -> list[object]:
    """Server spans with nested custom spans; ``raw``: as the processor holds them
    (watchkeeper's LightSpans), not converted to SDK ReadableSpans."""
    settings = watchkeeper.init(traces={"exporters": ["memory"]}, metrics={"enabled": False})
    if raw:
        state = traces.current()
        assert state is not None
        state.processors[0].exporter.accepts_light_spans = True  # type: ignore[attr-defined]
    hook = traces.request_hook(settings)
    assert hook is not None
    remote = {"type": "http", "path": "/i", "headers": [
        (b"traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        (b"tracestate", b"vendor=1,other=x")]}
    local = {"type": "http", "path": "/i", "headers": []}
    for i in range(40):
        record = RequestRecord("GET", "/i", "q=é", "http", "127.0.0.1", 0.0, time.time(),
                               remote if i % 2 else local, None)
        hook.on_request(record)
        with watchkeeper.span("inner", a=1, b=2.5, c=True, d=["x", "y"], e=-3, f=2**62,
                              g="ünïcode") as s:
            s.add_event("checkpoint", {"n": i})
            s.add_link(s.get_span_context(), {"why": "self"})
        record.route, record.status = "/i", 200 if i % 3 else 503
        if i % 5 == 0:
            record.exception = KeyError(i)
        hook.on_response(record)
    return traces.finished_spans()  # type: ignore[return-value]


def test_bytes_decode_to_the_same_request_as_the_sdk_encoder() -> None:
    spans = _spans()
    ours = ExportTraceServiceRequest()
    ours.ParseFromString(encode_spans(spans))
    assert ours == sdk_encode(spans)  # type: ignore[arg-type]
    assert len(ours.resource_spans[0].scope_spans[0].spans) == 80


def test_light_spans_encode_as_their_sdk_conversion_does() -> None:
    spans = _spans(raw=True)
    assert all(isinstance(s, LightSpan) for s in spans)
    ours = ExportTraceServiceRequest()
    ours.ParseFromString(encode_spans(spans))
    assert ours == sdk_encode([readable(s) for s in spans])  # type: ignore[arg-type]
    assert len(ours.resource_spans[0].scope_spans[0].spans) == 80


def test_empty_batch() -> None:
    assert encode_spans([]) == b""


@pytest.mark.parametrize("encoder", ["watchkeeper", "sdk"])
def test_both_encoders_are_selectable(encoder: str) -> None:
    settings = watchkeeper.init(traces={"exporters": ["otlp"], "otlp_encoder": encoder,
                                        "otlp_endpoint": "http://127.0.0.1:9"})
    state = traces.current()
    assert state is not None
    exporter = state.processors[0].exporter
    assert ("export" in vars(exporter)) is (encoder == "watchkeeper")
    assert settings.traces.otlp_encoder == encoder


@settings(max_examples=300, deadline=None)
@given(key=st.text(min_size=1, max_size=40),
       value=st.one_of(st.text(max_size=300), st.integers(min_value=-2**63, max_value=2**63 - 1),
                       st.booleans()),
       redacted=st.booleans())
def test_the_new_attribute_fast_path_writes_what_the_generic_one_does(
        key: str, value: object, redacted: bool) -> None:
    from watchkeeper.logs import Redactor
    from watchkeeper.traces._otlp import SpanEncoder

    redactor = Redactor() if redacted else None
    fast, generic = SpanEncoder(redactor), SpanEncoder(redactor)
    assert fast._span_pair(key, value) == generic.pair(9, key, value)
    assert fast._span_pair(key, value) == generic.pair(9, key, value)  # from the cache
