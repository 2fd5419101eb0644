"""Circuit breaker state shared by replicas through Redis (``watchkeeper[redis]``).

Callers never wait on Redis: ``before_call`` reads only local memory. A replica that
opens its circuit publishes the moment (``SET key opened_at EX reset_timeout``) from a
background loop; every replica polls the keys of its breakers there too and adopts an
open circuit it has not seen, keeping the remaining timeout. A closing replica deletes
the key. Redis being down only means replicas decide alone; it is logged once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from ._breaker import OPEN, CircuitBreaker
from ._loop import HealthLoop

__all__ = ["RedisBreakerState"]

_log = logging.getLogger("watchkeeper.health")


class RedisBreakerState:
    """Share the open/closed state of breakers among replicas.

    Example::

        shared = RedisBreakerState("redis://cache:6379/0")
        payments = CircuitBreaker("payments", fail_max=5, reset_timeout=60)
        shared.attach(payments)
    """

    def __init__(self, url: str, *, prefix: str = "watchkeeper:breaker:",
                 poll_interval: float = 1.0, clock: Any = time.time) -> None:
        try:
            import redis.asyncio as aioredis
        except ImportError as exc:
            from ..exceptions import HealthCheckConfigError

            raise HealthCheckConfigError(
                "shared breaker state needs redis-py: pip install 'watchkeeper[redis]'"
            ) from exc
        self._url = url
        self._aioredis = aioredis
        self.prefix = prefix
        self.poll_interval = poll_interval
        self._clock = clock
        self._loop = HealthLoop("watchkeeper-breaker-sync")
        self._breakers: list[CircuitBreaker] = []
        self._client: Any = None
        self._poller: asyncio.Task[None] | None = None
        self._warned = False

    def key(self, breaker: CircuitBreaker) -> str:
        return f"{self.prefix}{breaker.name}"

    def attach(self, breaker: CircuitBreaker) -> None:
        """Publish ``breaker``'s transitions and adopt the ones other replicas publish."""
        self._breakers.append(breaker)
        breaker.add_listener(self._on_transition)
        self._loop.call(self._ensure_poller)

    def close(self) -> None:
        async def _close() -> None:
            if self._poller is not None:
                self._poller.cancel()
            if self._client is not None:
                await self._client.aclose()

        try:
            self._loop.submit(_close()).result(5)
        finally:
            self._loop.stop()

    # -- on the sync loop ---------------------------------------------------------------
    def _on_transition(self, breaker: CircuitBreaker, old: str, new: str) -> None:
        if breaker.adopting:
            return
        opened_at = self._clock()
        self._loop.call(lambda: asyncio.ensure_future(self._publish(breaker, new, opened_at)))

    def _redis(self) -> Any:
        if self._client is None:
            self._client = self._aioredis.Redis.from_url(self._url)
        return self._client

    async def _publish(self, breaker: CircuitBreaker, state: str, opened_at: float) -> None:
        try:
            if state == OPEN:
                ttl = max(1, int(breaker.reset_timeout + 0.999))
                await self._redis().set(self.key(breaker), repr(opened_at), ex=ttl)
            elif state == "closed":
                await self._redis().delete(self.key(breaker))
        except Exception:
            self._redis_failed()

    def _ensure_poller(self) -> None:
        if self._poller is None or self._poller.done():
            self._poller = asyncio.ensure_future(self._poll())

    async def _poll(self) -> None:
        while True:
            try:
                await self._poll_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                self._redis_failed()
            await asyncio.sleep(self.poll_interval)

    async def _poll_once(self) -> None:
        breakers = list(self._breakers)
        if not breakers:
            return
        values = await self._redis().mget([self.key(b) for b in breakers])
        now = self._clock()
        for breaker, raw in zip(breakers, values, strict=True):
            if raw is None or breaker.state == OPEN:
                continue
            try:
                age = now - float(raw)
            except ValueError:
                continue
            if breaker.adopt_open(age):
                _log.warning("circuit breaker %s opened by another replica %.1fs ago",
                             breaker.name, age)

    def _redis_failed(self) -> None:
        if not self._warned:
            self._warned = True
            _log.warning("circuit breaker shared state: Redis unavailable; breakers decide "
                         "locally", exc_info=True)
