"""The rule manager: schedules groups at their interval and owns their alert state."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ._alerting import ActiveAlert
from ._group import GroupEvaluator, SendFunc
from ._model import RuleGroup
from ._query import QueryFunc, engine_query_func
from ._restore import FOR_GRACE_PERIOD, restore_for_state
from ._state import load_state, save_state

__all__ = ["RuleManager", "group_offset"]

_log = logging.getLogger("watchkeeper.rules")


def group_offset(group: RuleGroup, interval: float) -> float:
    """Seconds past each interval boundary at which Prometheus evaluates ``group``.

    Prometheus spreads groups over the interval by the hash of ``{name, file}`` so that
    they do not all query at once (``Group.EvalTimestamp``).
    """
    from ..promql._xxhash import labels_hash

    interval_ns = round(interval * 1e9)
    return (labels_hash({"name": group.name, "file": group.file}) % interval_ns) / 1e9


class RuleManager:
    """Evaluates rule groups over a storage, writes results back and hands alerts to ``send``.

    Args:
        storage: a :class:`watchkeeper.tsdb.TSDB` (appender and querier).
        groups: from :func:`load_rule_files`.
        send: called with the Alertmanager alerts of each rule evaluation: firing alerts
            (re-sent at most every ``resend_delay``), resolved ones with ``ends_at`` set
            (re-sent for 15 minutes); firing ``ends_at`` = now + 4 * max(interval,
            resend_delay). External labels are added where the alert lacks them.
        external_labels: ``$externalLabels`` in templates, added to sent alerts.
        default_interval: seconds, for groups without their own ``interval``.
        engine: a ``promql.Engine``; built over ``storage`` otherwise.
        state_dir: where alert state persists (``rules-state.json``) and is restored from.
        external_url: ``$externalURL`` and the generator URL prefix.
        resend_delay: seconds between re-sends of a still-firing alert (Prometheus: 1m).
        query: a query callable instead of ``engine`` (Prometheus' ``QueryFunc``).
        clock: seconds since the epoch, for ``start()``'s scheduling.
        restore_for_state: when no state file was loaded, restore ``for`` progress from
            ``ALERTS_FOR_STATE`` in ``storage`` after a group's second evaluation, as
            Prometheus does (only for rules with ``for`` >= the 10 m grace period).

    Example:
        >>> mgr = RuleManager(db, load_rule_files(["rules/*.yml"]), send=print)
        >>> mgr.evaluate_due(time.time())
    """

    def __init__(self, storage: Any, groups: Sequence[RuleGroup], *,
                 send: SendFunc | None = None, external_labels: Mapping[str, str] | None = None,
                 default_interval: float = 60.0, engine: Any = None,
                 state_dir: str | Path | None = None, external_url: str = "",
                 resend_delay: float = 60.0, query: QueryFunc | None = None,
                 clock: Callable[[], float] = time.time, restore_for_state: bool = True) -> None:
        if engine is None and query is None:
            from ..promql import Engine

            engine = Engine(storage, subquery_step=default_interval)
        self.storage = storage
        self.query: QueryFunc = query if query is not None else engine_query_func(engine)
        self.send = send
        self.resend_delay = resend_delay
        self.clock = clock
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.groups = [GroupEvaluator(g, interval=default_interval,
                                      external_labels=external_labels,
                                      external_url=external_url) for g in groups]
        self._next: dict[int, float] = {}
        # Groups still to restore ``for`` state from ALERTS_FOR_STATE: index -> evaluations
        # left before restoring (Prometheus restores after the second one).
        self._restore: dict[int, int] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        restored = load_state(self.state_dir, self.groups) if self.state_dir is not None else 0
        if restored:
            _log.info("restored %d alerts from %s", restored, self.state_dir)
        elif restore_for_state:
            for i, g in enumerate(self.groups):
                rules = g.alerting_rules()
                if any(r.hold >= FOR_GRACE_PERIOD for r in rules):
                    for r in rules:
                        r.restored = r.hold < FOR_GRACE_PERIOD
                    self._restore[i] = 2

    # --- scheduling --------------------------------------------------------------------
    def _slot(self, g: GroupEvaluator, now: float) -> float:
        """The latest evaluation time of ``g`` at or before ``now`` (aligned + offset)."""
        off = group_offset(g.group, g.interval)
        adj = now - off
        return adj - (adj % g.interval) + off

    def next_evaluation(self, index: int, now: float) -> float:
        nxt = self._next.get(index)
        if nxt is None:
            g = self.groups[index]
            nxt = self._slot(g, now) + g.interval  # Prometheus waits for the next slot
            self._next[index] = nxt
        return nxt

    def evaluate_due(self, now: float) -> None:
        """Evaluate every group whose slot is due at ``now``; missed slots are skipped.

        Like Prometheus, a group's first evaluation is at its first slot *after* the first
        call (slots are ``k * interval + offset``, the offset from the group's name and file).
        """
        with self._lock:
            for i, g in enumerate(self.groups):
                if self.next_evaluation(i, now) > now:
                    continue
                ts = self._slot(g, now)
                self._evaluate(g, ts)
                self._after_eval(i, now)
                self._next[i] = ts + g.interval
            if self.state_dir is not None:
                save_state(self.state_dir, self.groups)

    def evaluate_all(self, ts: float) -> None:
        """Evaluate every group once at ``ts`` regardless of schedule (tests, one-shots)."""
        with self._lock:
            for i, g in enumerate(self.groups):
                self._evaluate(g, ts)
                self._after_eval(i, ts)
            if self.state_dir is not None:
                save_state(self.state_dir, self.groups)

    def _after_eval(self, i: int, now: float) -> None:
        left = self._restore.get(i)
        if left is None:
            return
        if left > 1:
            self._restore[i] = left - 1
            return
        del self._restore[i]
        try:
            restore_for_state(self.groups[i].alerting_rules(), self.storage, now)
        except Exception:
            _log.exception("restoring alert state of group %s failed", self.groups[i].group.name)
            for r in self.groups[i].alerting_rules():
                r.restored = True

    def _evaluate(self, g: GroupEvaluator, ts: float) -> None:
        try:
            g.evaluate(ts, self.query, self.storage, send=self._send,
                       resend_delay=self.resend_delay)
        except Exception:  # the SDK never breaks the host app
            _log.exception("rule group %s failed", g.group.name)

    def _send(self, alerts: Sequence[Any]) -> None:
        if self.send is None:
            return
        try:
            self.send(alerts)
        except Exception:
            _log.exception("sending %d alerts failed", len(alerts))

    # --- background thread -------------------------------------------------------------
    def start(self) -> None:
        """Run :meth:`evaluate_due` in a daemon thread at each group's slots."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="watchkeeper-rules",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            now = self.clock()
            self.evaluate_due(now)
            with self._lock:
                wake = min((self.next_evaluation(i, now) for i in range(len(self.groups))),
                           default=now + 1.0)
            self._stop.wait(max(0.0, min(wake - self.clock(), 1.0)))

    def stop(self) -> None:
        """Stop the thread and wait for it (state is saved after every evaluation)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join()

    # --- reading -----------------------------------------------------------------------
    def alerts(self) -> list[ActiveAlert]:
        """Pending and firing alerts of every rule (copies), for an API."""
        with self._lock:
            return [ActiveAlert(**{**a.__dict__, "labels": dict(a.labels),
                                   "annotations": dict(a.annotations)})
                    for g in self.groups for r in g.alerting_rules()
                    for a in r.active_alerts()]
