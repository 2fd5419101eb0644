"""Request security: attack inspection, rate limits, brute-force defence, audit log.

One middleware stage (:class:`SecurityHook`), detect-only by default
(``security.mode: block`` answers 403/429); a hash-chained audit log and compliance report.
"""

from ._audit import GENESIS, AuditLog, ChainReport, verify_audit
from ._compliance import Control, Report, compliance_report
from ._guard import Guard, Incident
from ._hook import SecurityHook
from ._inspect import Finding, Inspector
from ._normalise import normalise
from ._patterns import compile_pattern, re2_available
from ._rules import SHIPPED_RULES, Rule
from ._state import auth_failed, auth_succeeded, configure, current, on_incident, reset

__all__ = [
    "GENESIS",
    "SHIPPED_RULES",
    "AuditLog",
    "ChainReport",
    "Control",
    "Finding",
    "Guard",
    "Incident",
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
    "normalise",
    "on_incident",
    "re2_available",
    "reset",
    "verify_audit",
]
