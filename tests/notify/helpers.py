"""A fake clock and a driver that runs an AlertManager's dispatcher step by step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from watchkeeper.notify import AlertManager

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


class Recorder:
    """An httpx MockTransport handler recording JSON bodies; statuses can be scripted."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.script: dict[str, list[int]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = orjson.loads(request.content) if request.content else None
        self.calls.append((str(request.url), body))
        statuses = self.script.get(request.url.path)
        status = statuses.pop(0) if statuses else 200
        return httpx.Response(status, text="ok")

    def to(self, path: str) -> list[Any]:
        return [b for u, b in self.calls if httpx.URL(u).path == path]


async def no_sleep(_seconds: float) -> None:
    return None


async def step(am: AlertManager, clock: FakeClock, seconds: float = 0.0) -> int:
    """Advance the clock and run every due flush to completion; returns flushes run."""
    now = clock.advance(seconds)
    jobs = am.dispatcher.due(now)
    for job in jobs:
        ok = await am.flush(job)
        am.dispatcher.done(job, ok)
    return len(jobs)
