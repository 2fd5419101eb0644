"""Counting failures in a sliding window, and temporary blocks with a time to live."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["Blocklist", "WindowCounter"]

_MAX_KEYS = 100_000  # an attacker rotating usernames must not grow memory without bound


class WindowCounter:
    """Events per key in the last ``window`` seconds; reports each key's crossing of
    ``threshold`` once until its count falls back (or it is reset)."""

    def __init__(self, threshold: int, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = threshold
        self.window = window
        self.clock = clock
        self._events: dict[str, deque[float]] = {}
        self._open: set[str] = set()
        self._lock = threading.Lock()

    def add(self, key: str, *, judge: bool = True) -> tuple[int, bool]:
        """Count one event; returns (count in window, whether this one crossed).
        ``judge=False`` only records it (another store decides, this is the fallback's
        history)."""
        now = self.clock()
        with self._lock:
            times = self._events.get(key)
            if times is None:
                if len(self._events) >= _MAX_KEYS:
                    self._evict(now)
                times = self._events[key] = deque()
            times.append(now)
            if not judge:
                return len(times), False
            return self._judge(key, times, now)

    def judge(self, key: str) -> tuple[int, bool]:
        """Like :meth:`add` for an event already recorded with ``judge=False``."""
        now = self.clock()
        with self._lock:
            times = self._events.get(key)
            if times is None:
                return 0, False
            return self._judge(key, times, now)

    def _judge(self, key: str, times: deque[float], now: float) -> tuple[int, bool]:
        cutoff = now - self.window
        while times and times[0] <= cutoff:
            times.popleft()
        count = len(times)
        if count <= self.threshold:
            self._open.discard(key)
            return count, False
        if key in self._open:
            return count, False
        self._open.add(key)
        return count, True

    def reset(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)
            self._open.discard(key)

    def count(self, key: str) -> int:
        cutoff = self.clock() - self.window
        with self._lock:
            return sum(1 for t in self._events.get(key, ()) if t > cutoff)

    def _evict(self, now: float) -> None:
        cutoff = now - self.window
        stale = [k for k, times in self._events.items() if not times or times[-1] <= cutoff]
        for key in stale or list(self._events)[: len(self._events) // 2]:
            self._events.pop(key, None)
            self._open.discard(key)


class Blocklist:
    """Clients refused until a deadline; expired entries vanish on the next look."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        # client -> deadline; never replaced, so the request hook may keep it and test
        # it for emptiness without a method call (most of the time it is empty)
        self.until: dict[str, float] = {}
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self.until)

    def block(self, client: str, ttl: float) -> None:
        with self._lock:
            self.until[client] = max(self.until.get(client, 0.0), self.clock() + ttl)

    def unblock(self, client: str) -> bool:
        with self._lock:
            return self.until.pop(client, None) is not None

    def remaining(self, client: str) -> float:
        """Seconds left on ``client``'s block, 0 when not blocked."""
        until = self.until.get(client)
        if until is None:
            return 0.0
        left = until - self.clock()
        if left <= 0:
            with self._lock:
                if self.until.get(client) == until:
                    del self.until[client]
            return 0.0
        return left

    def active(self) -> int:
        now = self.clock()
        with self._lock:
            for client in [c for c, until in self.until.items() if until <= now]:
                del self.until[client]
            return len(self.until)
