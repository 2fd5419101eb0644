"""``timer``: the performance mark of the seeds, as a histogram, a span event and a
debug log line in one."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from time import perf_counter
from typing import Any, TypeVar, cast

__all__ = ["timer"]

F = TypeVar("F", bound=Callable[..., Any])
_log = logging.getLogger("watchkeeper.timer")
_histograms: dict[int, Any] = {}


def _histogram() -> Any:
    from .. import _runtime

    registry = _runtime.registry()
    found = _histograms.get(id(registry))
    if found is None:
        found = registry.histogram(
            registry.full_name("timer_duration_seconds"),
            "Durations measured with watchkeeper.timer, by timer name.", ("name",),
            buckets=_runtime.settings().metrics.latency_buckets, unit="seconds")
        _histograms.clear()
        _histograms[id(registry)] = found
    return found


class timer:  # used like a function
    """Time a block or a function.

    Records ``timer_duration_seconds{name}``, adds a ``name`` event with ``duration_ms``
    to the current span, and logs ``name took N ms`` at DEBUG on ``watchkeeper.timer``.

    Example::

        with watchkeeper.timer("render invoice"):
            render()

        @watchkeeper.timer("load rates")
        def load_rates(): ...
    """

    __slots__ = ("_start", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._start = 0.0

    def __enter__(self) -> timer:
        self._start = perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.record(perf_counter() - self._start)

    def record(self, seconds: float) -> None:
        try:
            _histogram().labels(self.name).observe(seconds)
        except Exception:
            from .. import _runtime

            _runtime.registry().internal_error("timer")
        millis = round(seconds * 1000.0, 3)
        import sys

        if "opentelemetry.trace" in sys.modules:
            from opentelemetry import trace

            current = trace.get_current_span()
            if current.is_recording():
                current.add_event(self.name, {"duration_ms": millis})
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug("%s took %s ms", self.name, millis,
                       extra={"timer": self.name, "duration_ms": millis})

    def __call__(self, fn: F) -> F:
        name = self.name
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with timer(name):
                    return await fn(*args, **kwargs)

            return cast(F, run_async)

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with timer(name):
                return fn(*args, **kwargs)

        return cast(F, run)
