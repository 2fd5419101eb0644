"""Rate limits per client IP, API key, user and globally, per route.

Fixed and sliding windows in memory are the ``limits`` library's (its memory storage and
strategies, exact within one process). ``limits`` has no token bucket, so that one is
here (a dict of (tokens, last refill) under a lock). With a ``redis://`` storage all
three are shared across processes through :mod:`._redis_limits`, which never waits on
Redis on the request path.

Without Redis each worker counts alone: N workers admit up to N times a limit.
"""

from __future__ import annotations

import fnmatch
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..config._security import RateLimitRule, RateLimitSettings

__all__ = ["Decision", "RateLimiter", "TokenBucket"]


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one hit; ``reset_after`` is seconds until capacity returns."""

    allowed: bool
    limit: int
    remaining: int
    reset_after: float
    scope: str

    def headers(self, window: float) -> list[tuple[str, str]]:
        """``Retry-After`` and the IETF draft ``RateLimit-*`` fields."""
        reset = max(1, math.ceil(self.reset_after))
        out = [("ratelimit-limit", str(self.limit)),
               ("ratelimit-remaining", str(max(0, self.remaining))),
               ("ratelimit-reset", str(reset)),
               ("ratelimit-policy", f"{self.limit};w={math.ceil(window)}")]
        if not self.allowed:
            out.insert(0, ("retry-after", str(reset)))
        return out


class Counter(Protocol):
    def hit(self, key: str, limit: int, window: float) -> Decision: ...


class TokenBucket:
    """``limit`` tokens refilled evenly over ``window``; one per request."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window: float) -> Decision:
        rate = limit / window
        now = self.clock()
        with self._lock:
            tokens, last = self._state.get(key, (float(limit), now))
            tokens = min(float(limit), tokens + (now - last) * rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            if len(self._state) > 100_000:
                self._state.clear()
            self._state[key] = (tokens, now)
        wait = 0.0 if allowed else (1.0 - tokens) / rate
        return Decision(allowed, limit, int(tokens), wait, "")


class _LimitsWindows:
    """Fixed or sliding windows from the ``limits`` library, in process memory."""

    def __init__(self, sliding: bool) -> None:
        from limits.storage import MemoryStorage
        from limits.strategies import FixedWindowRateLimiter, SlidingWindowCounterRateLimiter

        storage = MemoryStorage()
        self._limiter: Any = (SlidingWindowCounterRateLimiter(storage) if sliding
                              else FixedWindowRateLimiter(storage))
        self._items: dict[tuple[int, int], Any] = {}

    def hit(self, key: str, limit: int, window: float) -> Decision:
        from limits import RateLimitItemPerSecond

        seconds = max(1, round(window))
        item = self._items.get((limit, seconds))
        if item is None:
            item = self._items[(limit, seconds)] = RateLimitItemPerSecond(limit, seconds)
        allowed = self._limiter.hit(item, key)
        stats = self._limiter.get_window_stats(item, key)
        return Decision(allowed, limit, int(stats.remaining),
                        max(0.0, stats.reset_time - time.time()), "")


@dataclass(frozen=True, slots=True)
class _Bound:
    index: int
    rule: RateLimitRule
    counter: Counter
    everywhere: bool


class RateLimiter:
    """Applies every configured rule that matches a request's path, in order; the first
    refusal wins. Keys are the scope's identity (client IP, API key, user id, or one
    global key) prefixed with the rule's index."""

    def __init__(self, settings: RateLimitSettings, *, redis: Any = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rules: list[_Bound] = []
        shared: dict[str, Counter] = {}
        for index, rule in enumerate(settings.rules):
            if redis is not None:
                counter: Counter = redis.counter(rule.strategy)
            elif rule.strategy == "token_bucket":
                counter = shared.setdefault("token_bucket", TokenBucket(clock))
            else:
                counter = shared.setdefault(rule.strategy,
                                            _LimitsWindows(rule.strategy == "sliding_window"))
            self.rules.append(_Bound(index, rule, counter, list(rule.routes) == ["*"]))

    def check(self, path: str, client: str | None,
              header: Callable[[str], str | None]) -> tuple[Decision, RateLimitRule] | None:
        """The refusing decision (and its rule), or None when every limit admits."""
        for bound in self.rules:
            rule = bound.rule
            if not bound.everywhere and not _matches(path, rule.routes):
                continue
            identity = _identity(rule, client, header)
            if identity is None:
                continue
            decision = bound.counter.hit(f"{bound.index}:{identity}", rule.limit, rule.window)
            if not decision.allowed:
                return Decision(False, decision.limit, decision.remaining,
                                decision.reset_after, rule.scope), rule
        return None


def _matches(path: str, routes: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, route) for route in routes)


def _identity(rule: RateLimitRule, client: str | None,
              header: Callable[[str], str | None]) -> str | None:
    if rule.scope == "global":
        return "global"
    if rule.scope == "ip":
        return client
    name = rule.key_header if rule.scope == "key" else (
        "x-user-id" if rule.key_header == "x-api-key" else rule.key_header)
    value = header(name)
    if not value:
        return None
    import hashlib

    # Keys and tokens are secrets: only a digest of them is kept or sent to Redis.
    return hashlib.blake2b(value.encode("utf-8", "replace"), digest_size=12).hexdigest()
