"""Alerting rules: inactive -> pending -> firing -> resolved, exactly as Prometheus' rules.

``for`` holds an alert pending; ``keep_firing_for`` keeps a firing alert firing after its
expression stops returning it; resolved alerts stay 15 minutes so they are re-sent.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..exceptions import RuleEvaluationError
from ._alert import fingerprint
from ._model import Rule
from ._query import QueryFunc, VSample
from ._templates import Expander, QuerySample

__all__ = ["RESOLVED_RETENTION", "ActiveAlert", "AlertState", "AlertingRule"]

#: How long a resolved alert is kept (and re-sent), Prometheus' ``resolvedRetention``.
RESOLVED_RETENTION = 15 * 60.0


class AlertState(enum.IntEnum):
    """Ordered like Prometheus' ``AlertState`` (firing > pending > inactive)."""

    INACTIVE = 0
    PENDING = 1
    FIRING = 2

    def __str__(self) -> str:
        return self.name.lower()


@dataclass
class ActiveAlert:
    """One alert instance of a rule. Times are seconds since the epoch; ``None`` = unset."""

    labels: dict[str, str]
    annotations: dict[str, str]
    state: AlertState
    active_at: float
    value: float
    fired_at: float | None = None
    resolved_at: float | None = None
    last_sent_at: float | None = None
    valid_until: float | None = None
    keep_firing_since: float | None = None
    rule: str = field(default="", compare=False)

    def needs_sending(self, ts: float, resend_delay: float) -> bool:
        if self.state == AlertState.PENDING:
            return False
        if self.last_sent_at is None:
            return True
        if self.resolved_at is not None and self.resolved_at > self.last_sent_at:
            return True
        return self.last_sent_at + resend_delay < ts


class AlertingRule:
    """Evaluates one ``alert:`` rule and keeps its active alerts keyed by label fingerprint."""

    def __init__(self, rule: Rule, *, group_labels: Mapping[str, str] | None = None,
                 external_labels: Mapping[str, str] | None = None,
                 external_url: str = "") -> None:
        from ..promql import parse

        self.rule = rule
        self.name = rule.name
        self.tree = parse(rule.expr)
        self.labels = {**(group_labels or {}), **rule.labels}
        self.annotations = dict(rule.annotations)
        self.hold = rule.for_
        self.keep_firing_for = rule.keep_firing_for
        self.external_labels = dict(external_labels or {})
        self.external_url = external_url
        self.expander = Expander(rule.name, external_labels=self.external_labels,
                                 external_url=external_url)
        self.active: dict[int, ActiveAlert] = {}
        self.restored = True
        self.last_error: Exception | None = None

    def _bind(self, ts: float, query: QueryFunc) -> None:
        def tquery(expr: str, t: float) -> list[QuerySample]:
            return [QuerySample(s.labels, s.v) for s in query(expr, t)]

        self.expander.bind(tquery, ts)

    def eval(self, ts: float, query: QueryFunc, *, query_offset: float = 0.0,
             limit: int = 0) -> list[VSample]:
        """One evaluation at ``ts``; returns the ALERTS / ALERTS_FOR_STATE samples."""
        res = query(self.tree, ts - query_offset)
        self._bind(ts, query)
        expand = self.expander.expand
        result_fps: set[int] = set()
        fresh: dict[int, ActiveAlert] = {}
        for smpl in res:
            metric = {k: v for k, v in smpl.labels.items()}
            lbs = {k: v for k, v in metric.items() if k != "__name__"}
            for name, text in self.labels.items():
                lbs[name] = expand(text, metric, smpl.v)
            lbs = {k: v for k, v in lbs.items() if v != ""}
            lbs["alertname"] = self.name
            annotations = {k: expand(t, metric, smpl.v) for k, t in self.annotations.items()}
            h = fingerprint(lbs)
            result_fps.add(h)
            if h in fresh:
                raise RuleEvaluationError("vector contains metrics with the same labelset "
                                          "after applying alert labels")
            fresh[h] = ActiveAlert(lbs, annotations, AlertState.PENDING, ts, smpl.v,
                                   rule=self.name)
        for h, a in fresh.items():
            cur = self.active.get(h)
            if cur is not None and cur.state != AlertState.INACTIVE:
                cur.value, cur.annotations = a.value, a.annotations
                continue
            self.active[h] = a
        out: list[VSample] = []
        active_pending = 0
        t_ms = round((ts - query_offset) * 1000)
        for h, a in list(self.active.items()):
            if h not in result_fps:
                keep = False
                if a.state == AlertState.FIRING and self.keep_firing_for > 0:
                    if a.keep_firing_since is None:
                        a.keep_firing_since = ts
                    if ts - a.keep_firing_since < self.keep_firing_for:
                        keep = True
                if a.state == AlertState.PENDING or (
                        a.resolved_at is not None and ts - a.resolved_at > RESOLVED_RETENTION):
                    del self.active[h]
                if a.state != AlertState.INACTIVE and not keep:
                    a.state = AlertState.INACTIVE
                    a.resolved_at = ts
                if not keep:
                    continue
            else:
                a.keep_firing_since = None
            active_pending += 1
            if a.state == AlertState.PENDING and ts - a.active_at >= self.hold:
                a.state = AlertState.FIRING
                a.fired_at = ts
            if a.state == AlertState.FIRING and ts - a.active_at < self.hold:
                a.state = AlertState.PENDING
                a.fired_at = a.last_sent_at = a.keep_firing_since = None
            if self.restored:
                out.append(VSample({**self.labels, **a.labels, "__name__": "ALERTS",
                                    "alertname": self.name, "alertstate": str(a.state)},
                                   t_ms, 1.0))
                out.append(VSample({**self.labels, **a.labels, "__name__": "ALERTS_FOR_STATE",
                                    "alertname": self.name}, t_ms, float(int(a.active_at))))
        if limit > 0 and active_pending > limit:
            self.active = {}
            raise RuleEvaluationError(f"exceeded limit of {limit} with {active_pending} alerts")
        return out

    def state(self) -> AlertState:
        return max((a.state for a in self.active.values()), default=AlertState.INACTIVE)

    def active_alerts(self) -> list[ActiveAlert]:
        """Alerts not resolved (pending or firing), as Prometheus' ``ActiveAlerts``."""
        return [a for a in self.active.values() if a.resolved_at is None]

    def due_for_sending(self, ts: float, resend_delay: float, interval: float) -> list[ActiveAlert]:
        """Prometheus' ``sendAlerts``: mark and return the alerts to hand to the notifier."""
        out = []
        for a in self.active.values():
            if a.needs_sending(ts, resend_delay):
                a.last_sent_at = ts
                a.valid_until = ts + 4 * max(interval, resend_delay)
                out.append(ActiveAlert(**{**a.__dict__, "labels": dict(a.labels)}))
        return out
