"""Circuit breaker: state machine (hypothesis, fake clock), sync/async use, real-time e2e."""

from __future__ import annotations

import asyncio
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from watchkeeper import health
from watchkeeper.health import CircuitBreaker, CircuitOpenError, HealthCheckConfigError


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Boom(Exception):
    pass


class NotFound(Exception):
    pass


def fail() -> None:
    raise Boom("down")


def test_seed_defaults() -> None:
    breaker = CircuitBreaker("defaults")
    assert (breaker.fail_max, breaker.reset_timeout, breaker.success_threshold) == (5, 60.0, 3)


def test_opens_after_fail_max_and_fails_fast() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("db", fail_max=3, reset_timeout=10, clock=clock)
    for _ in range(3):
        with pytest.raises(Boom):
            breaker.call(fail)
    assert breaker.state == "open"
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(lambda: 1)
    assert info.value.breaker == "db"
    assert info.value.retry_after == pytest.approx(10)


def test_half_open_admits_a_bounded_number_of_trials() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("db", fail_max=1, reset_timeout=5, success_threshold=2,
                             half_open_max_calls=2, clock=clock)
    with pytest.raises(Boom):
        breaker.call(fail)
    clock.now += 5
    first, second = breaker.before_call(), breaker.before_call()
    with pytest.raises(CircuitOpenError, match="half-open"):
        breaker.before_call()
    breaker.on_success(first)
    breaker.on_success(second)
    assert breaker.state == "closed"


def test_failed_trial_reopens() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("db", fail_max=1, reset_timeout=5, clock=clock)
    with pytest.raises(Boom):
        breaker.call(fail)
    clock.now += 6
    with pytest.raises(Boom):
        breaker.call(fail)
    assert breaker.state == "open"


def test_excluded_exceptions_do_not_count() -> None:
    breaker = CircuitBreaker("api", fail_max=1, exclude=[NotFound])

    def missing() -> None:
        raise NotFound

    with pytest.raises(NotFound):
        breaker.call(missing)
    assert breaker.state == "closed"


def test_failure_rate_window() -> None:
    breaker = CircuitBreaker("rate", fail_max=100, failure_rate=0.5, window=10,
                             minimum_calls=4)
    for ok in (True, False, True, False):
        with pytest.raises(Boom) if not ok else _nothing():
            breaker.call(lambda: None) if ok else breaker.call(fail)
    assert breaker.state == "open"


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def test_listeners_and_metric_hook_see_transitions() -> None:
    seen: list[tuple[str, str]] = []
    breaker = CircuitBreaker("l", fail_max=1, listeners=[lambda b, o, n: seen.append((o, n))])
    with pytest.raises(Boom):
        breaker.call(fail)
    breaker.close()
    assert seen == [("closed", "open"), ("open", "closed")]


async def test_async_decorator_and_context_managers() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("a", fail_max=2, reset_timeout=1, clock=clock)

    @breaker
    async def fetch(ok: bool) -> str:
        await asyncio.sleep(0)
        if not ok:
            raise Boom
        return "data"

    assert await fetch(True) == "data"
    for _ in range(2):
        with pytest.raises(Boom):
            await fetch(False)
    with pytest.raises(CircuitOpenError):
        await fetch(True)
    clock.now += 1
    async with breaker:
        pass
    with breaker:
        pass
    assert breaker.success_counter == 2


async def test_cancelled_trial_frees_its_slot() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("c", fail_max=1, reset_timeout=1, clock=clock)
    with pytest.raises(Boom):
        breaker.call(fail)
    clock.now += 1

    task = asyncio.ensure_future(breaker.call_async(asyncio.sleep, 10))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert breaker.call(lambda: 7) == 7


def test_a_hung_call_does_not_block_other_callers() -> None:
    breaker = CircuitBreaker("hung", fail_max=5)
    release = threading.Event()
    thread = threading.Thread(target=breaker.call, args=(release.wait, 10))
    thread.start()
    assert breaker.call(lambda: "other") == "other"  # pybreaker would block here
    release.set()
    thread.join()


@pytest.mark.parametrize("bad", [{"fail_max": 0}, {"reset_timeout": -1},
                                 {"success_threshold": 0}, {"failure_rate": 1.5}])
def test_bad_arguments(bad: dict[str, float]) -> None:
    with pytest.raises(HealthCheckConfigError):
        CircuitBreaker("bad", **bad)  # type: ignore[arg-type]


class BreakerMachine(RuleBasedStateMachine):
    """Drive the breaker with calls, outcomes and time; compare with a plain model."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.breaker = CircuitBreaker("model", fail_max=3, reset_timeout=10,
                                      success_threshold=2, half_open_max_calls=2,
                                      clock=self.clock)
        self.state = "closed"
        self.failures = 0
        self.successes = 0
        self.opened_at = 0.0
        self.permits: list[tuple[object, int, bool]] = []  # permit, model generation, trial
        self.generation = 0

    def _model_state(self) -> str:
        if self.state == "open" and self.clock.now - self.opened_at >= 10:
            return "half_open"
        return self.state

    def _move(self, new: str) -> None:
        self.state = new
        self.generation += 1
        self.successes = 0
        if new == "open":
            self.opened_at = self.clock.now
        if new == "closed":
            self.failures = 0

    @rule()
    def call(self) -> None:
        if self._model_state() == "half_open" and self.state == "open":
            self._move("half_open")
        trials = sum(1 for _, g, t in self.permits if t and g == self.generation)
        expect_refused = self.state == "open" or (self.state == "half_open" and trials >= 2)
        try:
            permit = self.breaker.before_call()
        except CircuitOpenError:
            assert expect_refused
            return
        assert not expect_refused
        self.permits.append((permit, self.generation, self.state == "half_open"))

    @precondition(lambda self: bool(self.permits))
    @rule(index=st.integers(min_value=0), ok=st.booleans())
    def finish(self, index: int, ok: bool) -> None:
        permit, generation, trial = self.permits.pop(index % len(self.permits))
        if ok:
            self.breaker.on_success(permit)  # type: ignore[arg-type]
        else:
            self.breaker.on_failure(permit, Boom())  # type: ignore[arg-type]
        if generation != self.generation:
            return
        if trial:
            if ok:
                self.successes += 1
                if self.successes >= 2:
                    self._move("closed")
            else:
                self._move("open")
        elif ok:
            self.failures = 0
        else:
            self.failures += 1
            if self.failures >= 3:
                self._move("open")

    @rule(seconds=st.sampled_from([0.5, 3.0, 9.99, 10.0, 25.0]))
    def tick(self, seconds: float) -> None:
        self.clock.now += seconds

    @invariant()
    def same_state(self) -> None:
        assert self.breaker.state == self._model_state()

    @invariant()
    def trials_bounded(self) -> None:
        assert self.breaker.snapshot()["trials_in_flight"] <= 2


TestBreakerStateMachine = BreakerMachine.TestCase
TestBreakerStateMachine.settings = hyp_settings(max_examples=150, stateful_step_count=40,
                                                deadline=None)


class _Flaky(BaseHTTPRequestHandler):
    healthy = threading.Event()
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        code = 200 if self.healthy.is_set() else 500
        self.send_response(code)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        return None


@pytest.mark.timeout(30)
async def test_real_time_with_a_flaky_http_server() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    states: list[str] = []
    breaker = CircuitBreaker("flaky", fail_max=3, reset_timeout=0.3, success_threshold=2,
                             listeners=[lambda b, o, n: states.append(n)])

    @breaker
    async def get(client: httpx.AsyncClient) -> int:
        response = await client.get(url)
        response.raise_for_status()
        return response.status_code

    try:
        async with httpx.AsyncClient() as client:
            _Flaky.healthy.clear()
            for _ in range(3):
                with pytest.raises(httpx.HTTPStatusError):
                    await get(client)
            hits = _Flaky.hits
            for _ in range(20):
                with pytest.raises(CircuitOpenError):
                    await get(client)
            assert _Flaky.hits == hits  # open: the server saw none of those
            await asyncio.sleep(0.35)
            # Half-open: of 10 concurrent callers exactly one is let through.
            outcomes = await asyncio.gather(*(get(client) for _ in range(10)),
                                            return_exceptions=True)
            assert sum(isinstance(o, httpx.HTTPStatusError) for o in outcomes) == 1
            assert sum(isinstance(o, CircuitOpenError) for o in outcomes) == 9
            _Flaky.healthy.set()
            await asyncio.sleep(0.35)
            assert await get(client) == 200
            assert await get(client) == 200
            assert breaker.state == "closed"
    finally:
        server.shutdown()
        server.server_close()
    assert states == ["open", "half_open", "open", "half_open", "closed"]
    assert health.CircuitBreaker is CircuitBreaker
