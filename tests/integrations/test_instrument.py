"""instrument(): detection, idempotency, uninstrument, bad input — in process."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

import watchkeeper
from watchkeeper.exceptions import InstrumentationError
from watchkeeper.integrations import WatchkeeperASGIMiddleware, WatchkeeperWSGIMiddleware


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/x/{y}")
    async def x(y: str) -> dict[str, str]:
        return {"y": y}

    return app


def _client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                             base_url="http://test")


async def _metrics(client: httpx.AsyncClient) -> str:
    return (await client.get("/metrics")).text


async def test_instrument_is_idempotent_and_reversible() -> None:
    app = _app()
    assert watchkeeper.instrument(app) is app
    assert watchkeeper.instrument(app) is app
    assert sum(m.cls is WatchkeeperASGIMiddleware for m in app.user_middleware) == 1
    client = _client(app)
    await client.get("/x/1")
    assert 'route="/x/{y}"' in await _metrics(client)
    watchkeeper.uninstrument(app)
    assert (await client.get("/metrics")).status_code == 404


async def test_instrument_after_startup_takes_effect() -> None:
    app = _app()
    client = _client(app)
    assert (await client.get("/x/1")).status_code == 200  # middleware stack already built
    watchkeeper.instrument(app)
    await client.get("/x/2")
    assert 'http_requests_total{method="GET",route="/x/{y}",status_code="200"} 1.0' in (
        await _metrics(client))


async def test_metrics_path_is_configurable() -> None:
    app = _app()
    watchkeeper.instrument(app, metrics={"path": "/internal/metrics"})
    client = _client(app)
    assert (await client.get("/metrics")).status_code == 404
    assert (await client.get("/internal/metrics")).status_code == 200
    assert (await client.post("/internal/metrics")).status_code == 405


@pytest.mark.parametrize("thing", [42, "app", object(), lambda: None, lambda a, b, c, d: None])
def test_unknown_objects_are_refused_clearly(thing: object) -> None:
    with pytest.raises(InstrumentationError, match="expected a FastAPI, Starlette, Flask"):
        watchkeeper.instrument(thing)


def test_plain_asgi_and_wsgi_callables_are_wrapped() -> None:
    async def asgi(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def wsgi(environ, start_response):  # type: ignore[no-untyped-def]
        start_response("200 OK", [("content-type", "text/plain")])
        return [b"ok"]

    wrapped_asgi = watchkeeper.instrument(asgi)
    wrapped_wsgi = watchkeeper.instrument(wsgi)
    assert isinstance(wrapped_asgi, WatchkeeperASGIMiddleware)
    assert isinstance(wrapped_wsgi, WatchkeeperWSGIMiddleware)
    assert watchkeeper.instrument(wrapped_asgi) is wrapped_asgi
    assert watchkeeper.uninstrument(wrapped_wsgi) is wsgi
    with httpx.Client(transport=httpx.WSGITransport(app=wrapped_wsgi),
                      base_url="http://t") as client:
        assert client.get("/anything").text == "ok"
        text = client.get("/metrics").text
    assert 'route="<unmatched>",status_code="200"} 1.0' in text


async def test_failing_hook_never_breaks_the_request() -> None:
    from watchkeeper import _runtime

    class Broken:
        def on_request(self, record):  # type: ignore[no-untyped-def]
            raise RuntimeError("hook bug")

        def on_response(self, record):  # type: ignore[no-untyped-def]
            raise RuntimeError("hook bug")

    app = _app()
    watchkeeper.instrument(app)
    middleware = next(m for m in app.user_middleware if m.cls is WatchkeeperASGIMiddleware)
    middleware.kwargs["stack"].hooks.insert(0, Broken())
    client = _client(app)
    assert (await client.get("/x/1")).json() == {"y": "1"}
    assert 'watchkeeper_internal_errors_total{component="request_hook"} 2.0' in (
        await _metrics(client))
    assert _runtime.registry() is not None


async def test_weird_methods_do_not_mint_series() -> None:
    app = _app()
    watchkeeper.instrument(app)
    client = _client(app)
    for i in range(5):
        await client.request(f"BREW{i}", "/x/1")
    text = await _metrics(client)
    assert 'method="_OTHER"' in text
    assert "BREW" not in text


async def test_content_negotiation_and_gzip() -> None:
    app = _app()
    watchkeeper.instrument(app, metrics={"host": True})
    client = _client(app)
    await client.get("/x/1")
    text = await client.get("/metrics")
    assert text.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "system_memory_bytes" in text.text
    om = await client.get("/metrics", headers={
        "accept": "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
        "accept-encoding": "gzip"})
    assert om.headers["content-type"].startswith("application/openmetrics-text")
    assert om.headers["content-encoding"] == "gzip"
    # httpx decodes transparently; what crossed the wire was the smaller gzip body
    assert om.text.endswith("# EOF\n")
    assert int(om.headers["content-length"]) < len(om.content)
    head = await client.head("/metrics")
    assert head.status_code == 200
    assert head.content == b""


async def test_requests_answered_by_security_are_still_counted() -> None:
    app = _app()
    watchkeeper.instrument(app, security={"mode": "block"})
    client = _client(app)
    blocked = await client.get("/x/1", params={"q": "1' UNION SELECT password FROM users--"})
    assert blocked.status_code == 403
    text = await _metrics(client)
    assert 'http_requests_total{method="GET",route="<unmatched>",status_code="403"} 1.0' in text


async def test_lifespan_shutdown_flushes_the_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from watchkeeper import _runtime

    flushed: list[float] = []
    monkeypatch.setattr(_runtime, "flush_stages", lambda timeout=5.0: flushed.append(timeout))
    app = _app()
    watchkeeper.instrument(app)
    incoming: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    sent: list[str] = []

    async def receive() -> dict[str, str]:
        return await incoming.get()

    async def send(message: dict[str, str]) -> None:
        sent.append(message["type"])

    for kind in ("lifespan.startup", "lifespan.shutdown"):
        incoming.put_nowait({"type": kind})
    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)  # type: ignore[arg-type]
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert flushed == [5.0]


@pytest.mark.parametrize(("value", "size"), [
    (b"512", 512), (b"", 0), (b"12abc", 0), (b"-5", 0), ("\u00b2".encode("latin-1"), 0),
    (None, 0)])
def test_request_size_comes_from_content_length_when_asked(value: bytes | None,
                                                           size: int) -> None:
    from watchkeeper._http_types import RequestRecord

    headers = [] if value is None else [(b"content-length", value)]
    scope = {"type": "http", "headers": headers}
    record = RequestRecord("POST", "/", "", "http", None, 0.0, 0.0, scope)
    assert record.request_bytes == size
    record.request_bytes = 7  # an integration that knows better (WSGI) sets it
    assert record.request_bytes == 7


async def test_a_crash_500_carries_the_request_id_only_when_a_stage_adds_one() -> None:
    def crashing() -> FastAPI:
        app = FastAPI()

        @app.get("/boom")
        async def boom() -> None:
            raise RuntimeError("boom")

        return app

    with_logs = watchkeeper.instrument(crashing())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(  # type: ignore[arg-type]
            app=with_logs, raise_app_exceptions=False), base_url="http://test") as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert response.headers.get("x-request-id")
    bare = watchkeeper.instrument(crashing(), logs={"enabled": False})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(  # type: ignore[arg-type]
            app=bare, raise_app_exceptions=False), base_url="http://test") as client:
        response = await client.get("/boom")
        assert response.status_code == 500
        assert "x-request-id" not in response.headers
        assert 'http_requests_total{method="GET",route="/boom",status_code="500"} 2.0' in (
            await client.get("/metrics")).text  # still counted
