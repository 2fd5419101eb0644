"""Prometheus' ``for`` state restore from ``ALERTS_FOR_STATE`` (``Group.RestoreForState``).

Used when no state file was loaded (no ``state_dir``, or a first start with one) but the
storage kept its history: an alert pending before the restart continues its ``for`` where
it stopped (shifted by the downtime), with a grace period so nothing fires the instant the
process is back.
"""

from __future__ import annotations

from typing import Any

from ..tsdb import Matcher, MatchType, is_stale_nan
from ._alerting import AlertingRule

__all__ = ["FOR_GRACE_PERIOD", "OUTAGE_TOLERANCE", "restore_for_state"]

OUTAGE_TOLERANCE = 3600.0   # Prometheus' --rules.alert.for-outage-tolerance
FOR_GRACE_PERIOD = 600.0    # Prometheus' --rules.alert.for-grace-period


def restore_for_state(rules: list[AlertingRule], storage: Any, ts: float, *,
                      outage_tolerance: float = OUTAGE_TOLERANCE,
                      grace: float = FOR_GRACE_PERIOD) -> None:
    """Shift ``active_at`` of each active alert from its last ALERTS_FOR_STATE sample."""
    querier = storage.querier() if hasattr(storage, "querier") else storage
    mint, maxt = round((ts - outage_tolerance) * 1000), round(ts * 1000)
    for rule in rules:
        hold = rule.hold
        if hold < grace:
            rule.restored = True
            continue
        matchers = [Matcher(MatchType.EQUAL, "__name__", "ALERTS_FOR_STATE"),
                    Matcher(MatchType.EQUAL, "alertname", rule.name)]
        matchers += [Matcher(MatchType.EQUAL, k, v) for k, v in rule.labels.items()
                     if "{{" not in v]
        series = {}
        for s in querier.select(matchers, mint, maxt):
            labels = {k: v for k, v in s.labels if k != "__name__"}
            series[tuple(sorted(labels.items()))] = s
        for alert in rule.active.values():
            found = series.get(tuple(sorted(alert.labels.items())))
            if found is None or not len(found.timestamps):
                continue
            t, v = int(found.timestamps[-1]), float(found.values[-1])
            if is_stale_nan(v):
                continue
            down_at = float(t // 1000)
            active_at = float(int(v))
            remaining = hold - (down_at - active_at)
            if remaining <= 0:
                pass  # it was firing; the next evaluation decides
            elif remaining < grace:
                active_at = ts + grace - hold
            else:
                active_at += ts - down_at
            alert.active_at = active_at
        rule.restored = True
