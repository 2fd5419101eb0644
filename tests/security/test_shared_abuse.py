"""Brute-force counts and blocks shared by two workers through a real Redis; fallback to
per-process counting when Redis is down."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import httpx
import pytest

import watchkeeper
from tests._servers import free_port, serve, uvicorn, value
from watchkeeper import security
from watchkeeper.metrics._endpoint import render_registry

APPS = Path(__file__).parent / "apps"


def _fresh(base: str) -> httpx.Client:
    # a new connection per request, so the kernel spreads them over both workers
    return httpx.Client(base_url=base, limits=httpx.Limits(max_keepalive_connections=0))


@pytest.mark.slow
def test_two_workers_share_failures_and_blocks(redis_url: str, tmp_path: Path) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushall()
    log = tmp_path / "security.log"
    port = free_port()
    env = {"WATCHKEEPER_SECURITY__MODE": "block",
           "WATCHKEEPER_SECURITY__BRUTE_FORCE__STORAGE": redis_url,
           "WATCHKEEPER_SECURITY__BRUTE_FORCE__BLOCK_TTL": "30m",
           "WATCHKEEPER_SECURITY__AUDIT__PATH": str(tmp_path / "audit.jsonl"),
           "SECURITY_TEST_LOG": str(log)}
    with serve(uvicorn("secure_app:app", port, "--workers", "2"), port, env=env, cwd=APPS,
               probe="/metrics") as base, _fresh(base) as client:
        pids: set[int] = set()
        deadline = time.monotonic() + 20
        while len(pids) < 2 and time.monotonic() < deadline:  # both workers answer
            pids.add(client.get("/pid").json()["pid"])
        assert len(pids) == 2
        statuses = [client.post("/login", json={"password": "wrong"}).status_code
                    for _ in range(10)]
        assert statuses == [401] * 10  # 10 failures: at the threshold, not over it
        assert client.post("/login", json={"password": "wrong"}).status_code == 401
        deadline = time.monotonic() + 5
        answers: list[int] = []
        while time.monotonic() < deadline:
            answers = [client.get("/items/1").status_code for _ in range(10)]
            if answers == [403] * 10:
                break
            time.sleep(0.05)
        assert answers == [403] * 10, answers  # every worker refuses the blocked client
        blocked = client.get("/items/1")
        assert 1700 < int(blocked.headers["retry-after"]) <= 1800
    text = log.read_text()
    assert text.count("possible brute force ip") == 1, text  # one incident, not one per worker
    report = security.verify_audit(tmp_path / "audit.jsonl")  # raises when broken
    events = [json.loads(line)["event"] for line in
              (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert report.records == len(events)
    assert events.count("auth_failure") == 11
    assert events.count("incident") == 1
    assert events.count("client_blocked") == 1


def test_redis_down_falls_back_to_per_process_counts(
        caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()  # nothing listens there
    watchkeeper.init(security={"mode": "block", "audit": {"enabled": False},
                               "brute_force": {"storage": f"redis://127.0.0.1:{port}",
                                               "sync_interval": "10ms"}})
    incidents: list[security.Incident] = []
    arrived = threading.Event()

    def seen(incident: security.Incident) -> None:
        incidents.append(incident)
        arrived.set()

    security.on_incident(seen)
    guard = security.current()
    assert guard.shared is not None
    caplog.set_level(logging.ERROR, "watchkeeper.security")
    for _ in range(11):
        security.auth_failed(None, "192.0.2.77")
    assert arrived.wait(10), "no incident once Redis failed"
    assert [(i.kind, i.subject, i.count) for i in incidents] == [
        ("brute_force_ip", "192.0.2.77", 11)]
    assert guard.blocklist.remaining("192.0.2.77") > 0
    deadline = time.monotonic() + 5
    while not guard.shared.failing and time.monotonic() < deadline:
        time.sleep(0.01)
    # known down: decided on the request path now, and returned to the caller
    for _ in range(10):
        assert security.auth_failed(None, "192.0.2.78") == []
    found = security.auth_failed(None, "192.0.2.78")
    assert [(i.kind, i.count) for i in found] == [("brute_force_ip", 11)]
    unreachable = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(unreachable) == 1
    errors = value(render_registry(guard.registry), "watchkeeper_internal_errors_total",
                   component="brute_force")
    assert errors is not None
    assert errors >= 1
