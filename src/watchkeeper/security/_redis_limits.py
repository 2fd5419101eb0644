"""Rate-limit counts shared through Redis without waiting on Redis per request.

The request path only touches local state: a key is admitted on the last shared state
read from Redis plus this process's not-yet-pushed hits. A task on watchkeeper's
background loop (never the app's event loop) pushes the pending hits every
``sync_interval`` and reads the shared state back. Overshoot across W workers is bounded
by what the other workers admit within one interval (about rate * interval); no request
ever blocks on the network. If Redis is unreachable, each process goes on counting alone
(fail open to per-process limits), the failure is counted as an internal error and
logged once.

Three strategies:

* fixed window: one counter per window (``limits``' async Redis storage: ``INCRBY`` with
  expiry);
* sliding window counter: the same counters, weighted like ``limits``'
  sliding-window-counter strategy (previous window * its remaining share + current);
* token bucket: a hash (tokens, time) updated by one Lua script that refills by Redis'
  own clock and takes the pushed hits (tokens may go below zero when workers raced; the
  bucket then refuses until the refill catches up).
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..exceptions import RateLimitStorageError
from ._ratelimit import Decision

__all__ = ["RedisLimits", "SyncedBucket", "SyncedWindows"]

_log = logging.getLogger("watchkeeper.security")
_PREFIX = "watchkeeper"

# KEYS[1]: bucket; ARGV: capacity, refill per second, tokens taken. Returns the tokens
# left (may be negative) as a string: Redis truncates Lua numbers to integers.
_TOKEN_BUCKET = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local taken = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local last = tonumber(state[2])
if tokens == nil or last == nil then
  tokens = capacity
  last = now
end
tokens = math.min(capacity, tokens + math.max(0, now - last) * rate) - taken
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return tostring(tokens)
"""


def _storage(url: str) -> Any:
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
    return RedisStorage(uri, implementation="redispy", key_prefix=_PREFIX)


class _Synced:
    """The background sync loop, its failure handling and shutdown."""

    def __init__(self, storage: Any, sync_interval: float, clock: Callable[[], float],
                 on_error: Callable[[], None] | None) -> None:
        self._storage = storage
        self.interval = sync_interval
        self.clock = clock
        self._on_error = on_error
        self._lock = threading.Lock()
        self._started = False
        self._failing = False
        self._closed = False

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

    async def sync(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _ok(self) -> None:
        self._failing = False

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


@dataclass(slots=True)
class _Window:
    key: str
    ends: float
    seconds: int
    expiry: int
    known: int = 0  # the shared total as last read
    pending: int = 0  # admitted here, not yet pushed


class SyncedWindows(_Synced):
    """Fixed (or, with ``sliding``, sliding-window-counter) limits shared by every
    process using the same Redis URL."""

    def __init__(self, url: str, sync_interval: float = 0.01, *, sliding: bool = False,
                 clock: Callable[[], float] = time.time,
                 on_error: Callable[[], None] | None = None, storage: Any = None) -> None:
        super().__init__(storage if storage is not None else _storage(url), sync_interval,
                         clock, on_error)
        self.sliding = sliding
        self._windows: dict[str, _Window] = {}

    def _window(self, key: str, seconds: int, index: int) -> _Window:
        wkey = f"{key}:{seconds}:{index}"
        state = self._windows.get(wkey)
        if state is None:
            # Sliding counts read the previous window: its key must outlive it.
            expiry = 2 * seconds + 1 if self.sliding else seconds + 1
            state = self._windows[wkey] = _Window(wkey, (index + 1) * seconds, seconds,
                                                  expiry)
        return state

    def hit(self, key: str, limit: int, window: float) -> Decision:
        if not self._started:
            self._start()
        now = self.clock()
        seconds = max(1, round(window))
        index = int(now // seconds)
        with self._lock:
            state = self._window(key, seconds, index)
            current = state.known + state.pending
            if not self.sliding:
                allowed = current < limit
                if allowed:
                    state.pending += 1
                    current += 1
                return Decision(allowed, limit, limit - current, state.ends - now, "")
            previous = self._window(key, seconds, index - 1)
            before = previous.known + previous.pending
            share = (state.ends - now) / seconds  # of the previous window still counted
            weighted = before * share + current
            allowed = weighted < limit
            if allowed:
                state.pending += 1
                weighted += 1
        if allowed or not before:
            reset = state.ends - now
        else:
            # the previous window's weight falls by before/seconds per second
            reset = max(0.0, (weighted - limit + 1) * seconds / before)
        return Decision(allowed, limit, math.floor(limit - weighted), reset, "")

    async def sync(self) -> None:
        """Push pending hits and read the shared totals back (one round)."""
        now = self.clock()
        with self._lock:
            # A sliding count still reads a window for one window length after its end.
            for wkey in [k for k, w in self._windows.items()
                         if w.ends <= now - (w.seconds if self.sliding else 1)]:
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
            self._ok()
            with self._lock:
                window.known = max(int(total or 0), window.known)


@dataclass(slots=True)
class _Bucket:
    tokens: float  # as Redis last reported (or the capacity before the first report)
    at: float  # local clock time of that report
    capacity: int
    rate: float
    pending: int = 0
    used: float = 0.0  # local clock time of the last hit


class SyncedBucket(_Synced):
    """Token buckets (``limit`` tokens refilled evenly over ``window``) shared through
    Redis by a Lua script; decided locally on the last report plus the refill since."""

    def __init__(self, url: str, sync_interval: float = 0.01, *,
                 clock: Callable[[], float] = time.monotonic,
                 on_error: Callable[[], None] | None = None, storage: Any = None) -> None:
        super().__init__(storage if storage is not None else _storage(url), sync_interval,
                         clock, on_error)
        self._buckets: dict[str, _Bucket] = {}
        self._script: Any = None

    def hit(self, key: str, limit: int, window: float) -> Decision:
        if not self._started:
            self._start()
        now = self.clock()
        rate = limit / window
        bkey = f"{key}:{limit}:{window:g}"
        with self._lock:
            bucket = self._buckets.get(bkey)
            if bucket is None:
                bucket = self._buckets[bkey] = _Bucket(float(limit), now, limit, rate)
            tokens = min(float(limit), bucket.tokens + (now - bucket.at) * rate) \
                - bucket.pending
            allowed = tokens >= 1.0
            if allowed:
                bucket.pending += 1
                tokens -= 1.0
            bucket.used = now
        wait = 0.0 if allowed else (1.0 - tokens) / rate
        return Decision(allowed, limit, max(0, math.floor(tokens)), wait, "")

    async def take(self, key: str, capacity: int, rate: float, amount: int) -> float:
        """Take ``amount`` tokens from the shared bucket; returns the tokens left."""
        if self._script is None:
            self._script = self._storage.bridge.get_connection().register_script(
                _TOKEN_BUCKET)
        left = await self._script([f"{_PREFIX}:bucket:{key}"], [capacity, rate, amount])
        return float(left)

    async def sync(self) -> None:
        """Push each bucket's pending hits and read its tokens back (one round)."""
        now = self.clock()
        with self._lock:
            # A bucket idle for longer than a full refill is full again everywhere.
            for bkey in [k for k, b in self._buckets.items()
                         if not b.pending and now - b.used > b.capacity / b.rate + 1]:
                del self._buckets[bkey]
            batch = [(k, b, b.pending) for k, b in self._buckets.items()]
            for _, bucket, _ in batch:
                bucket.pending = 0
        for bkey, bucket, amount in batch:
            try:
                left = await self.take(bkey, bucket.capacity, bucket.rate, amount)
            except Exception as exc:
                with self._lock:
                    bucket.pending += amount
                self._failed(exc)
                continue
            self._ok()
            with self._lock:
                bucket.tokens, bucket.at = left, self.clock()


class RedisLimits:
    """One shared counter per strategy, all on the same Redis storage."""

    def __init__(self, url: str, sync_interval: float, *,
                 on_error: Callable[[], None] | None = None) -> None:
        self._storage = _storage(url)
        self.url = url
        self.interval = sync_interval
        self._on_error = on_error
        self._counters: dict[str, SyncedWindows | SyncedBucket] = {}

    def counter(self, strategy: str) -> SyncedWindows | SyncedBucket:
        found = self._counters.get(strategy)
        if found is None:
            if strategy == "token_bucket":
                found = SyncedBucket(self.url, self.interval, on_error=self._on_error,
                                     storage=self._storage)
            else:
                found = SyncedWindows(self.url, self.interval, on_error=self._on_error,
                                      sliding=strategy == "sliding_window",
                                      storage=self._storage)
            self._counters[strategy] = found
        return found
