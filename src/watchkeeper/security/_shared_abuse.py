"""Failed-authentication counts and temporary blocks shared by every replica via Redis.

The request path never waits on Redis: a failure is appended to a local queue and
counted locally (the fallback's history); a task on watchkeeper's background loop sends
queued failures to Redis, one Lua script each (a sorted set of failure times per IP or
user: prune the window, add, count; on the failure that makes the count exceed the
threshold, record the block with its end time), and pulls the current blocks back into
the local block list every ``sync_interval``. Exactly one replica sees the crossing
(Redis runs scripts one at a time), so an incident is raised once for the whole service.

When Redis cannot be reached, every replica decides on its own counts again (counted as
an internal error, logged once) until a call succeeds.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import threading
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["SharedAbuse"]

_log = logging.getLogger("watchkeeper.security")
_PREFIX = "watchkeeper:bf"
_MAX_QUEUED = 10_000

# KEYS[1]: failures of one subject, KEYS[2]: the blocks set. ARGV: window ms, threshold,
# member, block ttl ms (0: none), client to block. Returns {count, blocked until ms}.
_FAILURE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
local count = redis.call('ZCARD', KEYS[1])
local ttl = tonumber(ARGV[4])
local blocked = 0
if count == tonumber(ARGV[2]) + 1 and ttl > 0 then
  blocked = now + ttl
  local old = tonumber(redis.call('ZSCORE', KEYS[2], ARGV[5]) or '0')
  if blocked > old then redis.call('ZADD', KEYS[2], blocked, ARGV[5]) end
end
return {count, blocked}
"""

# KEYS[1]: the blocks set. Returns {client, ms left, ...} for blocks still running.
_BLOCKS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local found = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local out = {}
for i = 1, #found, 2 do
  out[#out + 1] = found[i]
  out[#out + 1] = tostring(tonumber(found[i + 1]) - now)
end
return out
"""

Crossed = Callable[[str, str, int, float], None]  # kind, subject, count, blocked seconds
Blocked = Callable[[str, float], None]  # client, seconds left


class SharedAbuse:
    """Sends failures to Redis and pulls blocks back, off the request path.

    Args:
        url: ``redis://`` (``rediss://``, ``redis+unix://``) URL.
        window, threshold: the brute-force window (seconds) and failure threshold.
        on_crossed: called (on the background loop's thread) for the failure that made a
            subject's count exceed the threshold anywhere in the service.
        on_blocked: called for each block pulled from Redis (to refuse the client here).
        on_fallback: called for a failure Redis did not take (decide it locally).
        on_error: counts an internal error.
    """

    def __init__(self, url: str, *, window: float, threshold: int, sync_interval: float,
                 on_crossed: Crossed, on_blocked: Blocked,
                 on_fallback: Callable[[str, str], None],
                 on_error: Callable[[], None]) -> None:
        try:
            import redis.asyncio  # noqa: F401
        except ImportError as exc:
            from ..exceptions import RateLimitStorageError

            raise RateLimitStorageError(
                f"brute-force storage {url!r} needs the redis package "
                "(pip install 'watchkeeper[redis]')") from exc
        self.url = url
        self.window = window
        self.threshold = threshold
        self.interval = sync_interval
        self._on_crossed = on_crossed
        self._on_blocked = on_blocked
        self._on_fallback = on_fallback
        self._on_error = on_error
        self._queue: deque[tuple[str, str, str, float]] = deque()
        self._member = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._sequence = 0
        self._lock = threading.Lock()
        self._started = False
        self._closed = False
        self._client: Any = None
        self._scripts: tuple[Any, Any] | None = None
        self.failing = False

    # -- request path ----------------------------------------------------------------------
    def failure(self, kind: str, subject: str, block_ttl: float) -> bool:
        """Queue one failure of ``subject`` (``kind`` ``ip``/``user``); False when Redis
        is known to be down or the queue is full: the caller decides locally."""
        if self.failing or len(self._queue) >= _MAX_QUEUED:
            return False
        self._queue.append(("failure", kind, subject, block_ttl))
        self._kick()
        return True

    def reset(self, kind: str, subject: str) -> None:
        self._queue.append(("reset", kind, subject, 0.0))
        self._kick()

    def _kick(self) -> None:
        if not self._started:
            self._start()

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        from .._background import background_loop

        asyncio.run_coroutine_threadsafe(self._run(), background_loop())

    # -- background loop ---------------------------------------------------------------------
    def _key(self, kind: str, subject: str) -> str:
        digest = hashlib.blake2b(subject.encode("utf-8", "replace"), digest_size=12)
        return f"{_PREFIX}:{kind}:{digest.hexdigest()}"

    def _ready(self) -> tuple[Any, Any]:
        if self._scripts is None:
            import redis.asyncio

            self._client = redis.asyncio.Redis.from_url(self.url, socket_timeout=2,
                                                        socket_connect_timeout=2)
            self._scripts = (self._client.register_script(_FAILURE),
                             self._client.register_script(_BLOCKS))
        return self._scripts

    async def _run(self) -> None:
        while not self._closed:
            try:
                await self.sync()
            except Exception as exc:  # e.g. a URL the client refuses: keep the loop alive
                self._failed(exc)
                while self._queue:  # what Redis never saw is decided here
                    action, kind, subject, _ttl = self._queue.popleft()
                    if action == "failure":
                        self._on_fallback(kind, subject)
            await asyncio.sleep(self.interval)

    async def sync(self) -> None:
        """Send queued failures and resets, then pull the running blocks (one round)."""
        failure, blocks = self._ready()
        while self._queue:
            action, kind, subject, ttl = self._queue.popleft()
            key = self._key(kind, subject)
            try:
                if action == "reset":
                    await self._client.delete(key)
                    continue
                self._sequence += 1
                count, until = await failure(
                    [key, f"{_PREFIX}:blocks"],
                    [round(self.window * 1000), self.threshold,
                     f"{self._member}-{self._sequence}", round(ttl * 1000), subject])
            except Exception as exc:
                if action == "failure":
                    self._on_fallback(kind, subject)
                self._failed(exc)
                continue
            self._ok()
            if int(count) == self.threshold + 1:
                self._on_crossed(kind, subject, int(count), ttl if int(until) else 0.0)
        try:
            running = await blocks([f"{_PREFIX}:blocks"], [])
        except Exception as exc:
            self._failed(exc)
            return
        self._ok()
        for i in range(0, len(running), 2):
            client = running[i].decode() if isinstance(running[i], bytes) else running[i]
            self._on_blocked(str(client), float(running[i + 1]) / 1000)

    def _ok(self) -> None:
        if self.failing:
            self.failing = False
            _log.warning("brute-force storage reachable again: counting across replicas")

    def _failed(self, exc: Exception) -> None:
        self._on_error()
        if not self.failing:
            self.failing = True
            _log.error("brute-force storage unreachable, counting per process: %s", exc)
        self.interval = min(1.0, max(self.interval, 0.1))  # no busy loop on a dead Redis

    def close(self) -> None:
        self._closed = True
