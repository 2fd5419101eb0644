"""Event-loop lag: how late a callback scheduled on the loop actually runs.

A blocked loop delays every request on it; this is the first number to look at when
latency rises with CPU idle. Measured by a tiny task that sleeps ``INTERVAL`` and
records how much later than asked it woke up.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from time import perf_counter

from .._runtime import registry

__all__ = ["start_loop_lag_monitor"]

INTERVAL = 0.25
WINDOW = 20  # samples: the gauge shows the worst lag of the last ~5 s

_monitored: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def start_loop_lag_monitor() -> None:
    """Start measuring the running loop (idempotent per loop)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    if loop in _monitored:
        return
    _monitored.add(loop)
    gauge = registry().gauge(
        "python_asyncio_event_loop_lag_seconds",
        "Worst delay of a scheduled callback on the event loop over the last ~5 seconds.",
        mode="max",
    )
    task = loop.create_task(_measure(gauge.set), name="watchkeeper-loop-lag")
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


_tasks: set[asyncio.Task[None]] = set()


async def _measure(set_value: Callable[[float], None]) -> None:
    recent: list[float] = []
    while True:
        before = perf_counter()
        await asyncio.sleep(INTERVAL)
        lag = max(0.0, perf_counter() - before - INTERVAL)
        recent.append(lag)
        if len(recent) > WINDOW:
            del recent[0]
        set_value(max(recent))
