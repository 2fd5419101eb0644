"""Counters: monotonically increasing totals."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from ._family import Child, Family

__all__ = ["Counter", "CounterChild"]

P = ParamSpec("P")
R = TypeVar("R")


class CounterChild(Child):
    __slots__ = ()

    def inc(self, amount: float = 1.0) -> None:
        """Add ``amount`` (>= 0) to the total."""
        if amount < 0:
            raise ValueError(f"counters only go up; got inc({amount})")
        with self._lock:
            self._page[self._i] += amount

    def get(self) -> float:
        return float(self._page[self._i])

    def mirror(self, total: float) -> None:
        """Set the total from a source that keeps it (collectors: CPU time, GC counts)."""
        self._page[self._i] = total

    def count_exceptions(
        self, exception: type[BaseException] | tuple[type[BaseException], ...] = Exception
    ) -> Callable[[Callable[P, R]], Callable[P, R]]:
        """Decorator counting exceptions of ``exception`` raised by the function."""

        def decorate(func: Callable[P, R]) -> Callable[P, R]:
            @wraps(func)
            def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
                try:
                    return func(*args, **kwargs)
                except exception:
                    self.inc()
                    raise

            return wrapper

        return decorate


class Counter(Family[CounterChild]):
    """A family of counters. Exposed as ``<name>_total``; pass the name with or without it."""

    kind = "counter"
    child_class = CounterChild

    def __init__(self, name: str, documentation: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(name.removesuffix("_total"), documentation, *args, **kwargs)

    def inc(self, amount: float = 1.0) -> None:
        self._unlabelled().inc(amount)

    def get(self) -> float:
        return self._unlabelled().get()
