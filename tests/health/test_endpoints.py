"""Endpoint handlers: shapes, status codes, media types, and never a 500."""

from __future__ import annotations

import asyncio
import threading
import time

import orjson
import pytest

from watchkeeper import health

from .helpers import call, make_settings


def body(response: object) -> dict[str, object]:
    return orjson.loads(response.body)  # type: ignore[attr-defined, no-any-return]


@pytest.fixture
def eps() -> dict[str, object]:
    settings = make_settings()
    health.configure(settings)
    return health.endpoints(settings)  # type: ignore[return-value]


def test_paths_are_configurable() -> None:
    settings = make_settings(path="/hc", live_path="/hc/l", ready_path="/hc/r",
                             component_path="/hc/c/{which}")
    assert set(health.endpoints(settings)) == {
        "/hc", "/hc/l", "/hc/r", "/health/startup", "/health/checks", "/health/dependencies",
        "/hc/c/{which}"}


async def test_overall_shape_and_statuses(eps: dict[str, object]) -> None:
    @health.check("db", critical=True, timeout=1)
    async def db() -> tuple[bool, str]:
        return True, "5 ms"

    @health.check("cache", critical=False, timeout=1)
    def cache() -> bool:
        return False

    response = await call(eps["/health"], "/health")
    data = body(response)
    assert response.status == 200
    assert response.content_type == "application/json"
    assert data["status"] == "warn"
    assert data["checks"] == {"db": True, "cache": False}
    assert data["details"] == {"db": "5 ms", "cache": "fail"}
    assert {"service", "version", "uptime", "timestamp"} <= set(data)
    ready = await call(eps["/health/ready"], "/health/ready")
    assert ready.status == 200
    assert body(ready)["status"] == "warn"


async def test_critical_failure_is_503(eps: dict[str, object]) -> None:
    @health.check("db", critical=True, timeout=1)
    def db() -> bool:
        raise OSError("connection refused")

    for path in ("/health", "/health/ready", "/health/dependencies"):
        response = await call(eps[path], path)
        assert response.status == 503, path
        assert body(response)["status"] == "fail"
    ready = body(await call(eps["/health/ready"], "/health/ready"))
    assert ready["output"] == "critical checks failing: db"


async def test_health_json_media_type(eps: dict[str, object]) -> None:
    response = await call(eps["/health/live"], "/health/live",
                          headers={"accept": "application/health+json"})
    assert response.content_type == "application/health+json"
    assert ("cache-control", "no-store") in response.headers


async def test_live_is_fast_and_does_no_io_while_checks_hang(eps: dict[str, object]) -> None:
    release = threading.Event()

    @health.check("hang", timeout=5)
    def hang() -> bool:
        release.wait(10)
        return True

    try:
        start = time.perf_counter()
        for _ in range(100):
            response = await call(eps["/health/live"], "/health/live")
            assert response.status == 200
        assert (time.perf_counter() - start) / 100 < 0.005
    finally:
        release.set()


async def test_startup_waits_for_mark_when_configured() -> None:
    settings = make_settings(startup_requires_mark=True)
    health.configure(settings)
    eps = health.endpoints(settings)
    first = await call(eps["/health/startup"], "/health/startup")
    assert first.status == 503
    assert "mark_started" in body(first)["output"]
    assert (await call(eps["/health/ready"], "/health/ready")).status == 503
    health.mark_started()
    assert (await call(eps["/health/startup"], "/health/startup")).status == 200
    assert (await call(eps["/health/ready"], "/health/ready")).status == 200


async def test_startup_passes_after_first_round_by_default(eps: dict[str, object]) -> None:
    gate = threading.Event()

    @health.check("slow_start", timeout=5)
    def slow_start() -> bool:
        gate.wait(5)
        return True

    assert (await call(eps["/health/startup"], "/health/startup")).status == 503
    gate.set()
    for _ in range(100):
        if (await call(eps["/health/startup"], "/health/startup")).status == 200:
            break
        await asyncio.sleep(0.02)
    else:
        pytest.fail("startup never passed")


async def test_checks_detail_and_breakers(eps: dict[str, object]) -> None:
    @health.check("db", timeout=1, tags=["sql"])
    def db() -> bool:
        return True

    breaker = health.CircuitBreaker("payments", fail_max=1)
    breaker.open()
    await call(eps["/health"], "/health")
    data = body(await call(eps["/health/checks"], "/health/checks"))
    db_info = data["checks"]["db"]  # type: ignore[index]
    assert db_info["status"] == "pass"
    assert db_info["tags"] == ["sql"]
    assert db_info["consecutive_failures"] == 0
    assert db_info["last_success"]
    assert {"latency_ms", "last_failure", "message", "critical"} <= set(db_info)
    assert data["circuit_breakers"]["payments"]["state"] == "open"  # type: ignore[index]


async def test_components(eps: dict[str, object], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", "watchkeeper.health")
    health.set_component_status("kafka_consumer", True, {"lag": 3})
    health.set_component_status("kafka_consumer", True, {"lag": 4})
    health.set_component_status("kafka_consumer", False, "rebalancing")
    assert [r.levelname for r in caplog.records if "kafka_consumer" in r.getMessage()] == [
        "INFO", "ERROR"]
    component = eps["/health/component/{name}"]
    response = await call(component, "/health/component/kafka_consumer",
                          params={"name": "kafka_consumer"})
    assert response.status == 503
    assert body(response)["details"] == "rebalancing"
    missing = await call(component, "/health/component/nope", params={"name": "nope"})
    assert missing.status == 404
    overall = body(await call(eps["/health"], "/health"))
    assert overall["status"] == "warn"
    assert overall["checks"] == {"kafka_consumer": False}
    deps = body(await call(eps["/health/dependencies"], "/health/dependencies"))
    assert deps["dependencies"]["kafka_consumer"]["type"] == "component"  # type: ignore[index]
    health.set_component_status("kafka_consumer", False, critical=True)
    assert (await call(eps["/health/ready"], "/health/ready")).status == 503


async def test_component_endpoint_also_serves_checks(eps: dict[str, object]) -> None:
    @health.check("db", timeout=1)
    def db() -> bool:
        return True

    response = await call(eps["/health/component/{name}"], "/health/component/db",
                          params={"name": "db"})
    assert response.status == 200
    assert body(response)["status"] == "pass"


async def test_endpoint_never_500s(eps: dict[str, object],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from watchkeeper.health import _endpoints

    def broken() -> object:
        raise RuntimeError("internal bug")

    monkeypatch.setattr(_endpoints, "current", broken)
    for path, endpoint in eps.items():
        response = await call(endpoint, path)
        assert response.status == 503
        assert body(response)["status"] == "fail"


async def test_hanging_critical_check_answers_within_timeout(eps: dict[str, object]) -> None:
    release = threading.Event()

    @health.check("db", critical=True, timeout=0.3)
    def db() -> bool:
        release.wait(10)
        return True

    try:
        start = time.monotonic()
        responses = await asyncio.gather(*(call(eps["/health/ready"], "/health/ready")
                                           for _ in range(50)))
        assert time.monotonic() - start < 0.3 + 0.1
        assert {r.status for r in responses} == {503}
    finally:
        release.set()
