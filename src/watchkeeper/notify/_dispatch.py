"""Aggregation groups and their flush timing, as Alertmanager's dispatcher does it.

:class:`Dispatcher` is a synchronous state machine driven by explicit timestamps (so tests
control the clock); :class:`DispatchRunner` drives it from an asyncio task.

Timing, per group: created by its first alert, first flush ``group_wait`` later (at once
if the alert started more than ``group_wait`` ago and the group has not flushed yet), then
a flush every ``group_interval``; whether a flush actually notifies is the dedup stage's
decision (new alerts, resolved alerts, or ``repeat_interval`` elapsed).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..rules._alert import Alert, fingerprint, labelset_string, sorted_alerts
from ._route import Route, RouteOpts

__all__ = ["AggrGroup", "DispatchRunner", "Dispatcher", "FlushJob"]

#: How often empty groups are dropped (Alertmanager's dispatcher maintenance interval).
MAINTENANCE_INTERVAL = 30.0


@dataclass(slots=True)
class AggrGroup:
    """Alerts of one route that share the same values of the route's ``group_by`` labels."""

    route: Route
    labels: dict[str, str]
    key: str
    next_flush: datetime
    alerts: dict[int, Alert] = field(default_factory=dict)
    has_flushed: bool = False
    busy: bool = False

    @property
    def opts(self) -> RouteOpts:
        return self.route.opts


@dataclass(frozen=True, slots=True)
class FlushJob:
    """One flush: what the notification pipeline is asked to send for a group."""

    group: AggrGroup
    now: datetime
    alerts: tuple[Alert, ...]

    @property
    def group_key(self) -> str:
        return self.group.key


class Dispatcher:
    """Routes alerts into aggregation groups and says which groups are due to flush."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self.groups: dict[tuple[int, int], AggrGroup] = {}
        self._last_gc: datetime | None = None

    def put(self, alert: Alert, now: datetime) -> list[AggrGroup]:
        """Insert (or update) an alert in every group its labels route to."""
        return [self._insert(alert, route, now) for route in self.route.match(alert.labels)]

    def _insert(self, alert: Alert, route: Route, now: datetime) -> AggrGroup:
        labels = route.group_labels(alert.labels)
        gid = (route.idx, fingerprint(labels))
        group = self.groups.get(gid)
        if group is None:
            key = f"{route.key()}:{labelset_string(labels)}"
            group = AggrGroup(route, labels, key, now + timedelta(seconds=route.opts.group_wait))
            self.groups[gid] = group
        group.alerts[alert.fingerprint] = alert
        wait = timedelta(seconds=route.opts.group_wait)
        if not group.has_flushed and alert.starts_at + wait < now:
            group.next_flush = min(group.next_flush, now)
        return group

    def next_deadline(self) -> datetime | None:
        times = [g.next_flush for g in self.groups.values() if not g.busy]
        return min(times) if times else None

    def due(self, now: datetime) -> list[FlushJob]:
        """Groups whose timer fired by ``now``: their timers are re-armed, jobs returned."""
        jobs: list[FlushJob] = []
        for group in self.groups.values():
            if group.busy or group.next_flush > now:
                continue
            group.next_flush = now + timedelta(seconds=group.opts.group_interval)
            group.has_flushed = True
            if not group.alerts:
                continue
            snapshot = []
            for alert in group.alerts.values():
                snapshot.append(alert if alert.resolved_at(now) else alert.with_(ends_at=None))
            group.busy = True
            jobs.append(FlushJob(group, now, tuple(sorted_alerts(snapshot))))
        return jobs

    def done(self, job: FlushJob, success: bool) -> None:
        """After a flush: on success drop resolved alerts that did not change meanwhile."""
        group = job.group
        group.busy = False
        if not success:
            return
        for alert in job.alerts:
            if not alert.resolved_at(job.now):
                continue
            current = group.alerts.get(alert.fingerprint)
            if current is not None and current.updated_at == alert.updated_at:
                del group.alerts[alert.fingerprint]

    def gc(self, now: datetime) -> int:
        """Drop empty groups every maintenance interval; returns how many were dropped."""
        if self._last_gc is not None and (now - self._last_gc).total_seconds() < \
                MAINTENANCE_INTERVAL:
            return 0
        self._last_gc = now
        empty = [gid for gid, g in self.groups.items() if not g.alerts and not g.busy]
        for gid in empty:
            del self.groups[gid]
        return len(empty)

    def groups_for(self, alerts: Iterable[Alert]) -> list[AggrGroup]:
        fps = {a.fingerprint for a in alerts}
        return [g for g in self.groups.values() if fps & g.alerts.keys()]


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


Clock = Callable[[], datetime]
FlushFunc = Callable[[FlushJob], Awaitable[bool]]


class DispatchRunner:
    """Runs a :class:`Dispatcher` in real (or injected) time; flushes run as tasks."""

    def __init__(self, dispatcher: Dispatcher, flush: FlushFunc, clock: Clock) -> None:
        self.dispatcher = dispatcher
        self._flush = flush
        self._clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._jobs: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def put(self, alert: Alert) -> None:
        """Insert an alert; callable from any thread (the dispatcher lives on the loop)."""
        loop = self._loop
        if loop is not None and not _on_loop(loop):
            loop.call_soon_threadsafe(self._put, alert)
        else:
            self._put(alert)

    def _put(self, alert: Alert) -> None:
        self.dispatcher.put(alert, self._clock())
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._loop = asyncio.get_running_loop()
            self._task = self._loop.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for job in list(self._jobs):
            job.cancel()
        if self._jobs:
            await asyncio.gather(*self._jobs, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            now = self._clock()
            for job in self.dispatcher.due(now):
                task = asyncio.get_running_loop().create_task(self._do(job))
                self._jobs.add(task)
                task.add_done_callback(self._jobs.discard)
            self.dispatcher.gc(now)
            deadline = self.dispatcher.next_deadline()
            timeout = MAINTENANCE_INTERVAL
            if deadline is not None:
                timeout = min(timeout, max(0.0, (deadline - self._clock()).total_seconds()))
            self._wake.clear()
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
            # that races with the event being set, and stop() would then hang.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    async def _do(self, job: FlushJob) -> None:
        ok = False
        try:
            ok = await self._flush(job)
        finally:
            self.dispatcher.done(job, ok)
            self._wake.set()
