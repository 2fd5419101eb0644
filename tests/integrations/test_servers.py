"""Black-box: real uvicorn and gunicorn processes serving instrumented apps; /metrics is
scraped and the exact series asserted."""

from __future__ import annotations

import shutil
import time

import httpx
import pytest

from tests._servers import free_port, gunicorn, serve, uvicorn, value

pytestmark = pytest.mark.slow


def _client(base: str) -> httpx.Client:
    # A fresh connection per request: servers close a connection after a handler crash,
    # and a reused keep-alive connection would then be reset under the test.
    return httpx.Client(base_url=base, limits=httpx.Limits(max_keepalive_connections=0),
                        timeout=10)


def _count(text: str, route: str, status: str, method: str = "GET") -> float | None:
    return value(text, "http_requests_total", method=method, route=route, status_code=status)


def test_fastapi_under_uvicorn_reports_exact_red_metrics() -> None:
    port = free_port()
    with serve(uvicorn("fastapi_app:app", port), port) as base, _client(base) as client:
        for item in (1, 2, 3):
            assert client.get(f"/items/{item}").status_code == 200
        assert client.post("/items", json={"a": "b"}).status_code == 200
        assert client.get("/sync/x").status_code == 200
        assert client.get("/no/such/path").status_code == 404
        assert client.get("/missing").status_code == 404
        assert client.get("/boom").status_code == 500
        assert client.get("/stream").content == b"x" * 300
        started = time.perf_counter()
        assert client.get("/background").status_code == 200
        assert client.get("/health").status_code == 200  # excluded by default
        time.sleep(0.8)  # let the background task finish
        text = client.get("/metrics").text

    assert _count(text, "/items/{item_id}", "200") == 3
    assert _count(text, "/items", "200", method="POST") == 1
    assert _count(text, "/sync/{name}", "200") == 1
    assert _count(text, "<unmatched>", "404") == 1
    assert _count(text, "/missing", "404") == 1
    assert _count(text, "/boom", "500") == 1
    assert value(text, "http_requests_exceptions_total", route="/boom",
                 exception_type="ValueError") == 1
    # The raw path never becomes a label; excluded paths are not counted.
    assert "/items/1" not in text
    assert 'route="/health"' not in text
    assert 'route="/metrics"' not in text
    # Streaming is timed to the last chunk (3 x 100 ms) ...
    stream_sum = value(text, "http_request_duration_seconds_sum", route="/stream")
    assert stream_sum is not None
    assert stream_sum >= 0.29
    assert value(text, "http_response_size_bytes_sum", route="/stream") == 300
    # ... and the 0.5 s background task is not part of the request's latency.
    background_sum = value(text, "http_request_duration_seconds_sum", route="/background")
    assert background_sum is not None
    assert background_sum < 0.25
    assert time.perf_counter() - started >= 0.8
    assert value(text, "http_request_size_bytes_sum", route="/items", method="POST") == len(
        b'{"a":"b"}')
    assert value(text, "process_resident_memory_bytes")
    assert value(text, "python_info")
    assert value(text, "python_asyncio_event_loop_lag_seconds") is not None


def test_in_progress_shows_running_requests_by_route() -> None:
    port = free_port()
    with serve(uvicorn("fastapi_app:app", port), port) as base, _client(base) as client:
        import threading

        slow = [threading.Thread(target=client.get, args=("/slow",)) for _ in range(3)]
        for thread in slow:
            thread.start()
        time.sleep(0.4)
        during = httpx.get(base + "/metrics").text
        for thread in slow:
            thread.join()
        after = httpx.get(base + "/metrics").text
    assert value(during, "http_requests_in_progress", route="/slow") == 3
    assert value(after, "http_requests_in_progress", route="/slow") == 0


def test_starlette_routes_added_after_instrument_and_mounts() -> None:
    port = free_port()
    with serve(uvicorn("starlette_app:app", port), port) as base, _client(base) as client:
        assert client.get("/users/7").status_code == 200
        assert client.get("/api/version").text == "v1"
        text = client.get("/metrics").text
    assert _count(text, "/users/{user_id:int}", "200") == 1
    assert _count(text, "/api/version", "200") == 1


@pytest.mark.skipif(shutil.which("gunicorn") is None and not __import__(
    "importlib").util.find_spec("gunicorn"), reason="gunicorn not installed")
def test_flask_under_gunicorn() -> None:
    port = free_port()
    with serve(gunicorn("flask_app:app", port), port) as base, _client(base) as client:
        assert client.get("/items/5").status_code == 200
        assert client.get("/items/6").status_code == 200
        assert client.get("/boom").status_code == 500
        assert client.get("/missing").status_code == 404
        assert client.get("/nothing-here").status_code == 404
        assert client.get("/stream").content == b"x" * 300
        text = client.get("/metrics").text
    assert _count(text, "/items/<int:item_id>", "200") == 2
    assert _count(text, "/boom", "500") == 1
    assert value(text, "http_requests_exceptions_total", route="/boom",
                 exception_type="ValueError") == 1
    assert _count(text, "/missing", "404") == 1
    assert _count(text, "<unmatched>", "404") == 1
    stream_sum = value(text, "http_request_duration_seconds_sum", route="/stream")
    assert stream_sum is not None
    assert stream_sum >= 0.29


def test_django_under_gunicorn() -> None:
    port = free_port()
    with serve(gunicorn("django_app:application", port), port) as base, _client(base) as client:
        assert client.get("/items/5").status_code == 200
        assert client.get("/boom").status_code == 500
        assert client.get("/nope").status_code == 404
        text = client.get("/metrics").text
    assert _count(text, "/items/<int:item_id>", "200") == 1
    assert _count(text, "/boom", "500") == 1
    assert value(text, "http_requests_exceptions_total", route="/boom",
                 exception_type="ValueError") == 1
    assert _count(text, "<unmatched>", "404") == 1
