"""Circuit breaker: closed → open → half-open → closed, for sync and asyncio callers.

Own code rather than ``pybreaker`` (evaluated, 1.4): pybreaker holds one lock for the
whole duration of every call (a hung call blocks all callers of the breaker), supports
async only through Tornado, lets every caller through while half-open, and its Redis
storage does blocking I/O on whatever thread calls it — on an event loop, that stalls
the loop. Here the lock guards only the counters, never a call.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, ParamSpec, TypeAlias, TypeVar, cast

from ..exceptions import CircuitOpenError, HealthCheckConfigError

__all__ = ["BreakerListener", "CircuitBreaker", "all_breakers", "set_state_hook"]

State = Literal["closed", "open", "half_open"]
CLOSED: State = "closed"
OPEN: State = "open"
HALF_OPEN: State = "half_open"

P = ParamSpec("P")
R = TypeVar("R")

BreakerListener: TypeAlias = Callable[["CircuitBreaker", str, str], None]
"""Called as ``listener(breaker, old_state, new_state)`` after every transition."""

Exclusion: TypeAlias = type[BaseException] | Callable[[BaseException], bool]

_log = logging.getLogger("watchkeeper.health")
_breakers: weakref.WeakValueDictionary[str, CircuitBreaker] = weakref.WeakValueDictionary()
_state_hook: BreakerListener | None = None


def all_breakers() -> list[CircuitBreaker]:
    """Every live breaker, for /health/checks."""
    return sorted(_breakers.values(), key=lambda b: b.name)


def set_state_hook(hook: BreakerListener | None) -> None:
    """Install the process-wide transition hook (metrics); ``configure()`` sets it."""
    global _state_hook
    _state_hook = hook


@dataclass(frozen=True, slots=True)
class _Permit:
    generation: int
    trial: bool


class CircuitBreaker:
    """Fail fast while a dependency is down; let a bounded number of trials test recovery.

    Args:
        name: shown in /health/checks, logs and ``circuit_breaker_state{name}``.
        fail_max: consecutive failures that open the circuit.
        reset_timeout: seconds the circuit stays open before trial calls are let through.
        success_threshold: consecutive successful trials that close it again.
        exclude: exception types (or predicates) that are not the dependency's fault;
            they count as successes.
        half_open_max_calls: trial calls allowed at once while half-open; other callers
            get :class:`CircuitOpenError` immediately.
        failure_rate: also open when at least this fraction of the last ``window`` calls
            failed (and at least ``minimum_calls`` were made). Off by default.
        listeners: ``listener(breaker, old, new)`` after each transition.
        clock: monotonic seconds; inject a fake one in tests.

    Use as a decorator (sync or async), a (async) context manager, or ``call``::

        db_breaker = CircuitBreaker("db", fail_max=5, reset_timeout=60)

        @db_breaker
        async def load(user_id): ...

        async with db_breaker:
            await conn.execute(...)
    """

    def __init__(
        self,
        name: str,
        fail_max: int = 5,
        reset_timeout: float = 60.0,
        success_threshold: int = 3,
        exclude: Iterable[Exclusion] = (),
        *,
        half_open_max_calls: int = 1,
        failure_rate: float | None = None,
        window: int = 20,
        minimum_calls: int = 10,
        listeners: Iterable[BreakerListener] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        where = f"circuit breaker {name!r}"
        if not name:
            raise HealthCheckConfigError("a circuit breaker needs a name")
        for label, value in (("fail_max", fail_max), ("success_threshold", success_threshold),
                             ("half_open_max_calls", half_open_max_calls),
                             ("window", window), ("minimum_calls", minimum_calls)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise HealthCheckConfigError(f"{where}: {label} must be an integer >= 1, "
                                             f"got {value!r}")
        if not isinstance(reset_timeout, int | float) or reset_timeout < 0:
            raise HealthCheckConfigError(f"{where}: reset_timeout must be seconds >= 0, "
                                         f"got {reset_timeout!r}")
        if failure_rate is not None and not 0 < failure_rate <= 1:
            raise HealthCheckConfigError(f"{where}: failure_rate must be in (0, 1], "
                                         f"got {failure_rate!r}")
        self.name = name
        self.fail_max = fail_max
        self.reset_timeout = float(reset_timeout)
        self.success_threshold = success_threshold
        self.half_open_max_calls = half_open_max_calls
        self.failure_rate = failure_rate
        self.minimum_calls = minimum_calls
        self._exclude = tuple(exclude)
        self._listeners = list(listeners)
        self._clock = clock
        self._lock = threading.Lock()
        self._state: State = CLOSED
        self._generation = 0
        self._failures = 0
        self._successes = 0
        self._trials = 0
        self._opened_at = 0.0
        self._window: deque[bool] = deque(maxlen=window)
        self._permits: contextvars.ContextVar[tuple[_Permit, ...]] = contextvars.ContextVar(
            f"breaker_{name}_{id(self)}", default=())
        self.last_failure: str | None = None
        # True while a transition adopted from shared state is being announced, so the
        # shared-state listener does not publish it back.
        self.adopting = False
        _breakers[name] = self
        hook = _state_hook
        if hook is not None:  # export the initial state, not only transitions
            try:
                hook(self, CLOSED, CLOSED)
            except Exception:
                _log.exception("circuit breaker %s: state hook failed", name)

    # -- state ---------------------------------------------------------------------------
    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half_open`` (an open circuit past its timeout reads as
        half-open: the next call is a trial)."""
        with self._lock:
            if self._state == OPEN and self._clock() - self._opened_at >= self.reset_timeout:
                return HALF_OPEN
            return self._state

    @property
    def fail_counter(self) -> int:
        return self._failures

    @property
    def success_counter(self) -> int:
        return self._successes

    def snapshot(self) -> dict[str, Any]:
        state = self.state
        with self._lock:
            retry = max(0.0, self.reset_timeout - (self._clock() - self._opened_at))
            return {
                "state": state, "failures": self._failures, "successes": self._successes,
                "trials_in_flight": self._trials, "fail_max": self.fail_max,
                "reset_timeout": self.reset_timeout,
                "retry_after": round(retry, 3) if self._state == OPEN else 0.0,
                "last_failure": self.last_failure,
            }

    def add_listener(self, listener: BreakerListener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: BreakerListener) -> None:
        self._listeners.remove(listener)

    def open(self) -> None:
        """Force the circuit open (e.g. from an admin action)."""
        self._transition_locked_call(OPEN)

    def close(self) -> None:
        """Force the circuit closed, forgetting failures."""
        self._transition_locked_call(CLOSED)

    def adopt_open(self, age: float) -> bool:
        """Open because another replica opened ``age`` seconds ago (shared state); the
        remaining reset timeout is kept. Returns whether this changed anything."""
        with self._lock:
            if self._state == OPEN or age >= self.reset_timeout:
                return False
            old = self._set(OPEN)
            self._opened_at = self._clock() - max(0.0, age)
        self.adopting = True
        try:
            self._notify(old, OPEN)
        finally:
            self.adopting = False
        return True

    def _transition_locked_call(self, new: State) -> None:
        with self._lock:
            old = self._set(new)
        self._notify(old, new)

    # -- the protocol: before / success / failure ------------------------------------------
    def before_call(self) -> _Permit:
        """Admit a call or raise :class:`CircuitOpenError`."""
        changed: tuple[str, str] | None = None
        with self._lock:
            now = self._clock()
            if self._state == OPEN:
                waited = now - self._opened_at
                if waited < self.reset_timeout:
                    raise CircuitOpenError(
                        self.name, f"circuit breaker {self.name!r} is open "
                        f"(retry in {self.reset_timeout - waited:.1f}s)",
                        self.reset_timeout - waited)
                changed = (self._set(HALF_OPEN), HALF_OPEN)
            if self._state == HALF_OPEN:
                if self._trials >= self.half_open_max_calls:
                    raise CircuitOpenError(
                        self.name, f"circuit breaker {self.name!r} is half-open and its "
                        f"{self.half_open_max_calls} trial call(s) are in flight")
                self._trials += 1
                permit = _Permit(self._generation, trial=True)
            else:
                permit = _Permit(self._generation, trial=False)
        if changed:
            self._notify(*changed)
        return permit

    def on_success(self, permit: _Permit) -> None:
        new: State | None = None
        with self._lock:
            if permit.generation != self._generation:
                return  # admitted under an earlier state: its outcome is old news
            if permit.trial:
                self._trials -= 1
                self._successes += 1
                if self._successes >= self.success_threshold:
                    old, new = self._set(CLOSED), CLOSED
            else:
                self._failures = 0
                self._window.append(True)
        if new is not None:
            self._notify(old, new)

    def on_failure(self, permit: _Permit, exc: BaseException) -> None:
        if self._excluded(exc):
            self.on_success(permit)
            return
        new: State | None = None
        with self._lock:
            self.last_failure = f"{type(exc).__name__}: {exc}"[:200]
            if permit.generation != self._generation:
                return
            if permit.trial:
                self._trials -= 1
                old, new = self._set(OPEN), OPEN
            else:
                self._failures += 1
                self._window.append(False)
                if self._failures >= self.fail_max or self._rate_tripped():
                    old, new = self._set(OPEN), OPEN
        if new is not None:
            self._notify(old, new)

    def on_abandon(self, permit: _Permit) -> None:
        """The call was cancelled: free its trial slot, count nothing."""
        with self._lock:
            if permit.trial and permit.generation == self._generation:
                self._trials -= 1

    def _rate_tripped(self) -> bool:
        if self.failure_rate is None or len(self._window) < self.minimum_calls:
            return False
        failed = sum(1 for ok in self._window if not ok)
        return failed / len(self._window) >= self.failure_rate

    def _excluded(self, exc: BaseException) -> bool:
        for rule in self._exclude:
            if isinstance(rule, type):
                if isinstance(exc, rule):
                    return True
            elif rule(exc):
                return True
        return False

    def _set(self, new: State) -> State:
        """Move to ``new`` (lock held); returns the old state."""
        old = self._state
        self._state = new
        self._generation += 1
        self._trials = 0
        self._successes = 0
        if new == OPEN:
            self._opened_at = self._clock()
        if new == CLOSED:
            self._failures = 0
            self._window.clear()
        return old

    def _notify(self, old: str, new: str) -> None:
        if old == new:
            return
        level = logging.INFO if new == CLOSED else logging.WARNING
        _log.log(level, "circuit breaker %s: %s -> %s", self.name, old, new,
                 extra={"breaker": self.name, "old_state": old, "new_state": new})
        hook = _state_hook
        for listener in [*self._listeners, *([hook] if hook else [])]:
            try:
                listener(self, old, new)
            except Exception:
                _log.exception("circuit breaker %s: listener failed", self.name)

    # -- ways to use it ----------------------------------------------------------------------
    def call(self, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        permit = self.before_call()
        try:
            result = func(*args, **kwargs)
        except Exception as exc:
            self.on_failure(permit, exc)
            raise
        except BaseException:
            self.on_abandon(permit)
            raise
        self.on_success(permit)
        return result

    async def call_async(self, func: Callable[P, Awaitable[R]], *args: P.args,
                         **kwargs: P.kwargs) -> R:
        permit = self.before_call()
        try:
            result = await func(*args, **kwargs)
        except Exception as exc:
            self.on_failure(permit, exc)
            raise
        except BaseException:  # CancelledError: the caller gave up, not the dependency
            self.on_abandon(permit)
            raise
        self.on_success(permit)
        return result

    def __call__(self, func: Callable[P, R]) -> Callable[P, R]:
        if inspect.iscoroutinefunction(func):
            async_func = cast(Callable[P, Awaitable[Any]], func)

            @functools.wraps(func)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                return await self.call_async(async_func, *args, **kwargs)

            return cast(Callable[P, R], async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            return self.call(func, *args, **kwargs)

        return wrapper

    def __enter__(self) -> CircuitBreaker:
        permit = self.before_call()
        self._permits.set((*self._permits.get(), permit))
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        stack = self._permits.get()
        permit, self_stack = stack[-1], stack[:-1]
        self._permits.set(self_stack)
        if exc is None:
            self.on_success(permit)
        elif isinstance(exc, Exception):
            self.on_failure(permit, exc)
        else:
            self.on_abandon(permit)

    async def __aenter__(self) -> CircuitBreaker:
        return self.__enter__()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.__exit__(exc_type, exc, tb)

    def __repr__(self) -> str:
        return f"CircuitBreaker({self.name!r}, state={self.state!r})"
