"""The security stage's metric families."""

from __future__ import annotations

from typing import Any

__all__ = ["SecurityMetrics"]


class SecurityMetrics:
    """``security_events_total``, ``rate_limit_exceeded_total``, ``auth_failures_total``
    and the ``blocked_clients`` gauge, in watchkeeper's registry."""

    def __init__(self, registry: Any) -> None:
        name = registry.full_name
        self.events = registry.counter(
            name("security_events_total"),
            "Security events (rule hits, incidents) by category, severity and action taken.",
            ("category", "severity", "action"))
        self.rate_limited = registry.counter(
            name("rate_limit_exceeded_total"), "Requests refused by a rate limit, by scope.",
            ("scope",))
        self.auth_failures = registry.counter(
            name("auth_failures_total"), "Failed authentications, by reason.", ("reason",))
        self.blocked = registry.gauge(
            name("blocked_clients"), "Clients under a temporary block now.", mode="max")

    def event(self, category: str, severity: str, action: str) -> None:
        self.events.labels(category, severity, action).inc()
