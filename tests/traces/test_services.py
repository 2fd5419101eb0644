"""Black-box: real uvicorn/gunicorn services exporting spans over OTLP/HTTP to a local
capture server, decoded with opentelemetry-proto."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests._servers import free_port, gunicorn, serve, uvicorn, value
from tests.traces.otlp_capture import OtlpCapture

pytestmark = pytest.mark.slow
APPS = Path(__file__).parent / "apps"
SERVER, CLIENT = 2, 3  # OTLP SpanKind numbers


def _env(otlp: str, name: str, **extra: str) -> dict[str, str]:
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp, "OTEL_BSP_SCHEDULE_DELAY": "100",
            "WATCHKEEPER_SERVICE__NAME": name, "WATCHKEEPER_SERVICE__VERSION": "2.0.1",
            "OTEL_RESOURCE_ATTRIBUTES": "team=payments", **extra}


def test_two_services_share_one_trace(otlp: OtlpCapture) -> None:
    port_b, port_a = free_port(), free_port()
    with serve(uvicorn("chain_app:app", port_b), port_b, _env(otlp.endpoint, "svc-b"),
               cwd=APPS) as base_b, \
         serve(uvicorn("chain_app:app", port_a), port_a,
               _env(otlp.endpoint, "svc-a", NEXT_URL=base_b), cwd=APPS) as base_a:
        body = httpx.get(f"{base_a}/hop", timeout=10).json()
        trace_id = body["trace"]
        assert body["next"]["trace"] == trace_id

        def complete(spans: list) -> bool:  # type: ignore[type-arg]
            mine = [s for s in spans if s.trace_id == trace_id]
            return {(s.resource["service.name"], s.kind) for s in mine} >= {
                ("svc-a", SERVER), ("svc-a", CLIENT), ("svc-b", SERVER)}

        spans = [s for s in otlp.wait_for(complete) if s.trace_id == trace_id]
    a_server = next(s for s in spans if s.resource["service.name"] == "svc-a"
                    and s.kind == SERVER)
    a_client = next(s for s in spans if s.kind == CLIENT)
    b_server = next(s for s in spans if s.resource["service.name"] == "svc-b"
                    and s.kind == SERVER)
    assert a_server.name == b_server.name == "GET /hop"
    assert a_client.parent_span_id == a_server.span_id
    assert b_server.parent_span_id == a_client.span_id
    assert a_server.parent_span_id == ""
    assert a_server.resource["service.version"] == "2.0.1"
    assert a_server.resource["team"] == "payments"
    assert a_server.resource["deployment.environment"] == "production"
    assert "host.name" in a_server.resource
    assert b_server.attributes["http.response.status_code"] == 200


def test_secrets_in_exceptions_never_reach_exported_spans(otlp: OtlpCapture) -> None:
    port = free_port()
    with serve(uvicorn("chain_app:app", port), port, _env(otlp.endpoint, "svc"),
               cwd=APPS) as base:
        assert httpx.get(f"{base}/fail", timeout=10).status_code == 500
        spans = otlp.wait_for(lambda s: any(x.name == "GET /fail" for x in s))
    failed = next(s for s in spans if s.name == "GET /fail")
    assert failed.status_code == 2  # ERROR
    assert failed.events[0][0] == "exception"
    raw = b"".join(otlp.raw)
    assert b"s3cretpw" not in raw
    assert b"postgres://app:" in raw  # the message is there, only the password is gone


def test_gunicorn_prefork_workers_both_export(otlp: OtlpCapture) -> None:
    port = free_port()
    argv = gunicorn("chain_app:app", port, "-w", "2", "-k", "uvicorn_worker.UvicornWorker",
                    "--preload")
    with serve(argv, port, _env(otlp.endpoint, "svc-g"), cwd=APPS) as base:
        pids: set[int] = set()
        deadline = time.monotonic() + 20
        while len(pids) < 2 and time.monotonic() < deadline:
            with httpx.Client(limits=httpx.Limits(max_keepalive_connections=0)) as client:
                pids.add(client.get(f"{base}/hop", timeout=10).json()["pid"])
        assert len(pids) == 2, "requests never reached both workers"
        spans = otlp.wait_for(lambda s: {x.resource["process.pid"] for x in s
                                         if x.name == "GET /hop"} >= pids)
    assert {s.resource["process.pid"] for s in spans if s.name == "GET /hop"} >= pids


def test_exporter_down_drops_are_counted_and_requests_unaffected() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    port = free_port()
    env = _env(dead, "svc-d", OTEL_BSP_MAX_QUEUE_SIZE="20", OTEL_BSP_MAX_EXPORT_BATCH_SIZE="10")
    with serve(uvicorn("chain_app:app", port), port, env, cwd=APPS) as base, \
            httpx.Client(base_url=base, timeout=10) as client:
        started = time.perf_counter()
        statuses = [client.get("/hop").status_code for _ in range(300)]
        elapsed = time.perf_counter() - started
        metrics = client.get("/metrics").text
    assert statuses == [200] * 300
    assert elapsed < 15  # no request waited for the dead exporter
    dropped = value(metrics, "watchkeeper_spans_dropped_total")
    assert dropped is not None
    assert dropped > 0


def test_spans_are_flushed_when_uvicorn_stops(otlp: OtlpCapture) -> None:
    # A minute between exports: the span can only arrive through the shutdown flush
    # (uvicorn re-raises SIGTERM after its shutdown, so atexit alone would not run).
    port = free_port()
    env = _env(otlp.endpoint, "svc-stop", OTEL_BSP_SCHEDULE_DELAY="60000")
    with serve(uvicorn("chain_app:app", port), port, env, cwd=APPS) as base:
        trace_id = httpx.get(f"{base}/hop", timeout=10).json()["trace"]
        time.sleep(0.5)
        assert not otlp.spans
    spans = otlp.wait_for(lambda s: any(x.trace_id == trace_id for x in s), timeout=10)
    assert any(s.name == "GET /hop" for s in spans)
