"""The batch processor ships full batches under load and the rest on schedule; the OTLP
exporter's session takes proxies and CA bundle from the environment once."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SpanExportResult

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
