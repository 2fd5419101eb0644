"""Inhibition: a firing source alert mutes target alerts with equal labels."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from datetime import datetime

from ..rules._alert import Alert
from ._config import InhibitRuleConfig
from ._matchers import Matchers

__all__ = ["InhibitRule", "Inhibitor"]


class InhibitRule:
    """One ``inhibit_rules`` entry with its cache of source alerts."""

    def __init__(self, cfg: InhibitRuleConfig) -> None:
        self.source: Matchers = cfg.source_matchers
        self.target: Matchers = cfg.target_matchers
        self.equal = cfg.equal
        # Source alerts bucketed by their values of the ``equal`` labels, so a target
        # only looks at the sources it could be inhibited by.
        self.sources: dict[tuple[str, ...], dict[int, Alert]] = {}
        self.keys: dict[int, tuple[str, ...]] = {}

    def key(self, labels: Mapping[str, str]) -> tuple[str, ...]:
        return tuple(labels.get(n, "") for n in self.equal)

    def add(self, alert: Alert) -> None:
        key = self.key(alert.labels)
        self.sources.setdefault(key, {})[alert.fingerprint] = alert
        self.keys[alert.fingerprint] = key

    def remove(self, fp: int) -> None:
        key = self.keys.pop(fp, None)
        if key is not None:
            bucket = self.sources[key]
            bucket.pop(fp, None)
            if not bucket:
                del self.sources[key]

    def inhibited_by(self, labels: Mapping[str, str], now: datetime,
                     exclude_two_sided: bool) -> Alert | None:
        for alert in self.sources.get(self.key(labels), {}).values():
            if alert.resolved_at(now):
                continue
            if exclude_two_sided and self.target.matches(alert.labels):
                continue
            return alert
        return None


class Inhibitor:
    """Alertmanager's inhibitor; fed every alert the store receives; a :class:`Muter`."""

    def __init__(self, rules: Iterable[InhibitRuleConfig]) -> None:
        self.rules = [InhibitRule(r) for r in rules]
        self._lock = threading.Lock()

    def observe(self, alert: Alert) -> None:
        with self._lock:
            for rule in self.rules:
                if rule.source.matches(alert.labels):
                    rule.add(alert)

    def forget(self, fingerprint: int) -> None:
        with self._lock:
            for rule in self.rules:
                rule.remove(fingerprint)

    def inhibited_by(self, labels: Mapping[str, str], now: datetime) -> list[str]:
        """Fingerprints (hex) of the alerts inhibiting these labels, as the v2 API shows."""
        with self._lock:
            for rule in self.rules:
                if not rule.target.matches(labels):
                    continue
                source = rule.inhibited_by(labels, now, rule.source.matches(labels))
                if source is not None:
                    return [source.fingerprint_hex]
        return []

    def mutes(self, labels: Mapping[str, str], now: datetime) -> bool:
        return bool(self.inhibited_by(labels, now))
