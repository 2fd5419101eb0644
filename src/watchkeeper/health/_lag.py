"""Event-loop lag: how late a periodic callback fires on the app's loop."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

__all__ = ["LagMonitor", "lag_monitor"]


class LagMonitor:
    """Schedules itself every ``period`` seconds on one loop and records the delay.

    Attach costs one ``call_later`` per period; reading is a memory read, no I/O.
    """

    def __init__(self, period: float = 0.25, keep: int = 40,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.period = period
        self._clock = clock
        self._samples: deque[float] = deque(maxlen=keep)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._expected = 0.0

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._loop is loop and not loop.is_closed():
            return
        self.detach()
        self._loop = loop
        self._schedule()

    def detach(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = None
        self._loop = None
        self._samples.clear()

    @property
    def attached(self) -> bool:
        return self._loop is not None and not self._loop.is_closed()

    def _schedule(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        self._expected = self._clock() + self.period
        self._handle = loop.call_later(self.period, self._tick)

    def _tick(self) -> None:
        self._samples.append(max(0.0, self._clock() - self._expected))
        self._schedule()

    @property
    def lag(self) -> float | None:
        """The worst lag over the recent samples (seconds), or None before the first one.

        A loop blocked right now has not run ``_tick`` either, so the pending delay counts.
        """
        if self._loop is None:
            return None
        pending = max(0.0, self._clock() - self._expected) if self._handle else 0.0
        if not self._samples:
            return pending if pending > 0 else None
        return max(*self._samples, pending)


_monitor = LagMonitor()


def lag_monitor() -> LagMonitor:
    return _monitor
