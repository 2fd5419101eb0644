"""Fixed-window counts shared through Redis without waiting on Redis per request.

The request path only touches local state: a key is admitted while the last total read
from Redis plus this process's not-yet-pushed hits stays under the limit. A task on
watchkeeper's background loop (never the app's event loop) pushes the pending hits with
``limits``' async Redis storage (``INCRBY`` + expiry) every ``sync_interval`` and reads
the shared total back. Overshoot across W workers is bounded by what the other workers
admit within one interval (about rate * interval); no request ever blocks on the network.
If Redis is unreachable, each process goes on counting alone (fail open), the failure is
counted as an internal error and logged once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..exceptions import RateLimitStorageError
from ._ratelimit import Decision

__all__ = ["SyncedWindows"]

_log = logging.getLogger("watchkeeper.security")


@dataclass(slots=True)
class _Window:
    key: str
    ends: float
    expiry: int
    known: int = 0  # the shared total as last read
    pending: int = 0  # admitted here, not yet pushed


class SyncedWindows:
    """A fixed-window counter shared by every process using the same Redis URL."""

    def __init__(self, url: str, sync_interval: float = 0.01, *,
                 clock: Callable[[], float] = time.time,
                 on_error: Callable[[], None] | None = None) -> None:
        try:
            from limits.aio.storage import RedisStorage
        except ImportError as exc:  # pragma: no cover - limits is a dependency
            raise RateLimitStorageError("the limits package is required") from exc
        try:
            import redis  # noqa: F401
        except ImportError as exc:
            raise RateLimitStorageError(
                f"rate-limit storage {url!r} needs the redis package "
                "(pip install 'watchkeeper[redis]')") from exc
        uri = url if url.startswith("async+") else f"async+{url}"
        self._storage: Any = RedisStorage(uri, implementation="redispy",
                                          key_prefix="watchkeeper")
        self.interval = sync_interval
        self.clock = clock
        self._on_error = on_error
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()
        self._started = False
        self._failing = False
        self._closed = False

    def hit(self, key: str, limit: int, window: float) -> Decision:
        if not self._started:
            self._start()
        now = self.clock()
        seconds = max(1, round(window))
        index = int(now // seconds)
        wkey = f"{key}:{seconds}:{index}"
        with self._lock:
            state = self._windows.get(wkey)
            if state is None:
                state = self._windows[wkey] = _Window(wkey, (index + 1) * seconds,
                                                      seconds + 1)
            used = state.known + state.pending
            allowed = used < limit
            if allowed:
                state.pending += 1
                used += 1
        return Decision(allowed, limit, limit - used, state.ends - now, "")

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        from .._background import background_loop

        asyncio.run_coroutine_threadsafe(self._run(), background_loop())

    async def _run(self) -> None:
        while not self._closed:
            await asyncio.sleep(self.interval)
            await self.sync()

    async def sync(self) -> None:
        """Push pending hits and read the shared totals back (one round)."""
        now = self.clock()
        with self._lock:
            for wkey in [k for k, w in self._windows.items() if w.ends <= now - 1]:
                del self._windows[wkey]
            batch = [(w, w.pending) for w in self._windows.values()]
            for window, _ in batch:
                window.pending = 0
        for window, amount in batch:
            try:
                if amount:
                    total = await self._storage.incr(window.key, window.expiry, amount)
                else:
                    total = await self._storage.get(window.key)
            except Exception as exc:
                with self._lock:
                    window.pending += amount
                self._failed(exc)
                continue
            self._failing = False
            with self._lock:
                window.known = max(int(total or 0), window.known)

    def _failed(self, exc: Exception) -> None:
        if self._on_error is not None:
            self._on_error()
        if not self._failing:
            self._failing = True
            _log.error("rate-limit storage unreachable, counting per process: %s", exc)
        # Back off so a dead Redis costs no busy loop.
        self.interval = min(1.0, max(self.interval, 0.1))

    def close(self) -> None:
        self._closed = True
