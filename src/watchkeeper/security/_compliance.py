"""Compliance report: concrete controls checked against the running configuration.

Every control is a check that can fail. A control whose setting does not exist in this
build (a stage not installed or not yet configured) is ``not_checked``, which counts as
not passing: the score is passed / total, never inflated by what was not looked at.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..config import Settings
from ..exceptions import AuditChainError

__all__ = ["STANDARDS", "Control", "Report", "compliance_report"]

Status = Literal["pass", "fail", "not_checked"]
STANDARDS = ("SOC2", "PCI-DSS", "GDPR", "HIPAA")
_DAY = 86400.0
# Minimum audit-log retention each standard asks for (PCI-DSS 10.5.1: 12 months; HIPAA
# 164.316(b)(2): 6 years for documentation, applied here to audit records; SOC2 auditors
# expect the 12-month observation period; GDPR sets no minimum, only that it is bounded).
_MIN_RETENTION = {"SOC2": 365 * _DAY, "PCI-DSS": 365 * _DAY, "HIPAA": 6 * 365 * _DAY,
                  "GDPR": 0.0}
_MISSING = object()


@dataclass(frozen=True, slots=True)
class Control:
    """One checked control: its result, what was seen, and what to do about a failure."""

    id: str
    title: str
    status: Status
    evidence: str
    recommendation: str
    references: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Report:
    standard: str | None
    controls: list[Control]

    @property
    def score(self) -> float:
        """Passed controls over all controls, 0..100."""
        if not self.controls:
            return 0.0
        return round(100.0 * sum(c.status == "pass" for c in self.controls)
                     / len(self.controls), 1)

    @property
    def passed(self) -> bool:
        return all(c.status == "pass" for c in self.controls)

    def as_dict(self) -> dict[str, Any]:
        return {"standard": self.standard, "score": self.score, "passed": self.passed,
                "controls": [asdict(c) for c in self.controls]}

    def as_text(self) -> str:
        lines = [f"compliance report ({self.standard or 'all standards'}): "
                 f"score {self.score:g}%"]
        for c in self.controls:
            lines.append(f"  [{c.status.upper():>11}] {c.id}: {c.title}")
            lines.append(f"                evidence: {c.evidence}")
            if c.status != "pass":
                lines.append(f"                recommendation: {c.recommendation}")
        return "\n".join(lines)


def _get(settings: Any, dotted: str) -> Any:
    value = settings
    for part in dotted.split("."):
        value = getattr(value, part, _MISSING)
        if value is _MISSING:
            return _MISSING
    return value


_Check = Callable[[Settings, str | None, Sequence[str]], tuple[Status, str]]


def _audit_on(s: Settings, std: str | None, urls: Sequence[str]) -> tuple[Status, str]:
    audit = s.security.audit
    if not s.security.enabled or not audit.enabled:
        return "fail", "security.audit.enabled is false (or the security stage is off)"
    if audit.path is None:
        return "fail", "audit records are kept in memory only (security.audit.path unset)"
    return "pass", f"audit log at {audit.path}"


def _audit_verified(s: Settings, std: str | None, urls: Sequence[str]) -> tuple[Status, str]:
    from ._audit import verify_audit

    path = s.security.audit.path
    if path is None or not Path(path).exists():
        return "fail", "no audit log file to verify"
    try:
        report = verify_audit(path)
    except AuditChainError as exc:
        return "fail", str(exc)
    anchor = "genesis" if report.complete else f"retention anchor {report.anchor[:12]}…"
    return "pass", f"{report.records} records, hash chain intact from {anchor}"


def _audit_retention(s: Settings, std: str | None, urls: Sequence[str]) -> tuple[Status, str]:
    days = s.security.audit.retention / _DAY
    needed = max(_MIN_RETENTION.get(std, 0.0) for std in ([std] if std else STANDARDS))
    if s.security.audit.retention <= 0:
        return "fail", "audit retention is 0"
    if s.security.audit.retention < needed:
        return "fail", f"audit retention {days:g} days < required {needed / _DAY:g} days"
    return "pass", f"audit retention {days:g} days"


def _inspection(s: Settings, std: str | None, urls: Sequence[str]) -> tuple[Status, str]:
    from ..config._security import CATEGORIES

    if not s.security.enabled:
        return "fail", "security.enabled is false"
    missing = sorted(set(CATEGORIES) - set(s.security.categories))
    if missing:
        return "fail", f"categories not inspected: {missing}"
    return "pass", f"mode {s.security.mode}, all {len(CATEGORIES)} categories inspected"


def _blocking(s: Settings, std: str | None, urls: Sequence[str]) -> tuple[Status, str]:
    if s.security.mode != "block":
        return "fail", "security.mode is detect: attacks are logged, not stopped"
    return "pass", "security.mode is block"


def _rate_limits(s: Settings, std: str | None, urls: Sequence[str]) -> tuple[Status, str]:
    limits = s.security.rate_limits
    if not limits.enabled or not limits.rules:
        return "fail", "no rate limits configured (security.rate_limits.rules is empty)"
    scopes = sorted({r.scope for r in limits.rules})
    return "pass", f"{len(limits.rules)} rate limits ({', '.join(scopes)}), storage " \
                   f"{limits.storage.split('://')[0]}"


def _lockout(s: Settings, std: str | None, urls: Sequence[str]) -> tuple[Status, str]:
    brute = s.security.brute_force
    if not s.security.enabled or not brute.enabled:
        return "fail", "brute-force tracking is off"
    if brute.threshold > 10:
        return "fail", f"threshold {brute.threshold} > 10 failed attempts"
    if s.security.mode != "block":
        return "fail", "incidents are detected but clients are not blocked (detect mode)"
    if brute.block_ttl < 1800:
        return "fail", f"block lasts {brute.block_ttl:g}s < 30 minutes"
    return "pass", f"block after {brute.threshold} failures for {brute.block_ttl:g}s"


def _tls(s: Settings, std: str | None, urls: Sequence[str]) -> tuple[Status, str]:
    if not urls:
        return "not_checked", "no exposed endpoint URL given (--url)"
    plain = [u for u in urls if not u.lower().startswith("https://")]
    if plain:
        return "fail", f"served without TLS: {plain}"
    return "pass", f"{len(urls)} exposed endpoints use https"


def _setting_check(dotted: str, what: str) -> _Check:
    def check(s: Settings, std: str | None, urls: Sequence[str]) -> tuple[Status, str]:
        value = _get(s, dotted)
        if value is _MISSING:
            return "not_checked", f"setting {dotted} does not exist in this build"
        if not value:
            return "fail", f"{dotted} = {value!r}"
        return "pass", f"{what}: {dotted} = {value!r}"
    return check


def _log_retention(s: Settings, std: str | None, urls: Sequence[str]) -> tuple[Status, str]:
    files = _get(s, "logs.files")
    if files is _MISSING:
        return "not_checked", "no logs stage in this build"
    if not files:
        return "fail", "no log file sinks: retention is left to whatever collects stdout"
    unbounded = [str(f.path) for f in files if not f.retention]
    if unbounded:
        return "fail", f"log files without retention: {', '.join(unbounded)}"
    return "pass", ", ".join(f"{f.path}: {f.retention:g}s" for f in files)


_ALL = ("SOC2", "PCI-DSS", "GDPR", "HIPAA")
# (id, title, check, recommendation, {standard: reference})
_CONTROLS: list[tuple[str, str, _Check, str, dict[str, str]]] = [
    ("audit-log", "Security events are written to a persistent audit log", _audit_on,
     "set security.audit.path to a file on durable storage",
     {"SOC2": "CC7.2", "PCI-DSS": "10.2", "HIPAA": "164.312(b)", "GDPR": "Art. 30/32"}),
    ("audit-integrity", "The audit log is tamper-evident and verifies", _audit_verified,
     "investigate the broken line; run `watchkeeper security verify-audit FILE`",
     {"SOC2": "CC7.2", "PCI-DSS": "10.3.2", "HIPAA": "164.312(c)(1)", "GDPR": "Art. 32"}),
    ("audit-retention", "Audit records are kept as long as required", _audit_retention,
     "raise security.audit.retention (e.g. 365d; HIPAA 6y)",
     {"SOC2": "CC7.2", "PCI-DSS": "10.5.1", "HIPAA": "164.316(b)(2)", "GDPR": "Art. 5(1)(e)"}),
    ("attack-detection", "Requests are inspected for injection and traversal", _inspection,
     "enable security and every rule category",
     {"SOC2": "CC6.8", "PCI-DSS": "6.4.2", "HIPAA": "164.308(a)(1)", "GDPR": "Art. 32"}),
    ("attack-blocking", "Detected attacks are blocked", _blocking,
     "set security.mode: block once detect mode shows no false positives",
     {"SOC2": "CC6.6", "PCI-DSS": "6.4.2"}),
    ("rate-limits", "Rate limits protect the service", _rate_limits,
     "configure security.rate_limits.rules (per ip and global)",
     {"SOC2": "A1.2", "PCI-DSS": "6.4.2"}),
    ("account-lockout", "Repeated failed logins lock the client out", _lockout,
     "brute_force.threshold <= 10, block mode, block_ttl >= 30m",
     {"SOC2": "CC6.1", "PCI-DSS": "8.3.4", "HIPAA": "164.312(a)(1)", "GDPR": "Art. 32"}),
    ("tls", "Exposed endpoints are served over TLS", _tls,
     "terminate TLS in front of every exposed endpoint",
     {"SOC2": "CC6.7", "PCI-DSS": "4.2.1", "HIPAA": "164.312(e)(1)", "GDPR": "Art. 32"}),
    ("log-redaction", "Secrets and personal data are redacted from logs",
     _setting_check("logs.redaction.enabled", "redaction on"),
     "turn on logs.redaction.enabled",
     {"SOC2": "CC6.1", "PCI-DSS": "3.3", "HIPAA": "164.312(a)", "GDPR": "Art. 25/32"}),
    ("log-retention", "Log files are rotated with a retention period", _log_retention,
     "give every logs.files sink a retention (e.g. 30d for errors, 7d for the rest)",
     {"SOC2": "CC7.2", "PCI-DSS": "10.5.1", "GDPR": "Art. 5(1)(e)"}),
    # Error events pass through the same redactor as logs and spans.
    ("error-scrubbing", "Error reports are scrubbed of secrets",
     _setting_check("logs.redaction.enabled", "error events share the log redactor"),
     "turn on logs.redaction.enabled", {"SOC2": "CC6.1", "PCI-DSS": "3.3", "GDPR": "Art. 25"}),
    ("dashboard-auth", "The dashboard requires authentication",
     _setting_check("web.auth.enabled", "auth on"), "turn on web.auth",
     {"SOC2": "CC6.1", "PCI-DSS": "8.2", "HIPAA": "164.312(d)", "GDPR": "Art. 32"}),
]


def compliance_report(settings: Settings, standard: str | None = None,
                      urls: Sequence[str] = ()) -> Report:
    """Check the controls of ``standard`` (or all) against ``settings``.

    Args:
        settings: the settings to judge (the running ones, or a file's).
        standard: ``SOC2``, ``PCI-DSS``, ``GDPR`` or ``HIPAA``; None for every control.
        urls: the service's exposed base URLs, for the TLS control.

    Raises:
        ValueError: an unknown standard.
    """
    if standard is not None:
        standard = standard.upper()
        if standard not in STANDARDS:
            raise ValueError(f"unknown standard {standard!r}; one of {list(STANDARDS)}")
    controls = []
    for control_id, title, check, recommendation, references in _CONTROLS:
        if standard is not None and standard not in references:
            continue
        try:
            status, evidence = check(settings, standard, urls)
        except Exception as exc:  # a broken check must show, not pass
            status, evidence = "fail", f"check failed: {exc!r}"
        refs = references if standard is None else {standard: references[standard]}
        controls.append(Control(control_id, title, status, evidence, recommendation, refs))
    return Report(standard, controls)
