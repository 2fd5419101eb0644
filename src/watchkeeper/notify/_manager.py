"""The in-process Alertmanager: store, dispatcher, silences, inhibition, receivers."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Counter, Histogram

from ..rules._alert import ZERO_TIME, Alert, sorted_alerts
from ._config import Config, load_config
from ._data import NotifyContext
from ._dispatch import AggrGroup, Dispatcher, DispatchRunner, FlushJob
from ._escalation import Escalations, EscalationStep
from ._inhibit import Inhibitor
from ._nflog import NotificationLog
from ._pipeline import (
    Backoff,
    Integration,
    IntegrationStage,
    MuteStage,
    ReceiverPipeline,
    Sleep,
    Stage,
    TimeActiveStage,
    TimeMuteStage,
)
from ._route import Route, build_route
from ._silence import Silence, Silences
from ._store import AlertStore
from ._template import TemplateSet
from .receivers import build_notifier

__all__ = ["AlertManager", "Notification"]

log = logging.getLogger("watchkeeper.notify")

#: Seconds between housekeeping runs (resolved alerts, silences, notification log).
MAINTENANCE_EVERY = 900.0


@dataclass(frozen=True, slots=True)
class Notification:
    """One delivered (or failed) notification, for :meth:`AlertManager.history`."""

    at: datetime
    receiver: str
    group_key: str
    status: str
    firing: int
    resolved: int
    ok: bool


class AlertManager:
    """Alertmanager's behaviour inside this process, from an unchanged alertmanager.yml.

    Example::

        am = AlertManager.from_file("alertmanager.yml", data_dir="/var/lib/app/notify")
        await am.start()
        am.put_alerts([Alert(labels={"alertname": "HighErrorRate", "severity": "page"})])
        ...
        await am.stop()

    Args:
        config: a parsed :class:`Config` (see :func:`load_config`).
        data_dir: where silences, the notification log and active alerts persist
            (``None``: memory only).
        clock: returns the current UTC time; injected by tests.
        external_url: ``.ExternalURL`` in notifications.
        transport: an httpx transport for every HTTP receiver (tests use MockTransport).
        sleep: how retries wait (tests inject a fake).
    """

    def __init__(self, config: Config, *, data_dir: str | Path | None = None,
                 clock: Callable[[], datetime] | None = None, external_url: str = "",
                 transport: httpx.AsyncBaseTransport | None = None,
                 sleep: Sleep = asyncio.sleep, backoff: Backoff | None = None,
                 registry: CollectorRegistry | None = None, timeout: float = 10.0,
                 escalations: Escalations | None = None) -> None:
        self.config = config
        self.clock = clock or (lambda: datetime.now(UTC))
        self.external_url = external_url
        path = Path(data_dir) if data_dir is not None else None
        self.silences = Silences(path / "silences.json" if path else None, self.clock)
        self.nflog = NotificationLog(path / "nflog.jsonl" if path else None, self.clock)
        self.store = AlertStore(path / "alerts.jsonl" if path else None, self.clock)
        self.inhibitor = Inhibitor(config.inhibit_rules)
        self.route: Route = build_route(config.route)
        self.dispatcher = Dispatcher(self.route)
        self.templates = TemplateSet.from_globs(config.templates)
        self.registry = registry or CollectorRegistry()
        self._notifications = Counter(
            "notifications", "Notifications sent, by receiver, integration and outcome.",
            ["receiver", "integration", "status"], registry=self.registry)
        self._latency = Histogram(
            "notification_latency_seconds", "Time to deliver one notification attempt.",
            ["receiver", "integration"], registry=self.registry)
        self._history: collections.deque[Notification] = collections.deque(maxlen=1000)
        self._counts: collections.Counter[str] = collections.Counter()
        self._sleep = sleep
        self._backoff = backoff
        self._timeout = timeout
        self._transport = transport
        self.pipelines = {name: self._build_pipeline(name) for name in config.receivers}
        self._runner: DispatchRunner | None = None
        self.escalations = escalations
        self._escalator: asyncio.Task[None] | None = None
        self._maintainer: asyncio.Task[None] | None = None
        self.started_at = self.clock()
        for alert in self.store.list():
            self.inhibitor.observe(alert)
            self.dispatcher.put(alert, self.clock())

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> AlertManager:
        return cls(load_config(path), **kwargs)

    # -- pipeline ---------------------------------------------------------------------
    def _observe(self, integration: Integration, status: str, seconds: float, _n: int) -> None:
        self._notifications.labels(integration.receiver, integration.kind, status).inc()
        self._latency.labels(integration.receiver, integration.kind).observe(seconds)
        self._counts[f"requests_{status}"] += 1

    def _build_pipeline(self, name: str) -> ReceiverPipeline:
        rc = self.config.receivers[name]
        intervals = self.config.time_intervals
        stages: list[Stage] = [MuteStage(self.inhibitor), TimeActiveStage(intervals),
                  TimeMuteStage(intervals), MuteStage(self.silences)]
        branches = []
        for ic in rc.integrations:
            notifier = build_notifier(ic.kind, ic.settings, templates=self.templates,
                                      timeout=self._timeout, transport=self._transport)
            integration = Integration(name, ic.kind, ic.index, ic.send_resolved, notifier)
            branches.append(IntegrationStage(integration, self.nflog, backoff=self._backoff,
                                             sleep=self._sleep, observe=self._observe))
        return ReceiverPipeline(stages, branches)

    def context_for(self, group: AggrGroup, now: datetime) -> NotifyContext:
        opts = group.opts
        return NotifyContext(now, group.key, dict(group.labels), opts.receiver,
                             opts.repeat_interval, opts.mute_time_intervals,
                             opts.active_time_intervals, self.external_url,
                             deadline=opts.group_interval)

    async def flush(self, job: FlushJob) -> bool:
        ctx = self.context_for(job.group, job.now)
        pipeline = self.pipelines[ctx.receiver]
        before = self._counts["requests_success"]
        ok = await pipeline.exec(ctx, list(job.alerts))
        sent = self._counts["requests_success"] > before
        if sent or not ok:
            firing = sum(1 for a in job.alerts if not a.resolved_at(job.now))
            self._history.append(Notification(
                job.now, ctx.receiver, ctx.group_key,
                "firing" if firing else "resolved", firing, len(job.alerts) - firing, ok))
            self._counts["notifications_ok" if ok else "notifications_failed"] += 1
        return ok

    # -- lifecycle --------------------------------------------------------------------
    async def start(self) -> None:
        if self._runner is None:
            self._runner = DispatchRunner(self.dispatcher, self.flush, self.clock)
            self._runner.start()
        if self._maintainer is None:
            self._maintainer = asyncio.get_running_loop().create_task(self._maintenance_loop())
        if self.escalations is not None and self._escalator is None:
            self._escalator = asyncio.get_running_loop().create_task(self._escalate_loop())

    def maintenance(self) -> dict[str, int]:
        """Drop resolved alerts, old silences and expired log entries (Alertmanager's GC).

        Runs every 15 minutes while started; safe to call at any time.
        """
        gone = self.store.gc()
        for alert in gone:
            self.inhibitor.forget(alert.fingerprint)
        silences = self.silences.gc()
        self.nflog.gc()
        return {"alerts": len(gone), "silences": silences}

    async def _maintenance_loop(self) -> None:
        while True:
            await asyncio.sleep(MAINTENANCE_EVERY)
            try:
                self.maintenance()
            except Exception:  # never let housekeeping kill the pipeline
                log.exception("notify maintenance failed")

    async def _escalate_loop(self) -> None:
        assert self.escalations is not None
        while True:
            for step in self.escalations.due(self.clock()):
                await self.escalate(step)
            await asyncio.sleep(0.2)  # real time: the injected sleep is for retries

    async def escalate(self, step: EscalationStep) -> bool:
        """Send one escalation level to its receivers (deduplicated per level)."""
        ok = True
        now = self.clock()
        for receiver in step.receivers:
            pipeline = self.pipelines.get(receiver)
            if pipeline is None:
                log.error("escalation %s: unknown receiver %r", step.policy, receiver)
                ok = False
                continue
            ctx = NotifyContext(now, f"escalation:{step.policy}:{step.fingerprint:016x}:"
                                f"{step.level}", dict(step.alert.labels), receiver,
                                self.route.opts.repeat_interval, external_url=self.external_url)
            ok = await pipeline.exec(ctx, [step.alert]) and ok
        return ok

    def acknowledge(self, fingerprint: int | str, by: str = "") -> bool:
        """Stop the escalation of an alert (fingerprint as int or 16-digit hex)."""
        if self.escalations is None:
            return False
        fp = int(fingerprint, 16) if isinstance(fingerprint, str) else fingerprint
        return self.escalations.acknowledge(fp, by)

    async def stop(self) -> None:
        for task in (self._escalator, self._maintainer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._escalator = self._maintainer = None
        if self._runner is not None:
            await self._runner.stop()
            self._runner = None
        for pipeline in self.pipelines.values():
            for branch in pipeline.integrations:
                close = getattr(branch.integration.notifier, "aclose", None)
                if close is not None:
                    await close()

    async def __aenter__(self) -> AlertManager:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- alerts -----------------------------------------------------------------------
    def put_alerts(self, alerts: Iterable[Alert]) -> list[Alert]:
        """Receive alerts as Alertmanager's ``POST /api/v2/alerts`` does.

        A missing start is ``now`` (or the end, if given); a missing end is
        ``now + resolve_timeout`` and marked as a timeout.
        """
        now = self.clock()
        resolve = timedelta(seconds=self.config.global_.resolve_timeout)
        prepared = []
        for a in alerts:
            labels = {k: v for k, v in a.labels.items() if v != ""}
            starts, ends, timeout = a.starts_at, a.ends_at, False
            if ends == ZERO_TIME:
                ends = None
            if starts == ZERO_TIME:
                starts = ends if ends is not None else now
            if ends is None:
                ends, timeout = now + resolve, True
            prepared.append(a.with_(labels=labels, starts_at=starts, ends_at=ends,
                                    updated_at=now, timeout=timeout))
        stored = self.store.put(prepared)
        for alert in stored:
            self.inhibitor.observe(alert)
            if self.escalations is not None:
                self.escalations.observe(alert, now)
            if self._runner is not None:
                self._runner.put(alert)
            else:
                self.dispatcher.put(alert, now)
        return stored

    def active_alerts(self) -> list[Alert]:
        """Alerts not resolved yet (silenced and inhibited ones included)."""
        now = self.clock()
        return sorted_alerts(a for a in self.store.list() if not a.resolved_at(now))

    def alert_status(self, alert: Alert) -> dict[str, Any]:
        now = self.clock()
        silenced = self.silences.silenced_by(alert.labels, now)
        inhibited = self.inhibitor.inhibited_by(alert.labels, now)
        state = "suppressed" if silenced or inhibited else "active"
        return {"state": state, "silencedBy": silenced, "inhibitedBy": inhibited}

    def receivers_for(self, labels: Mapping[str, str]) -> list[str]:
        return [r.opts.receiver for r in self.route.match(labels)]

    def groups(self) -> list[AggrGroup]:
        return [g for g in self.dispatcher.groups.values() if g.alerts]

    def history(self, limit: int = 100) -> list[Notification]:
        return list(self._history)[-limit:]

    def statistics(self) -> dict[str, Any]:
        now = self.clock()
        alerts = self.store.list()
        active = [a for a in alerts if not a.resolved_at(now)]
        suppressed = sum(1 for a in active if self.alert_status(a)["state"] == "suppressed")
        by_severity = collections.Counter(a.labels.get("severity", "") for a in active)
        return {
            "alerts_active": len(active),
            "alerts_suppressed": suppressed,
            "alerts_resolved": len(alerts) - len(active),
            "alerts_by_severity": dict(by_severity),
            "groups": len(self.groups()),
            "silences_active": len(self.silences.list("active")),
            "notifications_sent": self._counts["notifications_ok"],
            "notifications_failed": self._counts["notifications_failed"],
            "requests_success": self._counts["requests_success"],
            "requests_failure": self._counts["requests_failure"],
        }

    # -- silences ---------------------------------------------------------------------
    def add_silence(self, matchers: str | Sequence[str], *, duration: float = 3600.0,
                    created_by: str = "watchkeeper", comment: str = "") -> str:
        """Silence alerts matching ``matchers`` (e.g. ``'alertname="Foo"'``) for a while."""
        return self.silences.set(Silence.from_text(
            matchers, duration=duration, starts_at=self.clock(), created_by=created_by,
            comment=comment))

    def expire_silence(self, silence_id: str) -> None:
        self.silences.expire(silence_id)
