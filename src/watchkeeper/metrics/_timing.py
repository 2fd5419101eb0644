"""One timer usable as context manager and decorator, for sync and async functions."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import wraps
from time import perf_counter
from typing import Any

__all__ = ["Timer"]


class Timer:
    """Calls ``record(seconds)`` when the block or decorated call ends (even on error)."""

    __slots__ = ("_record", "_start")

    def __init__(self, record: Callable[[float], None]) -> None:
        self._record = record
        self._start = 0.0

    def __enter__(self) -> Timer:
        self._start = perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self._record(perf_counter() - self._start)

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        record = self._record
        if inspect.iscoroutinefunction(func):

            @wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                start = perf_counter()
                try:
                    return await func(*args, **kwargs)
                finally:
                    record(perf_counter() - start)

            return async_wrapper

        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                record(perf_counter() - start)

        return wrapper
