"""The runner: bad checks, timeouts, retries, single-flight, at most one execution."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from watchkeeper import health
from watchkeeper.health._definition import CheckRegistry, make_spec
from watchkeeper.health._loop import HealthLoop
from watchkeeper.health._runner import Runner

from .helpers import make_settings


@pytest.fixture
def runner() -> object:
    registry = CheckRegistry()
    loop = HealthLoop("test-health")
    run = Runner(registry, loop, default_timeout=0.3, default_interval=60, background=False)
    run.start()
    yield run
    run.stop()
    loop.stop()


def add(runner: Runner, name: str, func: object, **options: object) -> None:
    runner.registry.add(make_spec(name, func, **options))  # type: ignore[arg-type]


def test_check_that_raises_fails_with_its_message(runner: Runner) -> None:
    def boom() -> bool:
        raise ConnectionError("db at 10.0.0.1 refused")

    add(runner, "boom", boom)
    result = runner.run_now("boom", 5)
    assert result.status is health.Status.FAIL
    assert result.message == "ConnectionError: db at 10.0.0.1 refused"


@pytest.mark.parametrize("value", [42, "yes please", [True], (True, "x", 3), object()])
def test_garbage_return_fails_clearly(runner: Runner, value: object) -> None:
    add(runner, "garbage", lambda: value)
    result = runner.run_now("garbage", 5)
    assert result.status is health.Status.FAIL
    assert "expected" in result.message


@pytest.mark.parametrize(("value", "status", "message"), [
    (True, "pass", ""), (None, "pass", ""), (False, "fail", ""),
    ((False, "replica lag 40s"), "fail", "replica lag 40s"),
    (("warn", "degraded"), "warn", "degraded"), (health.Status.WARN, "warn", ""),
])
def test_accepted_returns(runner: Runner, value: object, status: str, message: str) -> None:
    async def check() -> object:
        return value

    add(runner, "c", check)
    result = runner.run_now("c", 5)
    assert (result.status.value, result.message) == (status, message)


def test_sync_check_that_never_returns_times_out(runner: Runner) -> None:
    release = threading.Event()
    add(runner, "hang", lambda: release.wait(30), timeout=0.2)
    start = time.monotonic()
    result = runner.run_now("hang", 5)
    assert time.monotonic() - start < 1.0
    assert result.status is health.Status.FAIL
    assert result.message == "timed out after 0.2s"
    release.set()


def test_async_check_that_never_returns_is_cancelled(runner: Runner) -> None:
    cancelled = threading.Event()

    async def hang() -> bool:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return True

    add(runner, "hang", hang, timeout=0.2)
    result = runner.run_now("hang", 5)
    assert result.message == "timed out after 0.2s"
    assert cancelled.wait(2)


def test_hung_sync_check_is_never_run_twice(runner: Runner) -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()
    release = threading.Event()

    def hang() -> bool:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        release.wait(30)
        with lock:
            in_flight -= 1
        return True

    add(runner, "hang", hang, timeout=0.1)
    first = runner.run_now("hang", 5)
    second = runner.run_now("hang", 5)
    assert first.message == "timed out after 0.1s"
    assert second.status is health.Status.FAIL
    assert "previous run still in progress" in second.message
    assert peak == 1
    release.set()
    time.sleep(0.05)
    assert runner.run_now("hang", 5).status is health.Status.PASS


def test_concurrent_requests_share_one_execution(runner: Runner) -> None:
    calls = 0

    async def slow() -> bool:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.2)
        return True

    add(runner, "slow", slow, timeout=1)

    async def many() -> list[object]:
        return await asyncio.gather(*(runner.results(["slow"], fresh=True) for _ in range(50)))

    results = asyncio.run(many())
    assert calls == 1
    assert all(r["slow"].ok for r in results)  # type: ignore[index]


def test_retries_until_success(runner: Runner) -> None:
    attempts = []

    def flaky() -> bool:
        attempts.append(1)
        return len(attempts) >= 3

    add(runner, "flaky", flaky, retries=2)
    assert runner.run_now("flaky", 5).status is health.Status.PASS
    assert len(attempts) == 3


def test_latency_thresholds(runner: Runner) -> None:
    add(runner, "warned", lambda: time.sleep(0.06) or True, warn_latency=0.02,
        fail_latency=0.2)
    add(runner, "failed", lambda: time.sleep(0.06) or True, warn_latency=0.01,
        fail_latency=0.03)
    warned = runner.run_now("warned", 5)
    failed = runner.run_now("failed", 5)
    assert warned.status is health.Status.WARN
    assert "warn_latency" in warned.message
    assert failed.status is health.Status.FAIL
    assert "fail_latency" in failed.message


def test_state_tracks_successes_and_failures(runner: Runner) -> None:
    outcomes = iter([False, False, True])
    add(runner, "c", lambda: next(outcomes))
    runner.run_now("c", 5)
    runner.run_now("c", 5)
    state = runner.states["c"]
    assert state.consecutive_failures == 2
    assert state.last_success is None
    runner.run_now("c", 5)
    assert state.consecutive_failures == 0
    assert state.last_success is not None
    assert state.last_failure is not None


def test_background_refresh_populates_cache_without_requests() -> None:
    calls = []

    @health.check("bg", interval=0.1, timeout=1)
    def bg() -> bool:
        calls.append(time.monotonic())
        return True

    h = health.configure(make_settings())
    deadline = time.monotonic() + 3
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(calls) >= 3
    assert h.runner.states["bg"].result is not None


def test_probes_read_the_cache_instead_of_stampeding() -> None:
    calls = 0

    @health.check("db", interval=30, timeout=1)
    async def db() -> bool:
        nonlocal calls
        calls += 1
        return True

    h = health.configure(make_settings())
    deadline = time.monotonic() + 5
    while h.runner.states["db"].result is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert calls == 1

    async def many() -> None:
        for _ in range(100):
            await h.runner.results(["db"])
            await h.runner.results(["db"], wait=False)

    asyncio.run(many())
    assert calls == 1


def test_check_added_after_configure_is_picked_up() -> None:
    h = health.configure(make_settings())

    @health.check("late", timeout=1)
    def late() -> bool:
        return True

    assert h.runner.run_now("late", 5).ok
