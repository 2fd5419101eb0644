"""Gauges: values that go up and down, and how workers combine them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

from ._family import Child, Family
from ._timing import Timer

__all__ = ["Gauge", "GaugeChild", "GaugeMode"]

GaugeMode = Literal["live_sum", "per_worker", "max", "min"]
"""How a gauge combines across pre-fork workers: sum over live workers (default), one
series per worker labelled ``pid``, or the max/min over live workers. Dead workers'
gauges are always dropped."""


class GaugeChild(Child):
    __slots__ = ()

    def set(self, value: float) -> None:
        self._page[self._i] = value

    def inc(self, amount: float = 1.0) -> None:
        with self._lock:
            self._page[self._i] += amount

    def dec(self, amount: float = 1.0) -> None:
        with self._lock:
            self._page[self._i] -= amount

    def get(self) -> float:
        return float(self._page[self._i])

    def set_to_current_time(self) -> None:
        self._page[self._i] = time.time()

    def set_function(self, function: Callable[[], float]) -> None:
        """Read the value from ``function`` at every scrape instead of storing it."""
        self.function = function

    def track_inprogress(self) -> _InProgress:
        """Context manager/decorator: +1 while the block runs."""
        return _InProgress(self)

    def time(self) -> Timer:
        """Context manager/decorator setting the gauge to the block's duration in seconds."""
        return Timer(self.set)


class _InProgress:
    __slots__ = ("_child",)

    def __init__(self, child: GaugeChild) -> None:
        self._child = child

    def __enter__(self) -> None:
        self._child.inc()

    def __exit__(self, *exc: object) -> None:
        self._child.dec()

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        from functools import wraps

        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return wrapper


class Gauge(Family[GaugeChild]):
    """A family of gauges."""

    kind = "gauge"
    child_class = GaugeChild
    modes = ("live_sum", "per_worker", "max", "min")

    def set(self, value: float) -> None:
        self._unlabelled().set(value)

    def inc(self, amount: float = 1.0) -> None:
        self._unlabelled().inc(amount)

    def dec(self, amount: float = 1.0) -> None:
        self._unlabelled().dec(amount)

    def get(self) -> float:
        return self._unlabelled().get()

    def set_function(self, function: Callable[[], float]) -> None:
        self._unlabelled().set_function(function)

    def track_inprogress(self) -> _InProgress:
        return self._unlabelled().track_inprogress()

    def time(self) -> Timer:
        return self._unlabelled().time()
