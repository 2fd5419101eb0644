"""One rule group's evaluation: rules in order, results appended, vanished series marked stale."""

from __future__ import annotations

import contextlib
import logging
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ..exceptions import DuplicateSampleError, OutOfOrderSampleError, WatchkeeperError
from ..tsdb import STALE_NAN, make_labels
from ._alert import ZERO_TIME, Alert
from ._alerting import ActiveAlert, AlertingRule
from ._model import RuleGroup
from ._query import QueryFunc, VSample
from ._recording import RecordingRule

__all__ = ["GroupEvaluator", "SendFunc", "to_alertmanager"]

_log = logging.getLogger("watchkeeper.rules")

#: What the manager hands alerts to: the Alertmanager alert records of one rule evaluation.
SendFunc = Callable[[Sequence[Alert]], None]

Labels = tuple[tuple[str, str], ...]


def _dt(t: float | None) -> datetime:
    return datetime.fromtimestamp(t, UTC) if t is not None else ZERO_TIME


def to_alertmanager(alerts: Sequence[ActiveAlert], expr: str, external_url: str,
                    external_labels: Mapping[str, str]) -> list[Alert]:
    """Prometheus' ``SendAlerts`` plus the notifier's external labels (rule labels win)."""
    link = external_url + "/graph?g0.expr=" + urllib.parse.quote(expr, safe="") + "&g0.tab=1"
    out = []
    for a in alerts:
        ends = a.resolved_at if a.resolved_at is not None else a.valid_until
        out.append(Alert({**external_labels, **a.labels}, dict(a.annotations),
                         starts_at=_dt(a.fired_at), ends_at=_dt(ends), generator_url=link))
    return out


class GroupEvaluator:
    """Runtime state of one :class:`RuleGroup` (alert states, series written last time)."""

    def __init__(self, group: RuleGroup, *, interval: float,
                 external_labels: Mapping[str, str] | None = None,
                 external_url: str = "") -> None:
        self.group = group
        self.interval = group.interval if group.interval else interval
        self.query_offset = group.query_offset or 0.0
        self.external_labels = dict(external_labels or {})
        self.external_url = external_url
        self.rules: list[AlertingRule | RecordingRule] = [
            AlertingRule(r, group_labels=group.labels, external_labels=self.external_labels,
                         external_url=external_url) if r.kind == "alert"
            else RecordingRule(r, group_labels=group.labels)
            for r in group.rules]
        self.previous: list[dict[Labels, None]] = [{} for _ in self.rules]
        self.last_eval = 0.0
        self.discarded = 0

    def evaluate(self, ts: float, query: QueryFunc, storage: Any, *,
                 send: SendFunc | None = None, resend_delay: float = 60.0) -> None:
        """Evaluate every rule at ``ts`` (seconds) in order, as Prometheus' ``Group.Eval``."""
        self.last_eval = ts
        for i, rule in enumerate(self.rules):
            try:
                vector = rule.eval(ts, query, query_offset=self.query_offset,
                                   limit=self.group.limit)
            except WatchkeeperError as exc:
                rule.last_error = exc
                _log.warning("evaluating rule %s of group %s failed: %s", rule.name,
                             self.group.name, exc)
                continue
            rule.last_error = None
            if isinstance(rule, AlertingRule) and send is not None:
                due = rule.due_for_sending(ts, resend_delay, self.interval)
                if due:
                    send(to_alertmanager(due, rule.rule.expr, self.external_url,
                                         self.external_labels))
            self._append(i, vector, ts, storage)

    def _append(self, i: int, vector: list[VSample], ts: float, storage: Any) -> None:
        app = storage.appender()
        returned: dict[Labels, None] = {}
        for s in vector:
            lbs = make_labels(s.labels)
            try:
                app.append(lbs, s.t, s.v)
            except (OutOfOrderSampleError, DuplicateSampleError) as exc:
                self.discarded += 1
                _log.debug("rule result discarded: %s", exc)
            else:
                returned[lbs] = None
        stale_t = round((ts - self.query_offset) * 1000)
        for lbs in self.previous[i]:
            if lbs not in returned:
                # Rejections are expected when another rule writes the same series.
                with contextlib.suppress(OutOfOrderSampleError, DuplicateSampleError):
                    app.append(lbs, stale_t, STALE_NAN)
        app.commit()
        self.previous[i] = returned

    def alerting_rules(self) -> list[AlertingRule]:
        return [r for r in self.rules if isinstance(r, AlertingRule)]

