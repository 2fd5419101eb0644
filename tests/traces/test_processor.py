"""The batch processor ships full batches under load and the rest on schedule; the OTLP
exporter's session takes proxies and CA bundle from the environment once."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.trace import StatusCode

from watchkeeper.traces._processor import BoundedBatchProcessor
from watchkeeper.traces._setup import _session


class _SlowExporter:
    """Records batch sizes; each export takes a while, as an HTTP round trip does."""

    accepts_light_spans = True

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.done = threading.Event()

    def export(self, spans: Any) -> SpanExportResult:
        time.sleep(0.05)
        self.batches.append(len(spans))
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def test_a_busy_queue_is_shipped_in_full_batches() -> None:
    exporter = _SlowExporter()
    processor = BoundedBatchProcessor(exporter, max_export_batch_size=10,  # type: ignore[arg-type]
                                      schedule_delay=30.0)
    try:
        for _ in range(47):  # arriving while the first batch is being sent
            processor.enqueue(object())
            time.sleep(0.002)
        deadline = time.monotonic() + 5
        while sum(exporter.batches) < 40 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)
        assert exporter.batches == [10, 10, 10, 10]  # the 7 left wait for the schedule
        processor.force_flush()
        assert exporter.batches == [10, 10, 10, 10, 7]
    finally:
        processor.shutdown()


def test_the_schedule_delay_ships_a_partial_batch() -> None:
    exporter = _SlowExporter()
    processor = BoundedBatchProcessor(exporter, max_export_batch_size=10,  # type: ignore[arg-type]
                                      schedule_delay=0.2)
    try:
        for _ in range(3):
            processor.enqueue(object())
        deadline = time.monotonic() + 5
        while not exporter.batches and time.monotonic() < deadline:
            time.sleep(0.01)
        assert exporter.batches == [3]
    finally:
        processor.shutdown()


def test_otlp_session_reads_proxies_and_ca_bundle_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "direct.internal")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/corp.pem")
    session, bundle = _session("http://collector.internal:4318/v1/traces")
    assert session.proxies["http"] == "http://proxy.internal:3128"
    assert session.trust_env is False
    assert bundle == "/etc/ssl/corp.pem"
    direct, _ = _session("http://direct.internal:4318/v1/traces")
    assert "http" not in direct.proxies


class _EncodedSink:
    """An exporter taking encoded spans, as the OTLP/HTTP exporter does."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []

    def export_encoded(self, items: Any) -> SpanExportResult:
        from watchkeeper.traces._otlp import encode_items

        self.requests.append(encode_items(items))
        return SpanExportResult.SUCCESS

    def export(self, spans: Any) -> SpanExportResult:
        raise AssertionError("span objects were given to an encoding exporter")

    def shutdown(self) -> None:
        return None


def _light_spans(count: int) -> list[Any]:
    import watchkeeper
    from watchkeeper import traces

    watchkeeper.init(traces={"exporters": ["memory"]}, metrics={"enabled": False})
    state = traces.current()
    assert state is not None
    spans = []
    for i in range(count):
        span = state.tracer.start_span("work", attributes={
            "password": "hunter2", "url.query": "token=abc123&page=2", "n": i})
        span.set_status(StatusCode.ERROR, "failed for api_key=sk_live_1234567890abcdef")
        span.add_event("retry", {"authorization": "Bearer xyz", "attempt": i})
        span.end()
        spans.append(span)
    return spans


def test_spans_are_encoded_and_redacted_as_they_end() -> None:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as sdk
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    from watchkeeper.logs import Redactor
    from watchkeeper.traces._light import readable
    from watchkeeper.traces._redaction import redact_spans

    redactor = Redactor()
    exporter = _EncodedSink()
    processor = BoundedBatchProcessor(exporter, redactor=redactor,  # type: ignore[arg-type]
                                      schedule_delay=30.0)
    try:
        spans = _light_spans(5)
        for span in spans:
            processor.enqueue(span)
        assert all(type(item) is tuple for item in processor._queue)  # bytes, not spans
        processor.force_flush()
    finally:
        processor.shutdown()
    assert processor.stats.exported == 5
    body = b"".join(exporter.requests)
    for secret in (b"hunter2", b"abc123", b"sk_live_1234567890abcdef", b"xyz"):
        assert secret not in body
    ours = ExportTraceServiceRequest()
    ours.ParseFromString(body)
    redact_spans(spans, redactor)  # what the SDK encoder would have been given
    assert ours == sdk([readable(s) for s in spans])


def test_spans_queued_for_a_replaced_exporter_are_not_lost_silently() -> None:
    exporter = _EncodedSink()
    processor = BoundedBatchProcessor(exporter, schedule_delay=30.0)  # type: ignore[arg-type]
    plain = _SlowExporter()
    try:
        spans = _light_spans(3)
        processor.enqueue(spans[0])  # encoded for the first exporter
        processor.exporter = plain  # type: ignore[assignment]
        processor.enqueue(spans[1])
        processor.enqueue(spans[2])
        processor.force_flush()
    finally:
        processor.shutdown()
    assert plain.batches == [2]
    assert (processor.stats.exported, processor.stats.failed) == (2, 1)
