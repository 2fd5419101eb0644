"""Real PostgreSQL and Redis: up, stopped, and a TCP server that accepts but never answers."""

from __future__ import annotations

import time

import pytest

from watchkeeper import health

from .conftest import PG_PASSWORD, REDIS_PASSWORD, Postgres, Redis
from .helpers import HangingServer, free_port, make_settings

pytestmark = pytest.mark.slow


def run(name: str, func: object, timeout: float = 2.0) -> health.CheckResult:
    health.reset()
    health.add_check(name, func, timeout=timeout)  # type: ignore[arg-type]
    return health.configure(make_settings()).runner.run_now(name, 10)


def test_postgres_up_stopped_hanging(postgres: Postgres, hanging_server: HangingServer) -> None:
    up = run("db", health.postgres_check(postgres.dsn))
    assert up.status is health.Status.PASS
    assert "SELECT 1 ok (asyncpg)" in up.message
    assert PG_PASSWORD not in up.message
    assert "postgres:***@127.0.0.1" in up.message
    assert up.latency < 1.0

    wrong = postgres.dsn.replace(PG_PASSWORD, "wrong-pass-xyz")
    denied = run("db", health.postgres_check(wrong))
    assert denied.status is health.Status.FAIL
    assert "password authentication failed" in denied.message
    assert "wrong-pass-xyz" not in denied.message

    postgres.stop()
    try:
        down = run("db", health.postgres_check(postgres.dsn))
        assert down.status is health.Status.FAIL
        assert "Connect" in down.message or "refused" in down.message
        assert PG_PASSWORD not in down.message
        assert down.latency < 1.0
    finally:
        postgres.start()

    hung_dsn = f"postgresql://postgres:{PG_PASSWORD}@127.0.0.1:{hanging_server.port}/postgres"
    hung = run("db", health.postgres_check(hung_dsn), timeout=0.5)
    assert hung.status is health.Status.FAIL
    assert hung.message == "timed out after 0.5s"
    assert 0.5 <= hung.latency < 0.7
    assert run("db", health.postgres_check(postgres.dsn)).ok  # back up after the restart


def test_redis_up_stopped_hanging(redis_server: Redis, hanging_server: HangingServer) -> None:
    up = run("cache", health.redis_check(redis_server.url))
    assert up.status is health.Status.PASS
    assert up.message.endswith("PING ok")
    assert REDIS_PASSWORD not in up.message
    assert up.latency < 1.0

    redis_server.stop()
    try:
        down = run("cache", health.redis_check(redis_server.url))
        assert down.status is health.Status.FAIL
        assert "ConnectionError" in down.message
        assert REDIS_PASSWORD not in down.message
        assert down.latency < 1.0
    finally:
        redis_server.start()

    hung = run("cache", health.redis_check(f"redis://127.0.0.1:{hanging_server.port}/0"),
               timeout=0.5)
    assert hung.status is health.Status.FAIL
    assert hung.message == "timed out after 0.5s"
    # The cancelled check hangs up (cancellation is delivered just after the timeout).
    deadline = time.monotonic() + 2
    while hanging_server.open_connections() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert hanging_server.open_connections() == 0
    assert run("cache", health.redis_check(redis_server.url)).ok


def test_from_settings(postgres: Postgres, redis_server: Redis) -> None:
    h = health.configure(make_settings(checks=[
        {"name": "db", "type": "postgres", "timeout": "2s", "options": {"dsn": postgres.dsn}},
        {"name": "cache", "type": "redis", "critical": False,
         "options": {"url": redis_server.url}},
    ]))
    assert h.runner.run_now("db", 10).ok
    assert h.runner.run_now("cache", 10).ok


def test_breaker_state_shared_through_redis(redis_server: Redis) -> None:
    shared_a = health.RedisBreakerState(redis_server.url, poll_interval=0.05,
                                        prefix="test:breaker:")
    shared_b = health.RedisBreakerState(redis_server.url, poll_interval=0.05,
                                        prefix="test:breaker:")
    replica_a = health.CircuitBreaker("shared-payments", fail_max=1, reset_timeout=30)
    replica_b = health.CircuitBreaker("shared-payments", fail_max=1, reset_timeout=30)
    shared_a.attach(replica_a)
    shared_b.attach(replica_b)
    try:
        replica_a.open()
        deadline = time.monotonic() + 5
        while replica_b.state != "open" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert replica_b.state == "open"
        with pytest.raises(health.CircuitOpenError):
            replica_b.call(lambda: None)
        replica_a.close()
        import redis

        client = redis.Redis.from_url(redis_server.url)
        deadline = time.monotonic() + 5
        while client.exists("test:breaker:shared-payments") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not client.exists("test:breaker:shared-payments")
        client.close()
    finally:
        shared_a.close()
        shared_b.close()


def test_shared_state_with_redis_down_decides_locally() -> None:
    shared = health.RedisBreakerState(f"redis://127.0.0.1:{free_port()}/0", poll_interval=0.05)
    breaker = health.CircuitBreaker("lonely", fail_max=1)
    shared.attach(breaker)
    try:
        start = time.monotonic()
        breaker.open()
        assert time.monotonic() - start < 0.05  # never waits on Redis
        assert breaker.state == "open"
        breaker.close()
        assert breaker.call(lambda: 5) == 5
    finally:
        shared.close()
