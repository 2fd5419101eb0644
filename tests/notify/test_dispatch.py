"""Aggregation groups and flush timing on an injected clock (no sleeping)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.notify import Alert, Dispatcher, build_route, parse_config

CFG = """
route:
  receiver: r
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  routes:
    - matchers: [all="yes"]
      group_by: ['...']
      receiver: r
receivers: [{name: r}]
"""
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _d() -> Dispatcher:
    return Dispatcher(build_route(parse_config(CFG).route))


def _a(name: str, at: datetime, **labels: str) -> Alert:
    return Alert({"alertname": name, **labels}, starts_at=at, updated_at=at,
                 ends_at=at + timedelta(minutes=5))


def test_group_wait_then_group_interval() -> None:
    d = _d()
    d.put(_a("A", T0, i="1"), T0)
    assert d.next_deadline() == T0 + timedelta(seconds=30)
    assert d.due(T0 + timedelta(seconds=29)) == []
    d.put(_a("A", T0 + timedelta(seconds=10), i="2"), T0 + timedelta(seconds=10))
    jobs = d.due(T0 + timedelta(seconds=30))
    assert len(jobs) == 1
    job = jobs[0]
    assert [a.labels["i"] for a in job.alerts] == ["1", "2"]
    assert all(a.ends_at is None for a in job.alerts)  # not resolved yet: end zeroed
    assert job.group_key == '{}:{alertname="A"}'
    d.done(job, True)
    assert d.next_deadline() == T0 + timedelta(seconds=330)


def test_old_alert_flushes_immediately_but_only_before_first_flush() -> None:
    d = _d()
    d.put(_a("A", T0 - timedelta(minutes=10)), T0)
    assert d.next_deadline() == T0
    d.done(d.due(T0)[0], True)
    d.put(_a("A", T0 - timedelta(minutes=10), i="x"), T0 + timedelta(seconds=1))
    assert d.next_deadline() == T0 + timedelta(minutes=5)


def test_group_by_all_and_separate_groups() -> None:
    d = _d()
    d.put(_a("A", T0, all="yes", i="1"), T0)
    d.put(_a("A", T0, all="yes", i="2"), T0)
    d.put(_a("B", T0, i="1"), T0)
    keys = sorted(g.key for g in d.groups.values())
    assert keys == ['{}/{all="yes"}:{alertname="A", all="yes", i="1"}',
                    '{}/{all="yes"}:{alertname="A", all="yes", i="2"}',
                    '{}:{alertname="B"}']


def test_resolved_alerts_removed_after_successful_flush_only() -> None:
    d = _d()
    a = _a("A", T0)
    d.put(a, T0)
    d.done(d.due(T0 + timedelta(seconds=30))[0], True)
    resolved = a.with_(ends_at=T0 + timedelta(seconds=40), updated_at=T0 + timedelta(seconds=40))
    d.put(resolved, T0 + timedelta(seconds=40))
    job = d.due(T0 + timedelta(seconds=330))[0]
    assert job.alerts[0].ends_at == T0 + timedelta(seconds=40)
    d.done(job, False)
    assert d.groups  # failure keeps it for the next attempt
    job = d.due(T0 + timedelta(seconds=630))[0]
    d.done(job, True)
    assert all(not g.alerts for g in d.groups.values())
    assert d.gc(T0 + timedelta(seconds=700)) == 1


def test_busy_group_is_not_flushed_twice() -> None:
    d = _d()
    d.put(_a("A", T0), T0)
    job = d.due(T0 + timedelta(seconds=30))[0]
    assert d.due(T0 + timedelta(hours=1)) == []
    d.done(job, True)
    assert len(d.due(T0 + timedelta(hours=1))) == 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 600), st.sampled_from("ABC"), st.integers(0, 3)),
                min_size=1, max_size=25))
def test_flush_times_follow_alertmanager_rules(events: list[tuple[int, str, int]]) -> None:
    """Model check: first flush = creation + group_wait (or at once for old alerts),
    then every group_interval after the previous flush; every alert shows up."""
    d = _d()
    events.sort()
    created: dict[str, int] = {}
    flushes: dict[str, list[int]] = {}
    seen: dict[str, set[str]] = {}
    pending = list(events)
    t = 0
    while t <= 1500:
        while pending and pending[0][0] <= t:
            at, name, inst = pending.pop(0)
            now = T0 + timedelta(seconds=at)
            d.put(_a(name, now, i=str(inst)), now)
            created.setdefault(name, at)
        for job in d.due(T0 + timedelta(seconds=t)):
            name = job.group.labels["alertname"]
            flushes.setdefault(name, []).append(t)
            seen.setdefault(name, set()).update(a.labels["i"] for a in job.alerts)
            d.done(job, True)
        t += 1
    for name, start in created.items():
        times = flushes[name]
        assert times[0] == start + 30
        assert all(b - a == 300 for a, b in itertools.pairwise(times))
        expected = {str(i) for at, n, i in events if n == name}
        assert seen[name] == expected
