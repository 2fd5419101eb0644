"""Where errors are caught (requests, threads, asyncio, sys), redaction, metrics and
sinks (hub over HTTP, Sentry over its envelope API) — with local capture servers."""

from __future__ import annotations

import asyncio
import gzip
import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

import watchkeeper
from watchkeeper import errors, traces

SECRET = "sk_live_abcdef123456"


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/orders/{order_id}")
    async def order(order_id: int) -> None:
        api_key = SECRET  # noqa: F841 - a local the event must redact
        raise ConnectionError(f"gateway refused token={SECRET} for order {order_id}")

    @app.get("/health")
    async def health() -> None:
        raise RuntimeError("db down")

    return app


async def _get(app: FastAPI, path: str, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get(path, headers=headers)


async def test_request_errors_carry_request_trace_and_no_secrets() -> None:
    app = _app()
    # The app's own /health route (watchkeeper's health endpoints off) raises: ignored by
    # the default rule.
    watchkeeper.instrument(app, metrics={"exclude_paths": ["/metrics"], "http_client": False},
                           traces={"exporters": ["memory"]}, health={"enabled": False})
    for i in range(3):
        response = await _get(app, f"/orders/{i}?token={SECRET}",
                              authorization=f"Bearer {SECRET}", cookie=f"s={SECRET}",
                              x_user="ann")
        assert response.status_code == 500
    assert (await _get(app, "/health")).status_code == 500  # ignored by the default rule
    (issue,) = errors.issues()
    assert issue.count == 3
    assert issue.routes == {"/orders/{order_id}"}
    event = issue.samples[-1]
    request = event["request"]
    assert request["method"] == "GET"
    assert request["route"] == "/orders/{order_id}"
    assert request["headers"]["authorization"] == "[REDACTED]"
    assert request["headers"]["cookie"] == "[REDACTED]"
    server = next(s for s in traces.finished_spans() if s.name == "GET /orders/{order_id}"
                  and format(s.context.trace_id, "032x") == event["trace_id"])
    assert server.status.status_code.name == "ERROR"
    assert event["mechanism"] == {"type": "request", "handled": False}
    assert SECRET not in json.dumps(event, default=str)
    assert "gateway refused token=" in event["message"]
    from watchkeeper import _runtime
    from watchkeeper.metrics import render_registry

    exposed = render_registry(_runtime.registry())
    assert 'errors_total{type="ConnectionError",route="/orders/{order_id}"} 3.0' in exposed


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_thread_asyncio_and_sys_hooks_capture_unhandled_errors() -> None:
    watchkeeper.init(traces={"enabled": False})

    def crash_in_thread() -> None:
        raise LookupError("thread crashed")

    thread = threading.Thread(target=crash_in_thread)
    thread.start()
    thread.join()

    async def main() -> None:
        from watchkeeper.errors._hooks import ensure_loop_handler

        ensure_loop_handler()

        async def fail() -> None:
            raise OSError("task crashed")

        task = asyncio.get_running_loop().create_task(fail())
        await asyncio.sleep(0.01)
        del task  # never awaited: the loop reports it when collected
        import gc

        gc.collect()
        await asyncio.sleep(0)

    asyncio.run(main())
    try:
        raise UnicodeError("interpreter level")
    except UnicodeError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    mechanisms = {i.type: i.samples[0]["mechanism"]["type"] for i in errors.issues()}
    assert mechanisms == {"LookupError": "threading.excepthook", "OSError": "asyncio",
                          "UnicodeError": "sys.excepthook"}


def test_log_context_fields_reach_events() -> None:
    from watchkeeper.logs import bound

    watchkeeper.init(traces={"exporters": ["memory"]})
    with bound(user={"id": "u-9"}), watchkeeper.span("job"):
        trace_id = watchkeeper.current_trace_id()
        watchkeeper.capture_message("odd state")
    event = errors.issues()[0].samples[0]
    assert event["trace_id"] == trace_id
    assert event["user"] == {"id": "u-9"}
    assert errors.issues()[0].affected_users == 1


@contextmanager
def _capture_server() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    received: list[tuple[str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            received.append((self.path, body))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def _wait(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_events_reach_the_hub_over_http() -> None:
    with _capture_server() as (base, received):
        watchkeeper.init(errors={"hub_url": base}, traces={"enabled": False})
        try:
            int("nope")
        except ValueError as exc:
            watchkeeper.capture_exception(exc, extra={"password": "hunter2"})
        _wait(lambda: received)
    path, body = received[0]
    assert path == "/api/v1/errors"
    event = json.loads(body)
    assert event["type"] == "ValueError"
    assert event["extra"] == {"password": "[REDACTED]"}


def test_events_are_forwarded_to_sentry() -> None:
    import sentry_sdk

    with _capture_server() as (base, received):
        port = base.rsplit(":", 1)[1]
        try:
            watchkeeper.init(errors={"sentry_dsn": f"http://public@127.0.0.1:{port}/42"},
                             traces={"enabled": False})
            try:
                int("nope")
            except ValueError as exc:
                fingerprint = watchkeeper.capture_exception(exc)
            sentry_sdk.flush(5)
            _wait(lambda: received)
        finally:
            sentry_sdk.get_client().close()
    path, body = received[0]
    assert path == "/api/42/envelope/"
    items = [json.loads(line) for line in body.splitlines() if line.startswith(b"{")]
    event = next(i for i in items if "exception" in i)
    assert event["fingerprint"] == [fingerprint]
    assert event["exception"]["values"][-1]["type"] == "ValueError"
