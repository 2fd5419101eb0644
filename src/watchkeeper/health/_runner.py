"""Running checks: timeouts, retries, single-flight, background refresh and the cache.

Everything that mutates check state runs on the health loop (one thread), so there are
no locks; endpoints on other threads/loops read immutable results and wait on futures.
At most one execution of a check is in flight at any moment: concurrent requests join
the current attempt, and a sync check still stuck in its thread after its timeout makes
the next attempt fail fast instead of piling a second call onto a hung dependency.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ._definition import CheckRegistry, CheckSpec
from ._loop import HealthLoop
from ._metrics import HealthMetrics
from ._redact import redact
from ._result import CheckResult, Status, interpret

__all__ = ["CheckState", "Runner"]

_log = logging.getLogger("watchkeeper.health")


@dataclass
class CheckState:
    """What the runner knows about one check; written only on the health loop."""

    spec: CheckSpec
    result: CheckResult | None = None
    last_success: float | None = None
    last_failure: float | None = None
    consecutive_failures: int = 0
    runs: int = 0
    attempt: asyncio.Future[CheckResult] | None = None
    execution: asyncio.Future[Any] | None = None
    execution_started: float = 0.0
    refresher: asyncio.Task[None] | None = field(default=None, repr=False)


class Runner:
    """Executes the checks of a :class:`CheckRegistry` on a :class:`HealthLoop`.

    Args:
        default_timeout / default_interval: for checks that set neither.
        clock: wall-clock seconds for timestamps; ``monotonic`` for latencies.
    """

    def __init__(
        self,
        registry: CheckRegistry,
        loop: HealthLoop,
        *,
        default_timeout: float = 5.0,
        default_interval: float = 30.0,
        metrics: HealthMetrics | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        background: bool = True,
    ) -> None:
        self.registry = registry
        self.loop = loop
        self.default_timeout = default_timeout
        self.default_interval = default_interval
        self.metrics = metrics or HealthMetrics(None)
        self.clock = clock
        self.monotonic = monotonic
        self.background = background
        self.states: dict[str, CheckState] = {}
        self._started = False

    # -- lifecycle (any thread) -------------------------------------------------------------
    def start(self) -> None:
        """Adopt every registered check, and any added later; start background refresh."""
        if self._started:
            return
        self._started = True
        self.registry.subscribe(self._on_new_spec)
        for spec in self.registry.specs():
            self._on_new_spec(spec)

    def stop(self) -> None:
        self.registry.unsubscribe(self._on_new_spec)
        self._started = False

    def _on_new_spec(self, spec: CheckSpec) -> None:
        # Register the state synchronously so endpoints see the check at once.
        state = self.states.get(spec.name)
        if state is None:
            self.states[spec.name] = CheckState(spec)
        else:
            state.spec = spec
        self.loop.call(self._ensure_refresher, spec.name)

    def _ensure_refresher(self, name: str) -> None:
        state = self.states[name]
        if not self.background or not state.spec.enabled:
            return
        if state.refresher is None or state.refresher.done():
            state.refresher = asyncio.ensure_future(self._refresh(state))

    # -- timing -------------------------------------------------------------------------
    def timeout_of(self, spec: CheckSpec) -> float:
        return spec.timeout if spec.timeout is not None else self.default_timeout

    def interval_of(self, spec: CheckSpec) -> float:
        return spec.interval if spec.interval is not None else self.default_interval

    def is_stale(self, state: CheckState, now: float | None = None) -> bool:
        """No result yet, or none for longer than the background refresh should take."""
        result = state.result
        if result is None:
            return True
        spec = state.spec
        budget = self.interval_of(spec) + self.timeout_of(spec) * (spec.retries + 1) + 1.0
        return (self.clock() if now is None else now) - result.timestamp > budget

    # -- reading results (any thread, any loop) -------------------------------------------------
    async def results(self, names: Iterable[str], *, fresh: bool = False,
                      wait: bool = True) -> dict[str, CheckResult]:
        """The current result of each check. A check with no usable cached result (or every
        check when ``fresh``) is run, joining any run in flight; with ``wait`` the caller
        waits for it no longer than the check's timeout, without ``wait`` it gets the
        stale result or, before the first one, a failing "no result yet". Never raises for
        a check's sake."""
        out: dict[str, CheckResult] = {}
        waits: list[tuple[str, float, asyncio.Future[CheckResult]]] = []
        now = self.clock()
        for name in names:
            state = self.states.get(name)
            if state is None or not state.spec.enabled:
                continue
            if not fresh and not self.is_stale(state, now) and state.result is not None:
                out[name] = state.result
                continue
            if not wait:
                self.loop.call(self._kick, name)
                out[name] = state.result or CheckResult(
                    name, Status.FAIL, "no result yet (first run in progress)", 0.0, now)
                continue
            future = asyncio.wrap_future(self.loop.submit(self._join(name)))
            waits.append((name, self.timeout_of(state.spec), future))
        if waits:
            await asyncio.gather(*(self._bounded(n, t, f, out) for n, t, f in waits))
        return out

    def _kick(self, name: str) -> None:
        """Start a run unless one is in flight (on the health loop, fire and forget)."""
        state = self.states.get(name)
        if state is not None and (state.attempt is None or state.attempt.done()):
            state.attempt = asyncio.ensure_future(self._attempt(state))

    async def _bounded(self, name: str, timeout: float, future: asyncio.Future[CheckResult],
                       out: dict[str, CheckResult]) -> None:
        start = self.monotonic()
        try:
            out[name] = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            cached = self.states[name].result
            out[name] = CheckResult(
                name, Status.FAIL, f"no result within {timeout:g}s (check still running)"
                + (f"; last result: {cached.status.value}" if cached else ""),
                self.monotonic() - start, self.clock())
        except Exception as exc:  # the loop is gone, or the join itself failed
            out[name] = CheckResult(name, Status.FAIL, f"check could not run: {exc!r}",
                                    self.monotonic() - start, self.clock())

    def run_now(self, name: str, timeout: float | None = None) -> CheckResult:
        """Run (or join) one check from synchronous code and wait for its result."""
        return self.loop.submit(self._join(name)).result(timeout)

    # -- on the health loop ------------------------------------------------------------------
    async def _join(self, name: str) -> CheckResult:
        state = self.states[name]
        if state.attempt is None or state.attempt.done():
            state.attempt = asyncio.ensure_future(self._attempt(state))
        return await asyncio.shield(state.attempt)

    async def _refresh(self, state: CheckState) -> None:
        while True:
            try:
                await self._join(state.spec.name)
            except asyncio.CancelledError:
                raise
            except Exception:
                _log.exception("watchkeeper health: refreshing %s failed", state.spec.name)
            await asyncio.sleep(self.interval_of(state.spec))
            if not state.spec.enabled:
                return

    async def _attempt(self, state: CheckState) -> CheckResult:
        spec = state.spec
        timeout = self.timeout_of(spec)
        status, message, latency = Status.FAIL, "", 0.0
        for _ in range(spec.retries + 1):
            started = self.monotonic()
            try:
                status, message = await self._execute_once(state, timeout)
            except Exception as exc:  # a bug of ours must not become a stuck attempt
                status, message = Status.FAIL, f"internal error running check: {exc!r}"
            latency = self.monotonic() - started
            if status is not Status.FAIL:
                break
        status, message = _apply_latency(spec, status, message, latency)
        result = CheckResult(spec.name, status, redact(message), latency, self.clock())
        self._record(state, result)
        return result

    async def _execute_once(self, state: CheckState, timeout: float) -> tuple[Status, str]:
        running = state.execution
        if running is not None and not running.done():
            stuck = self.monotonic() - state.execution_started
            return Status.FAIL, (f"previous run still in progress after {stuck:.1f}s "
                                 "(not starting another against a hung dependency)")
        spec = state.spec
        if spec.is_async:
            execution: asyncio.Future[Any] = asyncio.ensure_future(_call_async(spec))
        else:
            execution = _call_in_thread(spec)
        state.execution = execution
        state.execution_started = self.monotonic()
        done, _ = await asyncio.wait({execution}, timeout=timeout)
        if not done:
            if spec.is_async:
                execution.cancel()
            # A thread cannot be cancelled: its future stays pending until the call returns,
            # which is what keeps the next attempt from starting a second call.
            return Status.FAIL, f"timed out after {timeout:g}s"
        if execution.cancelled():
            return Status.FAIL, "check was cancelled"
        exc = execution.exception()
        if exc is not None:
            text = str(exc)
            return Status.FAIL, f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        return interpret(execution.result())

    def _record(self, state: CheckState, result: CheckResult) -> None:
        previous = state.result
        state.result = result
        state.runs += 1
        if result.ok:
            state.last_success = result.timestamp
            state.consecutive_failures = 0
        else:
            state.last_failure = result.timestamp
            state.consecutive_failures += 1
        self.metrics.check_done(result.name, result.status, result.latency)
        if previous is None or previous.status is not result.status:
            level = logging.INFO if result.status is Status.PASS else (
                logging.WARNING if result.status is Status.WARN or not state.spec.critical
                else logging.ERROR)
            _log.log(level, "health check %s is %s%s", result.name, result.status.value,
                     f": {result.message}" if result.message else "",
                     extra={"check": result.name, "status": result.status.value,
                            "latency_ms": round(result.latency * 1000, 3)})


def _apply_latency(spec: CheckSpec, status: Status, message: str,
                   latency: float) -> tuple[Status, str]:
    if status is Status.FAIL:
        return status, message
    slow = f"slow: {latency * 1000:.0f} ms"
    if spec.fail_latency is not None and latency > spec.fail_latency:
        return Status.FAIL, _join_text(f"{slow} > fail_latency {spec.fail_latency:g}s", message)
    if spec.warn_latency is not None and latency > spec.warn_latency and status is Status.PASS:
        return Status.WARN, _join_text(f"{slow} > warn_latency {spec.warn_latency:g}s", message)
    return status, message


def _join_text(first: str, second: str) -> str:
    return f"{first}; {second}" if second else first


async def _call_async(spec: CheckSpec) -> object:
    value = spec.func()
    if inspect.isawaitable(value):
        return await value
    return value


def _call_in_thread(spec: CheckSpec) -> asyncio.Future[Any]:
    """Run a sync check in its own daemon thread: a hung check pins one thread, never a
    pool that other checks need."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if future.done():
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def target() -> None:
        ok, value = True, None
        try:
            value = spec.func()
            if inspect.iscoroutine(value):
                value.close()
                ok, value = False, TypeError(
                    "check returned a coroutine from a sync call; declare it 'async def'")
        except BaseException as exc:
            ok, value = False, exc
        # RuntimeError: the health loop was stopped meanwhile.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, ok, value)

    threading.Thread(target=target, name=f"watchkeeper-check-{spec.name}", daemon=True).start()
    return future
