"""Request security: attack inspection, rate limits, brute-force defence, audit log.

One middleware stage (:class:`SecurityHook`), detect-only by default
(``security.mode: block`` answers 403/429); a hash-chained audit log and compliance report.
"""

from ._audit import GENESIS, AuditLog, ChainReport, verify_audit
from ._compliance import Control, Report, compliance_report
from ._guard import Guard, Incident
from ._hook import SecurityHook
from ._incidents import IncidentSink, incident_alerts
from ._inspect import Finding, Inspector
from ._normalise import normalise
from ._patterns import compile_pattern, re2_available
from ._rules import SHIPPED_RULES, Rule
from ._state import (
    auth_failed,
    auth_succeeded,
    configure,
    current,
    on_incident,
    reset,
    set_incident_sink,
)

__all__ = [
    "GENESIS",
    "SHIPPED_RULES",
    "AuditLog",
    "ChainReport",
    "Control",
    "Finding",
    "Guard",
    "Incident",
    "IncidentSink",
    "Inspector",
    "Report",
    "Rule",
    "SecurityHook",
    "auth_failed",
    "auth_succeeded",
    "compile_pattern",
    "compliance_report",
    "configure",
    "current",
    "incident_alerts",
    "normalise",
    "on_incident",
    "re2_available",
    "reset",
    "set_incident_sink",
    "verify_audit",
]
