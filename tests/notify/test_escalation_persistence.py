"""Escalation state survives a restart: levels already paged are not paged again, and an
acknowledgement still holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from watchkeeper.notify import Alert, EscalationPolicy, Escalations

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
POLICY = EscalationPolicy.create("critical", [(0, ["oncall"]), (300, ["lead"]), (900, ["cto"])],
                                 '{severity="critical"}')


def _alert() -> Alert:
    return Alert(labels={"alertname": "Down", "severity": "critical"}, starts_at=T0)


def test_levels_sent_before_a_restart_are_not_sent_again(tmp_path: Path) -> None:
    path = tmp_path / "escalations.json"
    first = Escalations([POLICY], path=path)
    first.observe(_alert(), T0)
    assert [s.receivers for s in first.due(T0 + timedelta(seconds=301))] == [("oncall",),
                                                                              ("lead",)]
    restarted = Escalations([POLICY], path=path)
    assert restarted.due(T0 + timedelta(seconds=400)) == []
    assert [s.receivers for s in restarted.due(T0 + timedelta(seconds=901))] == [("cto",)]


def test_an_acknowledgement_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "escalations.json"
    first = Escalations([POLICY], path=path)
    first.observe(_alert(), T0)
    first.due(T0)
    assert first.acknowledge(_alert().fingerprint, by="ana")
    restarted = Escalations([POLICY], path=path)
    assert restarted.due(T0 + timedelta(hours=1)) == []
    assert restarted.status()[0]["acknowledged_by"] == "ana"


def test_a_corrupt_state_file_starts_empty(tmp_path: Path, caplog: pytest.LogCaptureFixture
                                           ) -> None:
    path = tmp_path / "escalations.json"
    path.write_text("{not json")
    assert Escalations([POLICY], path=path).status() == []
    assert "unreadable" in caplog.text


def test_escalation_settings_must_name_known_receivers(tmp_path: Path) -> None:
    import watchkeeper
    from watchkeeper.exceptions import ConfigError

    am = tmp_path / "am.yml"
    am.write_text("route:\n  receiver: oncall\nreceivers:\n  - name: oncall\n")
    with pytest.raises(ConfigError) as caught:
        watchkeeper.init(notify={"config_file": str(am), "escalations": [
            {"name": "p1", "levels": [{"after": "0s", "receivers": ["oncall"]},
                                      {"after": "5m", "receivers": ["lead"]}]}]})
    message = str(caught.value)
    assert "notify.escalations.0.levels.1.receivers" in message
    assert "no receiver 'lead'" in message


def test_escalations_from_settings_reach_the_in_process_alertmanager(tmp_path: Path) -> None:
    import watchkeeper
    from watchkeeper import _alerting

    am = tmp_path / "am.yml"
    am.write_text("route:\n  receiver: oncall\nreceivers:\n  - name: oncall\n  - name: lead\n")
    watchkeeper.init(notify={
        "config_file": str(am), "data_dir": str(tmp_path / "data"),
        "rotations": [{"name": "sre", "members": ["oncall", "lead"],
                       "start": "2026-01-05T00:00:00Z"}],
        "escalations": [{"name": "p1", "priorities": ["P1"], "levels": [
            {"after": "0s", "receivers": ["rotation:sre:primary"]},
            {"after": "10m", "receivers": ["lead"]}]}]})
    running = _alerting.current_alertmanager()
    assert running is not None
    assert running.escalations is not None
    assert [p.name for p in running.escalations.policies] == ["p1"]
    assert running.escalations.path == tmp_path / "data" / "escalations.json"
