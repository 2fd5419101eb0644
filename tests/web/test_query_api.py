"""The Prometheus-compatible query API, spoken to with httpx like Grafana would."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from watchkeeper.tsdb import TSDB, make_labels
from watchkeeper.web import create_query_app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    db = TSDB()
    app = db.appender()
    for i in range(41):
        app.append(make_labels({"__name__": "up", "job": "api"}), i * 15_000, 1.0)
        app.append(make_labels({"__name__": "req_total", "job": "api"}), i * 15_000, i * 3.0)
    app.commit()
    transport = httpx.ASGITransport(app=create_query_app(db, clock=lambda: 600.0))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def test_instant_query_vector_shape(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/query", params={"query": "up", "time": "300"})
    assert r.status_code == 200
    assert r.json() == {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"__name__": "up", "job": "api"}, "value": [300, "1"]}]}}


async def test_instant_query_defaults_to_now_and_scalar(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/query", params={"query": "time()"})
    assert r.json()["data"] == {"resultType": "scalar", "result": [600, "600"]}


async def test_query_range_get_and_post(client: httpx.AsyncClient) -> None:
    params = {"query": "rate(req_total[1m])", "start": "60", "end": "180", "step": "1m"}
    r1 = await client.get("/api/v1/query_range", params=params)
    r2 = await client.post("/api/v1/query_range", data=params)
    assert r1.status_code == r2.status_code == 200
    assert r1.json() == r2.json()
    res = r1.json()["data"]
    assert res["resultType"] == "matrix"
    values = res["result"][0]["values"]
    assert [t for t, _ in values] == [60, 120, 180]
    assert [float(v) for _, v in values] == pytest.approx([0.2, 0.2, 0.2])


async def test_rfc3339_time(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/query", params={"query": "up",
                                                  "time": "1970-01-01T00:05:00Z"})
    assert r.json()["data"]["result"][0]["value"][0] == 300


async def test_errors_have_prometheus_types(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/query", params={"query": "sum("})
    assert r.status_code == 400
    assert r.json()["errorType"] == "bad_data"
    r = await client.get("/api/v1/query_range", params={"query": "up", "start": "10",
                                                        "end": "0", "step": "1"})
    assert r.status_code == 400
    r = await client.get("/api/v1/query", params={
        "query": '{__name__=~"up|req_total"} * 1', "time": "300"})
    assert r.status_code == 422
    assert r.json()["errorType"] == "execution"


async def test_series_labels_values(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/series", params={"match[]": "up"})
    assert r.json()["data"] == [{"__name__": "up", "job": "api"}]
    r = await client.get("/api/v1/series")
    assert r.status_code == 400
    r = await client.get("/api/v1/labels")
    assert r.json()["data"] == ["__name__", "job"]
    r = await client.get("/api/v1/label/__name__/values")
    assert r.json()["data"] == ["req_total", "up"]
    r = await client.get("/api/v1/label/job/values", params={"match[]": "up"})
    assert r.json()["data"] == ["api"]


async def test_metadata_and_buildinfo(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/metadata")).json() == {"status": "success", "data": {}}
    info = (await client.get("/api/v1/status/buildinfo")).json()["data"]
    assert set(info) >= {"version", "revision", "branch", "goVersion"}


def test_public_api_is_pinned() -> None:
    from watchkeeper import web

    assert web.__all__ == ["create_query_app"]
