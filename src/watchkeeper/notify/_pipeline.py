"""The notification pipeline as composed stages, in Alertmanager's order.

Per receiver: inhibit → active time intervals → mute time intervals → silence, then fan
out to each integration: dedup (notification log) → retry (backoff + jitter) → record in
the notification log. Each stage takes the alerts and returns those that go on.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ..exceptions import ReceiverError
from ..rules._alert import Alert, fingerprint
from ._data import NotifyContext
from ._muter import Muter
from ._nflog import NotificationLog
from ._timeinterval import TimeInterval
from .receivers._base import Notifier

__all__ = [
    "Backoff",
    "Integration",
    "IntegrationStage",
    "MuteStage",
    "ReceiverPipeline",
    "Stage",
    "TimeActiveStage",
    "TimeMuteStage",
]

log = logging.getLogger("watchkeeper.notify")

Sleep = Callable[[float], Awaitable[None]]


class Stage(Protocol):
    async def exec(self, ctx: NotifyContext, alerts: list[Alert]) -> list[Alert]: ...


@dataclass(frozen=True, slots=True)
class Integration:
    """One configured ``*_configs`` entry of a receiver, ready to send."""

    receiver: str
    kind: str
    idx: int
    send_resolved: bool
    notifier: Notifier

    @property
    def name(self) -> str:
        return f"{self.kind}[{self.idx}]"


class MuteStage:
    """Drops alerts a :class:`Muter` (silences or inhibition) mutes."""

    def __init__(self, muter: Muter, on_muted: Callable[[Alert], None] | None = None) -> None:
        self.muter = muter
        self.on_muted = on_muted

    async def exec(self, ctx: NotifyContext, alerts: list[Alert]) -> list[Alert]:
        kept = []
        for a in alerts:
            if self.muter.mutes(a.labels, ctx.now):
                if self.on_muted is not None:
                    self.on_muted(a)
            else:
                kept.append(a)
        return kept


class TimeMuteStage:
    def __init__(self, intervals: Mapping[str, Sequence[TimeInterval]]) -> None:
        self.intervals = intervals

    async def exec(self, ctx: NotifyContext, alerts: list[Alert]) -> list[Alert]:
        for name in ctx.mute_time_intervals:
            if any(ti.contains(ctx.now) for ti in self.intervals.get(name, ())):
                return []
        return alerts


class TimeActiveStage:
    def __init__(self, intervals: Mapping[str, Sequence[TimeInterval]]) -> None:
        self.intervals = intervals

    async def exec(self, ctx: NotifyContext, alerts: list[Alert]) -> list[Alert]:
        if not ctx.active_time_intervals:
            return alerts
        for name in ctx.active_time_intervals:
            if any(ti.contains(ctx.now) for ti in self.intervals.get(name, ())):
                return alerts
        return []


@dataclass(slots=True)
class Backoff:
    """Exponential backoff with jitter (the defaults of Go's cenkalti/backoff)."""

    initial: float = 0.5
    multiplier: float = 1.5
    jitter: float = 0.5
    maximum: float = 60.0
    rng: random.Random = field(default_factory=random.Random)

    def delays(self) -> Callable[[], float]:
        current = self.initial

        def next_delay() -> float:
            nonlocal current
            delta = self.jitter * current
            value = current - delta + self.rng.random() * (2 * delta)
            current = min(current * self.multiplier, self.maximum)
            return value

        return next_delay


Observer = Callable[[Integration, str, float, int], None]


class IntegrationStage:
    """dedup → retry → log, for one integration."""

    def __init__(self, integration: Integration, nflog: NotificationLog, *,
                 backoff: Backoff | None = None, sleep: Sleep = asyncio.sleep,
                 observe: Observer | None = None) -> None:
        self.integration = integration
        self.nflog = nflog
        self.backoff = backoff or Backoff()
        self.sleep = sleep
        self.observe = observe

    def needs_update(self, ctx: NotifyContext, firing: frozenset[int],
                     resolved: frozenset[int]) -> bool:
        i = self.integration
        entry = self.nflog.query(ctx.group_key, i.receiver, i.kind, i.idx)
        if entry is None:
            return bool(firing)
        # As Alertmanager's DedupStage: anything firing (or, with send_resolved, resolved)
        # that the last notification did not contain is news.
        if not firing <= entry.firing:
            return True
        if not firing:
            return bool(entry.firing)
        if i.send_resolved and not resolved <= entry.resolved:
            return True
        return (ctx.now - entry.timestamp).total_seconds() > ctx.repeat_interval

    async def exec(self, ctx: NotifyContext, alerts: list[Alert]) -> list[Alert]:
        i = self.integration
        firing = frozenset(fingerprint(a.labels) for a in alerts if not a.resolved_at(ctx.now))
        resolved = frozenset(fingerprint(a.labels) for a in alerts if a.resolved_at(ctx.now))
        if not self.needs_update(ctx, firing, resolved):
            return []
        sent = alerts
        if not i.send_resolved:
            if not firing:
                # Nothing to send, but remember that everything resolved.
                self.nflog.log(ctx.group_key, i.receiver, i.kind, i.idx, firing, resolved,
                               ctx.now)
                return alerts
            sent = [a for a in alerts if not a.resolved_at(ctx.now)]
        await self._retry(ctx, sent)
        self.nflog.log(ctx.group_key, i.receiver, i.kind, i.idx, firing, resolved, ctx.now)
        return alerts

    async def _retry(self, ctx: NotifyContext, alerts: list[Alert]) -> None:
        i = self.integration
        next_delay = self.backoff.delays()
        deadline = time.monotonic() + ctx.deadline
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                await i.notifier.notify(ctx, alerts)
            except ReceiverError as exc:
                if self.observe is not None:
                    self.observe(i, "failure", time.monotonic() - started, attempt)
                if not exc.retryable:
                    raise ReceiverError(f"{i.receiver}/{i.name}: notify retry canceled due to "
                                        f"unrecoverable error after {attempt} attempts: {exc}",
                                        retryable=False) from exc
                delay = next_delay()
                if time.monotonic() + delay > deadline:
                    raise ReceiverError(f"{i.receiver}/{i.name}: notify retry canceled after "
                                        f"{attempt} attempts: {exc}") from exc
                if attempt == 1:
                    log.warning("notify attempt failed, will retry: %s", exc)
                await self.sleep(delay)
                continue
            except Exception as exc:
                if self.observe is not None:
                    self.observe(i, "failure", time.monotonic() - started, attempt)
                raise ReceiverError(f"{i.receiver}/{i.name}: {type(exc).__name__}: {exc}",
                                    retryable=False) from exc
            if self.observe is not None:
                self.observe(i, "success", time.monotonic() - started, attempt)
            return


class ReceiverPipeline:
    """The full pipeline for one receiver: shared stages, then one branch per integration."""

    def __init__(self, stages: Sequence[Stage], integrations: Sequence[IntegrationStage]) -> None:
        self.stages = list(stages)
        self.integrations = list(integrations)

    async def exec(self, ctx: NotifyContext, alerts: list[Alert]) -> bool:
        """Run the pipeline; True when every integration succeeded (or had nothing to do)."""
        for stage in self.stages:
            if not alerts:
                return True
            alerts = await stage.exec(ctx, alerts)
        if not alerts:
            return True
        results = await asyncio.gather(*(s.exec(ctx, list(alerts)) for s in self.integrations),
                                       return_exceptions=True)
        ok = True
        for stage, result in zip(self.integrations, results, strict=True):
            if isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                ok = False
                log.error("notify for receiver %s failed: %s",
                          stage.integration.receiver, result)
        return ok
