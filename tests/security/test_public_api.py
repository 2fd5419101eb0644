"""The security stage's public surface is what we mean it to be."""

from __future__ import annotations

from watchkeeper import exceptions, security


def test_security_api_is_pinned() -> None:
    assert security.__all__ == [
        "GENESIS", "SHIPPED_RULES", "AuditLog", "ChainReport", "Control", "Finding", "Guard",
        "Incident", "IncidentSink", "Inspector", "Report", "Rule", "SecurityHook", "auth_failed",
        "auth_succeeded", "compile_pattern", "compliance_report", "configure", "current",
        "incident_alerts", "normalise", "on_incident", "re2_available", "reset",
        "set_incident_sink", "verify_audit",
    ]


def test_security_errors_hang_off_one_root() -> None:
    for name in ("PatternRejectedError", "AuditChainError", "RateLimitStorageError"):
        assert issubclass(getattr(exceptions, name), exceptions.SecurityError)
    assert issubclass(exceptions.SecurityError, exceptions.WatchkeeperError)
