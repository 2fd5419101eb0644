"""Acceptance on real servers: FastAPI under uvicorn, Flask and Django under gunicorn,
each instrumented with ``watchkeeper.instrument(app)`` (the middleware serves /health/*).

While the critical dependency hangs, 200 concurrent /health/ready all answer 503 within
the check timeout + 100 ms and the dependency sees at most one check in flight."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import httpx
import orjson
import pytest

from tests._servers import free_port, gunicorn, serve, uvicorn

from .helpers import HangingServer, get

pytestmark = pytest.mark.slow
APPS = Path(__file__).parent / "apps"
TIMEOUT = 1.0

SERVERS = {
    "fastapi-uvicorn": lambda port: uvicorn("health_fastapi_app:app", port, "--backlog", "1024"),
    "flask-gunicorn": lambda port: gunicorn("health_flask_app:app", port, "--workers", "1",
                                            "--worker-class", "gthread", "--threads", "200"),
    "django-gunicorn": lambda port: gunicorn("health_django_app:application", port,
                                             "--workers", "1", "--worker-class", "gthread",
                                             "--threads", "200"),
}


@pytest.mark.parametrize("kind", list(SERVERS))
def test_health_endpoints_on_real_servers(kind: str, hanging_server: HangingServer) -> None:
    port = free_port()
    env = {"HANG_URL": f"http://127.0.0.1:{hanging_server.port}/",
           "CHECK_TIMEOUT": str(TIMEOUT)}
    peak = 0
    stop = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, hanging_server.open_connections())
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()

    async def wave(path: str = "/health/ready") -> list[tuple[int, float]]:
        return await asyncio.gather(*(get(port, path) for _ in range(200)))

    with serve(SERVERS[kind](port), port, env=env, probe="/health/live", cwd=APPS) as base:
        try:
            waves = [asyncio.run(wave())]
            time.sleep(0.5)
            waves.append(asyncio.run(wave()))
            # The same burst on a plain route: on a machine too busy to serve 200 requests
            # within the bound at all, the health endpoint must still add under 100 ms.
            bare = asyncio.run(wave("/hello"))
        finally:
            stop.set()
            watcher.join()
        with httpx.Client(base_url=base, timeout=10) as client:
            live = client.get("/health/live")
            overall = client.get("/health", headers={"accept": "application/health+json"})
            checks = client.get("/health/checks").json()
            component = client.get("/health/component/consumer")
            missing = client.get("/health/component/nope")
            metrics = client.get("/metrics").text
            hello = client.get("/hello")
    print(kind, "waves (min, max s):",
          [(round(min(e for _, e in r), 3), round(max(e for _, e in r), 3)) for r in waves],
          "bare max:", round(max(e for _, e in bare), 3), "peak in-flight:", peak,
          "connections accepted:", hanging_server.accepted)
    for results in waves:
        assert {status for status, _ in results} == {503}
        slowest = max(elapsed for _, elapsed in results)
        bound = max(TIMEOUT, *(elapsed for _, elapsed in bare)) + 0.1
        assert slowest < bound, f"{kind}: slowest /health/ready took {slowest:.3f}s"
    assert peak <= 1
    assert live.status_code == 200
    assert overall.status_code == 503
    assert overall.headers["content-type"] == "application/health+json"
    body = orjson.loads(overall.content)
    assert (body["service"], body["version"]) == ("health-test", "1.2.3")
    assert body["checks"] == {"db": False, "disk": True, "consumer": True}
    assert checks["checks"]["db"]["consecutive_failures"] >= 1
    assert checks["circuit_breakers"]["payments"]["state"] == "closed"
    assert component.status_code == 200
    assert missing.status_code == 404
    assert 'health_check_status{check="db"} 0.0' in metrics
    assert 'health_check_failures_total{check="db"}' in metrics
    assert 'circuit_breaker_state{name="payments"} 0.0' in metrics
    assert hello.status_code == 200
