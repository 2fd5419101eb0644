"""RuleManager: scheduling slots with Prometheus' group offset, send semantics, restore."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from watchkeeper.rules import Alert, Rule, RuleGroup, RuleManager
from watchkeeper.rules._manager import group_offset
from watchkeeper.tsdb import TSDB, make_labels


def _db_with(value: float, until: float, step: float = 10.0) -> TSDB:
    db = TSDB()
    app = db.appender()
    t = 0.0
    while t <= until:
        app.append(make_labels({"__name__": "x", "i": "1"}), round(t * 1000), value)
        t += step
    app.commit()
    return db


class _Sink:
    def __init__(self) -> None:
        self.batches: list[list[Alert]] = []

    def __call__(self, alerts: Sequence[Alert]) -> None:
        self.batches.append(list(alerts))


def _ts(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


GROUP = RuleGroup("g", "rules.yml", (Rule("alert", "X", "x > 0", labels={"sev": "page"},
                                          annotations={"v": "{{ $value }}"}),))


def test_group_offset_is_stable_and_within_interval() -> None:
    off = group_offset(GROUP, 60.0)
    assert 0 <= off < 60
    assert off == group_offset(GROUP, 60.0)
    other = RuleGroup("h", "rules.yml", ())
    assert group_offset(other, 60.0) != off


def test_evaluate_due_only_at_slots() -> None:
    db = _db_with(1.0, 600)
    mgr = RuleManager(db, [GROUP], default_interval=60.0)
    off = group_offset(GROUP, 60.0)
    mgr.evaluate_due(off + 1)          # first call: waits for the next slot
    assert mgr.alerts() == []
    mgr.evaluate_due(off + 59)
    assert mgr.alerts() == []
    mgr.evaluate_due(off + 60)          # the slot
    [alert] = mgr.alerts()
    assert alert.active_at == off + 60
    mgr.evaluate_due(off + 250)         # missed slots are skipped; evaluates at off+240
    [alert] = mgr.alerts()
    assert (str(alert.state), alert.value) == ("firing", 1.0)


def test_send_semantics_like_prometheus() -> None:
    db = _db_with(1.0, 300)
    sink = _Sink()
    held = RuleGroup("g", "rules.yml", (Rule("alert", "X", "x > 0", for_=30.0,
                                             labels={"sev": "page"},
                                             annotations={"v": "{{ $value }}"}),))
    mgr = RuleManager(db, [held], send=sink, external_labels={"env": "prod", "sev": "x"},
                      default_interval=30.0, resend_delay=60.0,
                      external_url="http://wk:9090")
    mgr.evaluate_all(0.0)
    assert sink.batches == []                       # pending is never sent
    mgr.evaluate_all(30.0)
    [[a]] = sink.batches
    assert dict(a.labels) == {"alertname": "X", "i": "1", "sev": "page", "env": "prod"}
    assert dict(a.annotations) == {"v": "1"}
    assert a.starts_at == _ts(30.0)
    assert a.ends_at == _ts(30.0 + 4 * 60.0)          # 4 * max(interval, resend_delay)
    assert a.generator_url == "http://wk:9090/graph?g0.expr=x%20%3E%200&g0.tab=1"
    mgr.evaluate_all(60.0)
    mgr.evaluate_all(90.0)
    assert len(sink.batches) == 1                   # resend only after resend_delay
    mgr.evaluate_all(120.0)
    assert len(sink.batches) == 2
    # expression stops returning: resolved, sent with ends_at = resolution time
    db2 = TSDB()
    mgr.storage = db2
    from watchkeeper.promql import Engine
    from watchkeeper.rules._query import engine_query_func

    mgr.query = engine_query_func(Engine(db2))
    mgr.evaluate_all(150.0)
    resolved = sink.batches[-1][0]
    assert resolved.ends_at == _ts(150.0)
    assert resolved.status(_ts(151.0)) == "resolved"
    mgr.evaluate_all(180.0)
    assert len(sink.batches) == 3                   # not again before resend_delay
    mgr.evaluate_all(240.0)
    assert len(sink.batches) == 4                   # re-sent while retained (15m)
    assert mgr.alerts() == []


def test_state_survives_restart(tmp_path: Path) -> None:
    db = _db_with(1.0, 600)
    sink = _Sink()
    slow = RuleGroup("g", "rules.yml", (Rule("alert", "X", "x > 0", for_=120.0),))
    mgr = RuleManager(db, [slow], send=sink, state_dir=tmp_path, default_interval=60.0)
    for t in (0.0, 60.0, 120.0):
        mgr.evaluate_all(t)
    assert len(sink.batches) == 1
    [before] = mgr.alerts()
    again = RuleManager(db, [slow], send=sink, state_dir=tmp_path, default_interval=60.0)
    [after] = again.alerts()
    assert (after.state, after.active_at, after.fired_at) == (before.state, 0.0, 120.0)
    again.evaluate_all(150.0)
    assert len(sink.batches) == 1                   # already sent: no duplicate after restart
    assert (tmp_path / "rules-state.json").is_file()


def test_thread_evaluates_and_stops() -> None:
    now = time.time()
    db = _db_with(1.0, 0)
    app = db.appender()
    app.append(make_labels({"__name__": "x", "i": "1"}), round(now * 1000), 1.0)
    app.commit()
    fired = threading.Event()
    fast = RuleGroup("g", "r.yml", (Rule("alert", "X", "x > 0"),), interval=0.2)
    mgr = RuleManager(db, [fast], send=lambda alerts: fired.set())
    mgr.start()
    try:
        assert fired.wait(5.0)
    finally:
        mgr.stop()
    assert mgr._thread is None


def test_for_state_restored_from_alerts_for_state_like_prometheus() -> None:
    db = _db_with(1.0, 2000)
    slow = RuleGroup("g", "rules.yml", (Rule("alert", "X", "x > 0", for_=900.0),))
    first = RuleManager(db, [slow], default_interval=60.0)
    for t in range(0, 301, 60):
        first.evaluate_all(float(t))
    # the process dies at 300 s (pending for 5 of 15 minutes) and is back at 900 s
    second = RuleManager(db, [slow], default_interval=60.0)
    second.evaluate_all(900.0)
    assert second.groups[0].alerting_rules()[0].restored is False
    second.evaluate_all(960.0)                      # restore runs after the second evaluation
    [alert] = second.alerts()
    assert alert.active_at == 0.0 + (960.0 - 300.0)  # the downtime does not count
    second.evaluate_all(1500.0)
    assert str(second.alerts()[0].state) == "pending"
    second.evaluate_all(1560.0)
    assert str(second.alerts()[0].state) == "firing"


def test_short_for_rules_are_not_restored() -> None:
    db = _db_with(1.0, 200)
    group = RuleGroup("g", "rules.yml", (Rule("alert", "X", "x > 0", for_=60.0),))
    mgr = RuleManager(db, [group], default_interval=60.0)
    assert mgr.groups[0].alerting_rules()[0].restored is True
