"""The security settings section, the compliance report and its CLI and endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests._servers import free_port, serve, uvicorn
from watchkeeper.cli import main
from watchkeeper.config import load_settings
from watchkeeper.exceptions import ConfigError
from watchkeeper.security import AuditLog, compliance_report

APPS = Path(__file__).parent / "apps"


def test_mode_from_the_environment_and_validation() -> None:
    settings = load_settings(environ={"WATCHKEEPER_SECURITY__MODE": "block",
                                      "WATCHKEEPER_SECURITY__BRUTE_FORCE__WINDOW": "10m"})
    assert settings.security.mode == "block"
    assert settings.security.brute_force.window == 600.0
    for bad in ({"WATCHKEEPER_SECURITY__MODE": "panic"},
                {"WATCHKEEPER_SECURITY__TRUSTED_PROXIES": "10.0.0.0/33"},
                {"WATCHKEEPER_SECURITY__CATEGORIES": "sqli,telepathy"},
                {"WATCHKEEPER_SECURITY__RATE_LIMITS__STORAGE": "mongodb://x"},
                {"WATCHKEEPER_SECURITY__RATE_LIMITS__RULES": '[{"limit": 0}]'}):
        with pytest.raises(ConfigError):
            load_settings(environ=bad)


def test_a_backtracking_custom_rule_fails_init() -> None:
    import watchkeeper
    from watchkeeper.exceptions import PatternRejectedError

    with pytest.raises(PatternRejectedError):
        watchkeeper.init(security={"engine": "re", "custom_rules": [
            {"id": "mine", "pattern": "(a+)+b"}]})


def test_custom_rules_and_disabled_rules_apply() -> None:
    import watchkeeper
    from watchkeeper import security

    watchkeeper.init(security={"custom_rules": [{"id": "no-admin", "pattern": "/admin\\b",
                                                 "category": "custom", "severity": "low",
                                                 "locations": ["path"]}],
                               "disabled_rules": ["xss.script_tag"]})
    inspector = security.current().inspector
    assert [f.rule_id for f in inspector.inspect("path", "/ADMIN")] == ["no-admin"]
    assert "xss.script_tag" not in [f.rule_id for f in
                                    inspector.inspect("query", "q=<script>x")]


def test_every_control_can_fail_and_pass(tmp_path: Path) -> None:
    weak = compliance_report(load_settings(environ={}))
    assert not weak.passed
    assert {c.id for c in weak.controls if c.status == "fail"} >= {
        "audit-log", "audit-integrity", "attack-blocking", "rate-limits", "account-lockout"}
    audit = tmp_path / "audit.jsonl"
    AuditLog(audit).append("config_loaded")
    strong = load_settings(environ={}, security={
        "mode": "block", "audit": {"path": str(audit), "retention": "365d"},
        "brute_force": {"block_ttl": "30m"},
        "rate_limits": {"rules": [{"scope": "ip", "limit": 100}]}})
    report = compliance_report(strong, "PCI-DSS", urls=["https://shop.example.com"])
    by_id = {c.id: c for c in report.controls}
    for control in ("audit-log", "audit-integrity", "audit-retention", "attack-detection",
                    "attack-blocking", "rate-limits", "account-lockout", "tls"):
        assert by_id[control].status == "pass", by_id[control]
    assert by_id["log-redaction"].status == "pass"
    assert by_id["log-retention"].status == "fail"  # no log file sinks
    unredacted = load_settings(environ={}, logs={"redaction": {"enabled": False},
                                                 "files": [{"path": str(tmp_path / "a.log"),
                                                            "retention": "7d"}]})
    weak_logs = {c.id: c for c in compliance_report(unredacted).controls}
    assert weak_logs["log-redaction"].status == "fail"
    assert weak_logs["error-scrubbing"].status == "fail"
    assert weak_logs["log-retention"].status == "pass"
    assert 0 < report.score < 100
    audit.write_text(audit.read_text().replace("config_loaded", "config_changed"))
    assert {c.id: c for c in compliance_report(strong, "SOC2").controls}[
        "audit-integrity"].status == "fail"
    tls = compliance_report(strong, "HIPAA", urls=["http://shop.example.com"])
    assert {c.id: c for c in tls.controls}["tls"].status == "fail"
    with pytest.raises(ValueError, match="unknown standard"):
        compliance_report(strong, "ISO9001")


def test_compliance_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "wk.yml"
    config.write_text("security:\n  mode: block\n")
    assert main(["compliance", "report", "--config", str(config), "--standard", "gdpr",
                 "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["standard"] == "GDPR"
    assert {c["id"] for c in report["controls"]} >= {"audit-log", "tls"}
    assert main(["compliance", "report", "--config", str(config)]) == 1
    assert "score" in capsys.readouterr().out


@pytest.mark.slow
def test_compliance_endpoint_on_a_real_server() -> None:
    port = free_port()
    env = {"WATCHKEEPER_SECURITY__COMPLIANCE_ENDPOINT": "true"}
    with serve(uvicorn("secure_app:app", port), port, env=env, cwd=APPS) as base:
        response = httpx.get(f"{base}/health/compliance", params={"standard": "SOC2"})
        assert response.status_code == 503
        assert response.json()["standard"] == "SOC2"
        assert httpx.get(f"{base}/health/compliance?standard=nope").status_code == 400
