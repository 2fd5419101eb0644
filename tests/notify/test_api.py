"""Python API, HTTP API (Alertmanager v2 paths), escalation, CLI silences, public names."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from watchkeeper import notify
from watchkeeper.cli._notify import run
from watchkeeper.notify import (
    Alert,
    AlertManager,
    EscalationPolicy,
    Escalations,
    OnCallRotation,
    create_app,
    parse_config,
    severity_priority,
)

from .helpers import T0, FakeClock, Recorder, no_sleep, step

CFG = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 30s
  group_interval: 1m
receivers:
  - name: hook
    webhook_configs: [{url: http://h/hook}]
  - name: primary
    webhook_configs: [{url: http://h/primary}]
  - name: manager
    webhook_configs: [{url: http://h/manager}]
"""


def test_public_api_is_pinned() -> None:
    assert sorted(notify.__all__) == sorted([
        "AggrGroup", "Alert", "AlertManager", "AlertmanagerForwarder", "Config",
        "Dispatcher", "EscalationLevel",
        "EscalationPolicy", "Escalations", "FlushJob", "Inhibitor", "MatchType", "Matcher",
        "Matchers", "Muter", "Notification", "NotificationLog", "NotifyContext",
        "OnCallRotation", "Route", "Silence", "Silences", "Template", "TemplateSet",
        "TimeInterval", "build_route", "create_app", "fingerprint", "load_config",
        "parse_config", "parse_matcher", "parse_matchers", "severity_priority",
    ])
    for name in notify.__all__:
        assert getattr(notify, name) is not None


def test_fingerprint_matches_alertmanager() -> None:
    # The empty set hashes to the FNV-1a offset basis; label order does not matter.
    # (test_differential compares real fingerprints with Alertmanager's webhook payloads.)
    assert Alert({}).fingerprint_hex == "cbf29ce484222325"
    assert Alert({"alertname": "DiskFull", "instance": "a", "severity": "critical"}) \
        .fingerprint == notify.fingerprint({"severity": "critical", "instance": "a",
                                            "alertname": "DiskFull"})


async def test_http_api_alerts_silences_status() -> None:
    rec, clock = Recorder(), FakeClock()
    am = AlertManager(parse_config(CFG), clock=clock, transport=httpx.MockTransport(rec),
                      sleep=no_sleep)
    transport = httpx.ASGITransport(app=create_app(am))
    async with httpx.AsyncClient(transport=transport, base_url="http://wk") as c:
        r = await c.post("/api/v2/alerts", json=[
            {"labels": {"alertname": "A", "env": "prod"}, "annotations": {"s": "x"}},
            {"labels": {"alertname": "B"}, "startsAt": "2026-03-02T11:00:00Z"}])
        assert r.status_code == 200
        assert (await c.post("/api/v2/alerts", json=[{"labels": {}}])).status_code == 400
        assert (await c.post("/api/v2/alerts", content=b"{")).status_code == 400
        alerts = (await c.get("/api/v2/alerts")).json()
        assert {a["labels"]["alertname"] for a in alerts} == {"A", "B"}
        a = next(x for x in alerts if x["labels"]["alertname"] == "A")
        assert a["receivers"] == [{"name": "hook"}]
        assert a["status"]["state"] == "active"
        assert a["endsAt"] == "2026-03-02T12:05:00Z"  # now + resolve_timeout
        r = await c.post("/api/v2/silences", json={
            "matchers": [{"name": "alertname", "value": "A", "isRegex": False,
                          "isEqual": True}],
            "startsAt": "2026-03-02T12:00:00Z", "endsAt": "2026-03-02T13:00:00Z",
            "createdBy": "t", "comment": "c"})
        sid = r.json()["silenceID"]
        got = (await c.get(f"/api/v2/silence/{sid}")).json()
        assert got["status"]["state"] == "active"
        alerts = (await c.get("/api/v2/alerts", params={"silenced": "false"})).json()
        assert [x["labels"]["alertname"] for x in alerts] == ["B"]
        filtered = (await c.get("/api/v2/alerts", params={"filter": 'env="prod"'})).json()
        assert [x["labels"]["alertname"] for x in filtered] == ["A"]
        assert len((await c.get("/api/v2/silences")).json()) == 1
        assert (await c.delete(f"/api/v2/silence/{sid}")).status_code == 200
        assert (await c.get(f"/api/v2/silence/{sid}")).json()["status"]["state"] == "expired"
        assert (await c.get("/api/v2/silence/nope")).status_code == 404
        status = (await c.get("/api/v2/status")).json()
        assert status["config"]["original"] == CFG
        assert (await c.get("/api/v2/receivers")).json()[0] == {"name": "hook"}
        await step(am, clock, 0)  # B started an hour ago: flushed at once
        groups = (await c.get("/api/v2/alerts/groups")).json()
        assert {g["labels"]["alertname"] for g in groups} == {"A", "B"}
        history = (await c.get("/api/v2/history")).json()
        assert history[0]["receiver"] == "hook"
        stats = (await c.get("/api/v2/statistics")).json()
        assert stats["alerts_active"] == 2
        assert stats["notifications_sent"] == 1


async def test_escalation_levels_stop_on_ack() -> None:
    rec, clock = Recorder(), FakeClock()
    rotation = OnCallRotation("ops", ("primary", "manager"), start=T0 - timedelta(days=1))
    policy = EscalationPolicy.create(
        "p1", [(0, ["rotation:ops:primary"]), (300, ["rotation:ops:secondary"]),
               (900, ["manager"])], matchers='severity="critical"')
    esc = Escalations([policy], [rotation])
    am = AlertManager(parse_config(CFG), clock=clock, transport=httpx.MockTransport(rec),
                      sleep=no_sleep, escalations=esc)
    alert = Alert({"alertname": "Down", "severity": "critical"},
                  ends_at=T0 + timedelta(hours=1))
    am.put_alerts([alert, Alert({"alertname": "Minor", "severity": "info"})])
    for s in esc.due(clock()):
        await am.escalate(s)
    assert len(rec.to("/primary")) == 1
    clock.advance(300)
    for s in esc.due(clock()):
        await am.escalate(s)
    assert len(rec.to("/manager")) == 1  # secondary of the rotation this week
    transport = httpx.ASGITransport(app=create_app(am))
    async with httpx.AsyncClient(transport=transport, base_url="http://wk") as c:
        r = await c.post(f"/api/v2/escalations/{alert.fingerprint_hex}/ack", json={"by": "bob"})
        assert r.json() == {"acknowledged": True}
        status = (await c.get("/api/v2/escalations")).json()
        assert status[0]["acknowledged_by"] == "bob"
    clock.advance(900)
    assert esc.due(clock()) == []
    assert len(rec.calls) == 2


def test_rotation_and_priorities() -> None:
    rot = OnCallRotation("r", ("a", "b", "c"), start=T0)
    assert [rot.primary(T0 + timedelta(weeks=w)) for w in range(4)] == ["a", "b", "c", "a"]
    assert rot.secondary(T0) == "b"
    assert severity_priority({"severity": "critical"}) == "P1"
    assert severity_priority({"severity": "warning"}) == "P3"
    assert severity_priority({"priority": "p2", "severity": "info"}) == "P2"
    assert severity_priority({}) == "P3"


def test_cli_silences_local_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["silence", "add", "--data-dir", str(tmp_path), "--duration", "2h",
                "--comment", "maint", 'alertname="Foo"', 'env=~"prod.*"']) == 0
    sid = capsys.readouterr().out.strip()
    assert run(["silence", "query", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert sid in out
    assert 'env=~"prod.*"' in out
    assert run(["silence", "expire", "--data-dir", str(tmp_path), sid]) == 0
    assert run(["silence", "query", "--data-dir", str(tmp_path)]) == 0
    assert sid not in capsys.readouterr().out
    assert run(["silence", "add", "--data-dir", str(tmp_path), 'x=""']) == 1


def test_cli_check_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yml"
    good.write_text(CFG)
    bad = tmp_path / "bad.yml"
    bad.write_text(CFG.replace("receiver: hook", "receiver: nobody"))
    assert run(["check-config", str(good)]) == 0
    out = capsys.readouterr().out
    assert out == (f"Checking '{good}'  SUCCESS\nFound:\n - global config\n - route\n"
                   " - 0 inhibit rules\n - 3 receivers\n - 0 templates\n\n")
    assert run(["check-config", str(good), str(bad)]) == 1
    captured = capsys.readouterr()
    assert f"FAILED: {bad}:3: undefined receiver \"nobody\" used in route" in captured.out
    assert "failed to validate 1 file(s)" in captured.err


async def test_maintenance_drops_resolved_alerts(tmp_path: Path) -> None:
    rec, clock = Recorder(), FakeClock()
    am = AlertManager(parse_config(CFG), clock=clock, transport=httpx.MockTransport(rec),
                      sleep=no_sleep, data_dir=tmp_path)
    am.put_alerts([Alert({"alertname": "A"}), Alert({"alertname": "B"},
                                                    ends_at=T0 + timedelta(hours=1))])
    await step(am, clock, 30)
    clock.advance(600)  # A timed out (resolve_timeout 5m)
    assert am.maintenance() == {"alerts": 1, "silences": 0}
    assert [a.name for a in AlertManager(parse_config(CFG), data_dir=tmp_path,
                                         clock=clock).store.list()] == ["B"]


async def test_http_api_rejects_invalid_label_names() -> None:
    am = AlertManager(parse_config(CFG))
    transport = httpx.ASGITransport(app=create_app(am))
    async with httpx.AsyncClient(transport=transport, base_url="http://wk") as c:
        r = await c.post("/api/v2/alerts", json=[{"labels": {"1bad": "x"}}])
    assert r.status_code == 400
    assert "invalid" in r.json()


async def test_put_alerts_from_another_thread() -> None:
    import asyncio
    import threading

    rec = Recorder()
    am = AlertManager(parse_config(CFG.replace("30s", "50ms")),
                      transport=httpx.MockTransport(rec))
    async with am:
        threads = [threading.Thread(target=am.put_alerts,
                                    args=([Alert({"alertname": f"T{i}"})],)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for _ in range(100):
            if len(rec.to("/hook")) == 8:
                break
            await asyncio.sleep(0.02)
    assert sorted(b["groupLabels"]["alertname"] for b in rec.to("/hook")) == \
        [f"T{i}" for i in range(8)]


async def test_stop_right_after_put_never_hangs() -> None:
    """Regression: a put from another thread racing stop() must not lose the runner's
    cancellation (asyncio.wait_for on Python 3.11 could swallow it and hang stop())."""
    import asyncio
    import threading

    for i in range(20):
        am = AlertManager(parse_config(CFG), transport=httpx.MockTransport(Recorder()))
        await am.start()
        await asyncio.sleep(0)
        t = threading.Thread(target=am.put_alerts, args=([Alert({"alertname": f"S{i}"})],))
        t.start()
        t.join()
        await asyncio.wait_for(am.stop(), 5)


async def test_escalation_runs_in_real_time_and_ack_stops_it() -> None:
    import asyncio

    rec = Recorder()
    policy = EscalationPolicy.create("fast", [(0, ["primary"]), (0.3, ["manager"]),
                                              (0.9, ["hook"])])
    am = AlertManager(parse_config(CFG), transport=httpx.MockTransport(rec),
                      escalations=Escalations([policy]))
    alert = Alert({"alertname": "Down", "severity": "critical"})
    async with am:
        am.put_alerts([alert])
        for _ in range(50):
            if rec.to("/manager"):
                break
            await asyncio.sleep(0.05)
        assert am.acknowledge(alert.fingerprint_hex, "alice")
        await asyncio.sleep(1.0)
    assert len(rec.to("/primary")) == 1
    assert len(rec.to("/manager")) == 1
    assert rec.to("/hook") == []  # acknowledged before the third level
