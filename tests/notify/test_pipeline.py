"""The notification pipeline on a fake clock: dedup, repeat, resolve, silences,
inhibition, time intervals, retries."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from watchkeeper.notify import Alert, AlertManager, parse_config

from .helpers import T0, FakeClock, Recorder, no_sleep, step

CFG = """
global:
  resolve_timeout: 5m
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 30s
  group_interval: 1m
  repeat_interval: 10m
  routes:
    - matchers: [team="quiet"]
      receiver: quiet
      mute_time_intervals: [weekend]
    - matchers: [team="office"]
      receiver: hook
      active_time_intervals: [office-hours]
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [cluster]
time_intervals:
  - name: weekend
    time_intervals: [{weekdays: ['saturday', 'sunday']}]
  - name: office-hours
    time_intervals: [{times: [{start_time: '09:00', end_time: '17:00'}],
                      weekdays: ['monday:friday'], location: 'UTC'}]
receivers:
  - name: hook
    webhook_configs: [{url: http://h/hook}, {url: http://h/hook-nr, send_resolved: false}]
  - name: quiet
    webhook_configs: [{url: http://h/quiet}]
"""


def _am(rec: Recorder, clock: FakeClock, cfg: str = CFG, **kw: object) -> AlertManager:
    return AlertManager(parse_config(cfg), clock=clock, transport=httpx.MockTransport(rec),
                        sleep=no_sleep, **kw)  # type: ignore[arg-type]


def _a(name: str, **labels: str) -> Alert:
    return Alert({"alertname": name, **labels})


async def test_dedup_repeat_and_resolve() -> None:
    rec, clock = Recorder(), FakeClock()
    am = _am(rec, clock)
    am.put_alerts([_a("A", i="1")])
    await step(am, clock, 30)
    assert len(rec.to("/hook")) == 1
    assert len(rec.to("/hook-nr")) == 1
    body = rec.to("/hook")[0]
    assert body["status"] == "firing"
    assert body["groupKey"] == '{}:{alertname="A"}'
    assert body["alerts"][0]["endsAt"] == "0001-01-01T00:00:00Z"
    # Nothing new: group_interval flushes send nothing until repeat_interval.
    for _ in range(9):
        am.put_alerts([_a("A", i="1")])  # a client re-sending keeps it alive
        await step(am, clock, 60)
    assert len(rec.to("/hook")) == 1
    am.put_alerts([_a("A", i="1")])
    await step(am, clock, 60)
    assert len(rec.to("/hook")) == 1  # exactly repeat_interval since the last: not yet
    am.put_alerts([_a("A", i="1")])
    await step(am, clock, 60)
    assert len(rec.to("/hook")) == 2
    # A new alert in the group is sent at the next group_interval.
    am.put_alerts([_a("A", i="2")])
    await step(am, clock, 30)
    assert len(rec.to("/hook")) == 2
    await step(am, clock, 30)
    assert [len(b["alerts"]) for b in rec.to("/hook")] == [1, 1, 2]
    # Resolve both: hook gets "resolved"; hook-nr (send_resolved false) gets nothing.
    am.put_alerts([_a("A", i="1").with_(ends_at=clock.now), _a("A", i="2").with_(
        ends_at=clock.now)])
    await step(am, clock, 60)
    assert rec.to("/hook")[-1]["status"] == "resolved"
    assert len(rec.to("/hook-nr")) == 3
    assert am.groups() == []
    stats = am.statistics()
    assert stats["alerts_active"] == 0
    assert stats["notifications_sent"] >= 4


async def test_resolve_timeout_resolves_alert_without_end() -> None:
    rec, clock = Recorder(), FakeClock()
    am = _am(rec, clock)
    am.put_alerts([_a("A")])
    await step(am, clock, 30)
    for _ in range(5):
        await step(am, clock, 60)
    assert rec.to("/hook")[-1]["status"] == "resolved"


async def test_silence_mutes_and_expiry_unmutes() -> None:
    rec, clock = Recorder(), FakeClock()
    am = _am(rec, clock)
    sid = am.add_silence('alertname="A"', duration=600)
    am.put_alerts([_a("A"), _a("B")])
    await step(am, clock, 30)
    assert [b["groupLabels"] for b in rec.to("/hook")] == [{"alertname": "B"}]
    assert am.alert_status(am.active_alerts()[0])["silencedBy"] == [sid]
    am.expire_silence(sid)
    am.put_alerts([_a("A"), _a("B")])
    await step(am, clock, 60)
    assert {b["groupLabels"]["alertname"] for b in rec.to("/hook")} == {"A", "B"}


async def test_inhibition_with_equal_labels() -> None:
    rec, clock = Recorder(), FakeClock()
    am = _am(rec, clock)
    am.put_alerts([_a("Crit", severity="critical", cluster="c1"),
                   _a("Warn", severity="warning", cluster="c1"),
                   _a("Warn2", severity="warning", cluster="c2")])
    await step(am, clock, 30)
    assert {b["groupLabels"]["alertname"] for b in rec.to("/hook")} == {"Crit", "Warn2"}


async def test_alert_matching_source_and_target_does_not_inhibit_itself() -> None:
    cfg = CFG.replace('target_matchers: [severity="warning"]',
                      'target_matchers: [severity=~"warning|critical"]')
    rec, clock = Recorder(), FakeClock()
    am = _am(rec, clock, cfg)
    am.put_alerts([_a("Crit", severity="critical", cluster="c1")])
    await step(am, clock, 30)
    assert len(rec.to("/hook")) == 1


async def test_mute_and_active_time_intervals() -> None:
    rec = Recorder()
    saturday = FakeClock(T0 + timedelta(days=5))  # 2026-03-07 is a Saturday
    am = _am(rec, saturday)
    am.put_alerts([_a("Q", team="quiet"), _a("O", team="office")])
    await step(am, saturday, 30)
    assert rec.calls == []
    rec2 = Recorder()
    monday = FakeClock(T0)  # Monday 12:00 UTC
    am2 = _am(rec2, monday)
    am2.put_alerts([_a("Q", team="quiet"), _a("O", team="office")])
    await step(am2, monday, 30)
    assert {b["groupLabels"]["alertname"] for b in rec2.to("/quiet") + rec2.to("/hook")} \
        == {"Q", "O"}


async def test_retry_on_500_then_success_and_counted() -> None:
    rec, clock = Recorder(), FakeClock()
    rec.script["/hook"] = [500, 503]
    am = _am(rec, clock)
    am.put_alerts([_a("A")])
    await step(am, clock, 30)
    assert len(rec.to("/hook")) == 3
    assert len(rec.to("/hook-nr")) == 1
    sent = am.registry.get_sample_value(
        "notifications_total", {"receiver": "hook", "integration": "webhook",
                                "status": "success"})
    failed = am.registry.get_sample_value(
        "notifications_total", {"receiver": "hook", "integration": "webhook",
                                "status": "failure"})
    assert (sent, failed) == (2.0, 2.0)


async def test_4xx_is_not_retried_and_other_integrations_unaffected() -> None:
    rec, clock = Recorder(), FakeClock()
    rec.script["/hook"] = [400, 400]
    am = _am(rec, clock)
    am.put_alerts([_a("A")])
    await step(am, clock, 30)
    assert len(rec.to("/hook")) == 1
    assert len(rec.to("/hook-nr")) == 1
    assert am.history()[-1].ok is False
    # The failed integration is tried again at the next flush; the other is not repeated.
    await step(am, clock, 60)
    assert len(rec.to("/hook")) == 2
    assert len(rec.to("/hook-nr")) == 1


@pytest.mark.parametrize("status", [429, 502])
async def test_retry_gives_up_at_group_interval(status: int) -> None:
    rec, clock = Recorder(), FakeClock()
    rec.script["/hook"] = [status] * 1000
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        import time as _t
        _t_now = _t.monotonic  # retries measure real elapsed time; sleep is fake
        del _t_now

    am = AlertManager(parse_config(CFG.replace("group_interval: 1m", "group_interval: 1s")),
                      clock=clock, transport=httpx.MockTransport(rec), sleep=fake_sleep)
    am.put_alerts([_a("A")])
    # With a fake sleep no real time passes, so bound attempts through the backoff sum.
    am.pipelines["hook"].integrations[0].backoff.initial = 0.4
    await step(am, clock, 30)
    assert 1 <= len(rec.to("/hook")) <= 5
    assert all(0.1 <= s <= 1.0 for s in slept[:1])
