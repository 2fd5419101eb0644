"""Server spans from the middleware's single pass, in process (ASGI and WSGI)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, HTTPException

import watchkeeper
from watchkeeper import traces

PARENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN = "00f067aa0ba902b7"
# The test's own httpx client must not be traced (it would inject its own traceparent).
NO_CLIENT_PATCH = {"http_client": False}


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, object]:
        with watchkeeper.span("load item"):
            pass
        return {"id": item_id, "trace": watchkeeper.current_trace_id()}

    @app.get("/boom")
    async def boom() -> None:
        raise ValueError("handler failure")

    @app.get("/missing")
    async def missing() -> None:
        raise HTTPException(404)

    return app


def _client(app: object) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def _server_spans() -> list[object]:
    return [s for s in traces.finished_spans() if s.kind.name == "SERVER"]


async def test_one_server_span_per_request_with_http_conventions() -> None:
    app = _app()
    watchkeeper.instrument(app, metrics=NO_CLIENT_PATCH, traces={"exporters": ["memory"],
                                        "trace_id_header": "X-Trace-Id"})
    async with _client(app) as client:
        response = await client.get("/items/3?q=1", headers={"user-agent": "t"})
    body = response.json()
    assert response.headers["x-trace-id"] == body["trace"]
    (server,) = _server_spans()  # FastAPI's own tracing stayed off: one server span
    assert server.name == "GET /items/{item_id}"
    attrs = server.attributes
    assert attrs["http.request.method"] == "GET"
    assert attrs["http.route"] == "/items/{item_id}"
    assert attrs["http.response.status_code"] == 200
    assert attrs["url.path"] == "/items/3"
    assert attrs["url.query"] == "q=1"
    assert format(server.context.trace_id, "032x") == body["trace"]
    inner = next(s for s in traces.finished_spans() if s.name == "load item")
    assert inner.parent.span_id == server.context.span_id
    assert len(traces.finished_spans()) == 2  # no receive/send sub-spans


async def test_incoming_traceparent_and_baggage_are_honoured() -> None:
    app = _app()
    watchkeeper.instrument(app, metrics=NO_CLIENT_PATCH, traces={"exporters": ["memory"]})
    async with _client(app) as client:
        response = await client.get("/items/1", headers={
            "traceparent": f"00-{PARENT_TRACE}-{PARENT_SPAN}-01", "baggage": "tenant=acme"})
    assert response.json()["trace"] == PARENT_TRACE
    (server,) = _server_spans()
    assert format(server.parent.span_id, "016x") == PARENT_SPAN
    assert server.parent.is_remote


@pytest.mark.parametrize("header", [
    "garbage", f"00-{'0' * 32}-{PARENT_SPAN}-01", f"00-{PARENT_TRACE}-{'0' * 16}-01",
    f"ff-{PARENT_TRACE}-{PARENT_SPAN}-01", f"00-{PARENT_TRACE.upper()}-{PARENT_SPAN}-01",
    "00-" + "x" * 5000, "",
])
async def test_malformed_traceparent_starts_a_new_trace(header: str) -> None:
    app = _app()
    watchkeeper.instrument(app, metrics=NO_CLIENT_PATCH, traces={"exporters": ["memory"]})
    async with _client(app) as client:
        response = await client.get("/items/1", headers={"traceparent": header})
    assert response.status_code == 200
    (server,) = _server_spans()
    assert server.parent is None
    assert format(server.context.trace_id, "032x") != PARENT_TRACE


async def test_exceptions_and_error_statuses() -> None:
    app = _app()
    watchkeeper.instrument(app, metrics=NO_CLIENT_PATCH, traces={"exporters": ["memory"]})
    async with _client(app) as client:
        assert (await client.get("/boom")).status_code == 500
        assert (await client.get("/missing")).status_code == 404
    spans = {s.name: s for s in _server_spans()}
    boom = spans["GET /boom"]
    assert boom.status.status_code.name == "ERROR"
    assert boom.attributes["error.type"] == "ValueError"
    assert boom.events[0].name == "exception"
    missing = spans["GET /missing"]
    assert missing.status.status_code.name == "UNSET"  # a 4xx is the client's error


async def test_unsampled_requests_add_no_header_and_export_nothing() -> None:
    app = _app()
    watchkeeper.instrument(app, metrics=NO_CLIENT_PATCH,
                           traces={"exporters": ["memory"], "sample_ratio": 0.0,
                                   "trace_id_header": "X-Trace-Id"})
    async with _client(app) as client:
        response = await client.get("/items/1")
    assert "x-trace-id" not in response.headers
    assert traces.finished_spans() == []


def test_wsgi_requests_get_server_spans() -> None:
    from flask import Flask

    app = Flask(__name__)

    @app.get("/hello/<name>")
    def hello(name: str) -> dict[str, str | None]:
        return {"trace": watchkeeper.current_trace_id()}

    watchkeeper.instrument(app, metrics=NO_CLIENT_PATCH, traces={"exporters": ["memory"]})
    response = app.test_client().get("/hello/x")
    response.close()  # the WSGI response ends (and the span with it) on close()
    (server,) = _server_spans()
    assert server.name == "GET /hello/<name>"
    assert response.json is not None
    assert response.json["trace"] == format(server.context.trace_id, "032x")


def test_outgoing_httpx_and_requests_calls_get_client_spans_and_traceparent() -> None:
    import requests

    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("traceparent"))
        return httpx.Response(503)

    watchkeeper.init(traces={"exporters": ["memory"]})
    with watchkeeper.span("job"), httpx.Client(transport=httpx.MockTransport(handler)) as c:
        trace_id = watchkeeper.current_trace_id()
        c.get("http://svc.local:8080/pay?token=abc")
    with watchkeeper.span("job2"), pytest.raises(requests.ConnectionError):
        requests.get("http://127.0.0.1:1/x", timeout=1)
    spans = {s.name: s for s in traces.finished_spans()}
    client = next(s for s in traces.finished_spans()
                  if s.kind.name == "CLIENT" and s.attributes["server.port"] == 8080)
    assert seen[0] is not None
    assert seen[0].split("-")[1:3] == [trace_id, format(client.context.span_id, "016x")]
    assert client.parent.span_id == spans["job"].context.span_id
    assert client.attributes["url.full"] == "http://svc.local:8080/pay"
    assert client.attributes["http.response.status_code"] == 503
    assert client.status.status_code.name == "ERROR"
    failed = next(s for s in traces.finished_spans()
                  if s.kind.name == "CLIENT" and s.attributes["server.port"] == 1)
    assert failed.attributes["error.type"] == "ConnectionError"


async def test_duration_histogram_carries_the_trace_id_as_exemplar() -> None:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families

    app = _app()
    watchkeeper.instrument(app, metrics=NO_CLIENT_PATCH, traces={"exporters": ["memory"]})
    async with _client(app) as client:
        trace_id = (await client.get("/items/5")).json()["trace"]
        openmetrics = (await client.get(
            "/metrics", headers={"accept": "application/openmetrics-text"})).text
        plain = (await client.get("/metrics")).text
    assert "# {" not in plain  # the 0.0.4 text format has no exemplars
    families = {f.name: f for f in text_string_to_metric_families(openmetrics)}
    buckets = [s for s in families["http_request_duration_seconds"].samples
               if s.name.endswith("_bucket") and s.exemplar is not None]
    assert len(buckets) == 1
    assert buckets[0].exemplar.labels == {"trace_id": trace_id}
    assert buckets[0].labels["route"] == "/items/{item_id}"


async def test_unsampled_requests_leave_no_exemplar() -> None:
    app = _app()
    watchkeeper.instrument(app, metrics=NO_CLIENT_PATCH,
                           traces={"exporters": ["memory"], "sample_ratio": 0.0})
    async with _client(app) as client:
        await client.get("/items/5")
        text = (await client.get(
            "/metrics", headers={"accept": "application/openmetrics-text"})).text
    assert "trace_id" not in text


async def test_fastapi_builtin_tracing_runs_only_when_asked_for() -> None:
    app = _app()
    watchkeeper.instrument(app, metrics=NO_CLIENT_PATCH,
                           traces={"exporters": ["memory"], "fastapi_native": True})
    async with _client(app) as client:
        await client.get("/items/1")
    # FastAPI's own tracer adds its spans: the double cost the default avoids.
    assert len(traces.finished_spans()) > 2


async def test_a_later_init_turning_tracing_off_stops_spans() -> None:
    from opentelemetry import trace

    app = _app()
    watchkeeper.instrument(app, metrics=NO_CLIENT_PATCH, traces={"exporters": ["memory"],
                                        "trace_id_header": "X-Trace-Id"})
    async with _client(app) as client:
        before = await client.get("/items/1")
        assert before.json()["trace"] is not None
        watchkeeper.init(metrics=NO_CLIENT_PATCH, traces={"enabled": False})
        assert traces.current() is None
        after = await client.get("/items/2")
    assert "x-trace-id" not in after.headers
    assert after.json()["trace"] is None
    # The global provider cannot be unset, but it records nothing any more.
    with trace.get_tracer("user").start_as_current_span("user span") as span:
        assert not span.is_recording()


@pytest.mark.parametrize(("limits", "kept", "route"), [
    # Room for everything: the hook writes route and status straight into the span.
    ({}, {"http.request.method", "url.path", "url.scheme", "url.query", "client.address",
          "app.tenant", "http.route", "http.response.status_code"}, "/limits/{name}"),
    # Four attributes at most: the oldest make room for route and status, as in the SDK.
    ({"max_attributes": 4},
     {"client.address", "app.tenant", "http.route", "http.response.status_code"},
     "/limits/{name}"),
    # A value length limit cuts the route, as it would any attribute.
    ({"max_length": 6},
     {"http.request.method", "url.path", "url.scheme", "url.query", "client.address",
      "app.tenant", "http.route", "http.response.status_code"}, "/limit"),
])
async def test_server_span_attributes_respect_the_span_limits(
        monkeypatch: pytest.MonkeyPatch, limits: dict[str, int], kept: set[str],
        route: str) -> None:
    """The span limits (OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT)
    as the light tracer holds them; the SDK provider reads the environment only once."""
    app = FastAPI()

    @app.get("/limits/{name}")
    async def limited(name: str) -> dict[str, str]:
        from opentelemetry import trace

        trace.get_current_span().set_attribute("app.tenant", "acme")
        return {"name": name}

    watchkeeper.instrument(app, metrics=NO_CLIENT_PATCH, traces={"exporters": ["memory"]})
    state = traces.current()
    assert state is not None
    for name, value in limits.items():
        monkeypatch.setattr(state.tracer, name, value)
    async with _client(app) as client:
        assert (await client.get("/limits/x?page=2")).status_code == 200
    (server,) = _server_spans()
    assert set(server.attributes) == kept
    assert server.attributes["http.route"] == route
    assert server.attributes["http.response.status_code"] == 200
    assert list(server.attributes)[-2:] == ["http.route", "http.response.status_code"]
