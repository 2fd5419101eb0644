"""Escalation policies (seed 001): levels with a delay and receivers, stopped by an
acknowledgement; optional weekly on-call rotation and P1-P4 severity mapping (seed 004).

:class:`Escalations` is a clock-driven state machine: :meth:`Escalations.observe` starts
(or resolves) an escalation for an alert, :meth:`Escalations.due` says which levels to
notify now, :meth:`Escalations.acknowledge` stops one.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import orjson

from ..rules._alert import Alert
from ._matchers import Matchers, parse_matchers
from ._store import alert_from_json, alert_to_json

_log = logging.getLogger("watchkeeper.notify")

__all__ = ["EscalationLevel", "EscalationPolicy", "EscalationStep", "Escalations",
           "OnCallRotation", "severity_priority"]

_PRIORITY = {"critical": "P1", "page": "P1", "fatal": "P1", "high": "P2", "error": "P2",
             "major": "P2", "warning": "P3", "warn": "P3", "medium": "P3", "minor": "P3",
             "info": "P4", "low": "P4", "none": "P4"}


def severity_priority(labels: Mapping[str, str], default: str = "P3") -> str:
    """Map an alert's ``priority`` or ``severity`` label to P1 (highest) ... P4."""
    explicit = labels.get("priority", "").upper()
    if explicit in ("P1", "P2", "P3", "P4"):
        return explicit
    return _PRIORITY.get(labels.get("severity", "").lower(), default)


@dataclass(frozen=True, slots=True)
class OnCallRotation:
    """Members take turns every ``period`` starting at ``start``; secondary is the next."""

    name: str
    members: tuple[str, ...]
    start: datetime
    period: timedelta = timedelta(weeks=1)

    def _index(self, at: datetime) -> int:
        return int((at - self.start) / self.period) % len(self.members)

    def primary(self, at: datetime) -> str:
        return self.members[self._index(at)]

    def secondary(self, at: datetime) -> str:
        return self.members[(self._index(at) + 1) % len(self.members)]


@dataclass(frozen=True, slots=True)
class EscalationLevel:
    """After ``delay`` seconds unacknowledged, notify ``receivers`` (names in the config;
    ``rotation:<name>:primary|secondary`` resolves through an on-call rotation)."""

    delay: float
    receivers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    name: str
    levels: tuple[EscalationLevel, ...]
    matchers: Matchers = field(default_factory=Matchers)
    priorities: frozenset[str] = frozenset()

    @classmethod
    def create(cls, name: str, levels: Sequence[tuple[float, Sequence[str]]],
               matchers: str = "", priorities: Sequence[str] = ()) -> EscalationPolicy:
        return cls(name, tuple(EscalationLevel(float(d), tuple(r)) for d, r in levels),
                   parse_matchers(matchers) if matchers else Matchers(),
                   frozenset(priorities))

    def applies(self, labels: Mapping[str, str]) -> bool:
        if self.priorities and severity_priority(labels) not in self.priorities:
            return False
        return self.matchers.matches(labels)


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """One level to notify now."""

    policy: str
    fingerprint: int
    level: int
    receivers: tuple[str, ...]
    alert: Alert


@dataclass(slots=True)
class _State:
    policy: EscalationPolicy
    alert: Alert
    started: datetime
    next_level: int = 0
    acked_by: str | None = None


class Escalations:
    """Running escalations; with ``path`` they persist (written on every change), so a
    restart neither re-pages levels already sent nor forgets an acknowledgement."""

    def __init__(self, policies: Sequence[EscalationPolicy],
                 rotations: Sequence[OnCallRotation] = (), *,
                 path: str | Path | None = None) -> None:
        self.policies = list(policies)
        self.rotations = {r.name: r for r in rotations}
        self._lock = threading.Lock()
        self._states: dict[tuple[str, int], _State] = {}
        self.path = Path(path) if path is not None else None
        if self.path is not None:
            self._load(self.path)

    def _load(self, path: Path) -> None:
        try:
            raw = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            return
        except (OSError, orjson.JSONDecodeError) as exc:
            _log.error("escalation state %s unreadable, starting empty: %s", path, exc)
            return
        by_name = {p.name: p for p in self.policies}
        for item in raw:
            policy = by_name.get(item.get("policy"))
            if policy is None:
                continue  # a policy removed from the config: its escalations end
            try:
                state = _State(policy, alert_from_json(item["alert"]),
                               datetime.fromisoformat(item["started"]),
                               int(item["next_level"]), item.get("acked_by"))
            except (KeyError, TypeError, ValueError):
                continue
            self._states[(policy.name, state.alert.fingerprint)] = state

    def _save(self) -> None:
        """Write the states atomically (caller holds the lock)."""
        if self.path is None:
            return
        data = [{"policy": name, "alert": alert_to_json(s.alert),
                 "started": s.started.isoformat(), "next_level": s.next_level,
                 "acked_by": s.acked_by} for (name, _fp), s in self._states.items()]
        tmp = self.path.with_suffix(".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(orjson.dumps(data))
            os.replace(tmp, self.path)
        except OSError as exc:
            _log.error("cannot persist escalation state to %s: %s", self.path, exc)

    def observe(self, alert: Alert, now: datetime) -> None:
        """Start escalating a firing alert; forget it once resolved."""
        with self._lock:
            changed = False
            for policy in self.policies:
                key = (policy.name, alert.fingerprint)
                if alert.resolved_at(now):
                    changed = self._states.pop(key, None) is not None or changed
                elif policy.applies(alert.labels):
                    state = self._states.get(key)
                    if state is None:
                        self._states[key] = _State(policy, alert, now)
                        changed = True
                    else:
                        state.alert = alert
            if changed:
                self._save()

    def acknowledge(self, fingerprint: int, by: str = "") -> bool:
        """Stop every escalation of the alert; True if one was running."""
        found = False
        with self._lock:
            for (_, fp), state in self._states.items():
                if fp == fingerprint and state.acked_by is None:
                    state.acked_by = by or "unknown"
                    found = True
            if found:
                self._save()
        return found

    def _resolve(self, receivers: Sequence[str], now: datetime) -> tuple[str, ...]:
        out = []
        for r in receivers:
            if r.startswith("rotation:"):
                _, name, which = [*r.split(":"), "primary"][:3]
                rot = self.rotations[name]
                out.append(rot.secondary(now) if which == "secondary" else rot.primary(now))
            else:
                out.append(r)
        return tuple(out)

    def due(self, now: datetime) -> list[EscalationStep]:
        steps = []
        with self._lock:
            resolved = [k for k, st in self._states.items() if st.alert.resolved_at(now)]
            for key in resolved:
                del self._states[key]  # resolved on its own: nothing left to escalate
            for (name, fp), state in self._states.items():
                if state.acked_by is not None:
                    continue
                levels = state.policy.levels
                while state.next_level < len(levels) and \
                        state.started + timedelta(seconds=levels[state.next_level].delay) <= now:
                    level = levels[state.next_level]
                    steps.append(EscalationStep(name, fp, state.next_level,
                                                self._resolve(level.receivers, now), state.alert))
                    state.next_level += 1
            if steps or resolved:
                self._save()
        return steps

    def next_deadline(self) -> datetime | None:
        times = []
        with self._lock:
            for state in self._states.values():
                levels = state.policy.levels
                if state.acked_by is None and state.next_level < len(levels):
                    times.append(state.started + timedelta(
                        seconds=levels[state.next_level].delay))
        return min(times) if times else None

    def status(self) -> list[dict[str, object]]:
        with self._lock:
            return [{"policy": name, "fingerprint": f"{fp:016x}", "level": s.next_level,
                     "acknowledged_by": s.acked_by} for (name, fp), s in self._states.items()]
