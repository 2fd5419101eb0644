"""Outgoing HTTP metrics for httpx (sync, async) and requests, against a local server."""

from __future__ import annotations

import asyncio
import http.server
import threading
from collections.abc import Iterator

import httpx
import pytest
import requests

import watchkeeper
from tests._servers import value
from watchkeeper import _runtime
from watchkeeper.metrics import render_registry


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 503 if self.path == "/down" else 200
        self.send_response(status)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_httpx_and_requests_are_measured(upstream: str) -> None:
    watchkeeper.init()
    with httpx.Client() as client:
        client.get(f"http://{upstream}/a")
        client.get(f"http://{upstream}/down")

    async def async_calls() -> None:
        async with httpx.AsyncClient() as client:
            await client.get(f"http://{upstream}/b")

    asyncio.run(async_calls())
    with requests.Session() as session:
        session.get(f"http://{upstream}/c")
    with pytest.raises(httpx.ConnectError):
        httpx.get("http://127.0.0.1:9/unreachable", timeout=1)
    with pytest.raises(requests.ConnectionError):
        requests.get("http://127.0.0.1:9/unreachable", timeout=1)
    text = render_registry(_runtime.registry())
    name = "http_client_requests_total"
    assert value(text, name, host=upstream, method="GET", status_code="200") == 3
    assert value(text, name, host=upstream, method="GET", status_code="503") == 1
    assert value(text, "http_client_errors_total", host="127.0.0.1:9",
                 error_type="connect") == 2
    assert value(text, "http_client_request_duration_seconds_count", host=upstream) == 4
