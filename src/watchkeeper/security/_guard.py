"""The security stage's state for one configuration: inspector, limits, failure counters,
block list, audit log and metrics, and what happens when each of them fires."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..config import SecuritySettings
from ._abuse import Blocklist, WindowCounter
from ._audit import AuditLog
from ._clients import ClientResolver, NetworkSet
from ._incidents import SinkDispatcher, incident_alerts
from ._inspect import Finding, Inspector
from ._metrics import SecurityMetrics
from ._patterns import re2_available, resolve_engine
from ._ratelimit import RateLimiter
from ._rules import SHIPPED_RULES, Rule

if TYPE_CHECKING:
    from ._shared_abuse import SharedAbuse

__all__ = ["Guard", "Incident", "IncidentCallback"]

_log = logging.getLogger("watchkeeper.security")


@dataclass(frozen=True, slots=True)
class Incident:
    """A threshold crossed: ``kind`` is ``brute_force_ip``, ``brute_force_user`` or
    ``abnormal_token_rate``; ``subject`` the IP, user or token digest."""

    kind: str
    subject: str
    count: int
    window: float
    blocked_for: float  # seconds, 0 when not blocked


IncidentCallback = Callable[[Incident], None]


def build_rules(settings: SecuritySettings) -> list[Rule]:
    disabled = set(settings.disabled_rules)
    categories = set(settings.categories)
    rules = [r for r in SHIPPED_RULES if r.category in categories and r.id not in disabled]
    rules.extend(Rule(c.id, c.category, c.severity, c.pattern, tuple(c.locations))
                 for c in settings.custom_rules if c.id not in disabled)
    return rules


class Guard:
    """Everything the security stage knows for one settings object.

    Args:
        settings: the ``security`` section.
        registry: watchkeeper's metric registry.
        clock: monotonic seconds for windows and blocks (injectable for tests).
    """

    def __init__(self, settings: SecuritySettings, registry: Any, *,
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time,
                 service: str = "unknown_service", environment: str = "") -> None:
        self.settings = settings
        self.service = service
        self.environment = environment
        self.dispatcher: SinkDispatcher | None = None
        self.registry = registry
        self.block_mode = settings.mode == "block"
        self.inspector = Inspector(build_rules(settings), resolve_engine(settings.engine),
                                   settings.max_inspect_chars, settings.max_body_bytes)
        if self.inspector.engine == "re" and not re2_available():
            _log.warning("google-re2 is not installed: request inspection uses the stdlib "
                         "fallback, about 60-140 µs per request whose path/query was not "
                         "seen recently (re2: about 4-7 µs); pip install 'watchkeeper[re2]'")
        self.inspector.prepare(["path", "query", "body",
                                *(f"header:{h}" for h in settings.inspect_headers)])
        self.metrics = SecurityMetrics(registry)
        self.clients = ClientResolver(settings.trusted_proxies)
        self.allowed_clients = NetworkSet(settings.allow_clients)
        self.blocklist = Blocklist(clock)
        brute = settings.brute_force
        self.by_ip = WindowCounter(brute.threshold, brute.window, clock)
        self.by_user = WindowCounter(brute.threshold, brute.window, clock)
        self.by_token = (WindowCounter(brute.token_rate_threshold, brute.window, clock)
                         if brute.enabled and brute.token_rate_threshold else None)
        audit = settings.audit
        self.wall_clock = wall_clock
        self.audit = (AuditLog(audit.path, retention=audit.retention, fsync=audit.fsync,
                               clock=wall_clock) if audit.enabled else None)
        if self.audit is not None:
            try:
                self.audit.prune()
            except OSError:
                _log.exception("could not apply the audit log retention")
        self.shared = self._shared_abuse()
        self.limiter = self._limiter(clock) if settings.rate_limits.rules and \
            settings.rate_limits.enabled else None
        self.callbacks: list[IncidentCallback] = []
        self.metrics.blocked.set(0)
        registry.add_refresher(self.refresh_gauges)

    def _limiter(self, clock: Callable[[], float]) -> RateLimiter:
        limits = self.settings.rate_limits
        redis = None
        if not limits.storage.startswith("memory://"):
            from ._redis_limits import RedisLimits

            redis = RedisLimits(limits.storage, limits.sync_interval,
                                on_error=lambda: self.registry.internal_error("rate_limit"))
        return RateLimiter(limits, redis=redis, clock=clock)

    def _shared_abuse(self) -> SharedAbuse | None:
        brute = self.settings.brute_force
        storage = brute.storage or self.settings.rate_limits.storage
        if not brute.enabled or storage.startswith("memory://"):
            return None
        from ._shared_abuse import SharedAbuse

        return SharedAbuse(storage, window=brute.window, threshold=brute.threshold,
                           sync_interval=brute.sync_interval,
                           on_crossed=self._shared_crossed,
                           on_blocked=self._shared_blocked, on_fallback=self._fallback,
                           on_error=lambda: self.registry.internal_error("brute_force"))

    def _counter(self, kind: str) -> WindowCounter:
        return self.by_ip if kind == "ip" else self.by_user

    def _shared_crossed(self, kind: str, subject: str, count: int, blocked: float) -> None:
        self._incident(f"brute_force_{kind}", subject, count,
                       block=subject if kind == "ip" else None)

    def _shared_blocked(self, client: str, seconds: float) -> None:
        if seconds > 0 and self.blocklist.remaining(client) < seconds - 1:
            self.blocklist.block(client, seconds)
            self.metrics.blocked.set(self.blocklist.active())

    def _fallback(self, kind: str, subject: str) -> None:
        """A failure Redis did not take: decide it on this process's counts."""
        count, crossed = self._counter(kind).judge(subject)
        if crossed:
            self._incident(f"brute_force_{kind}", subject, count,
                           block=subject if kind == "ip" else None)

    def _block_ttl(self, ip: str) -> float:
        if self.block_mode and ip not in self.allowed_clients:
            return self.settings.brute_force.block_ttl
        return 0.0

    # -- audit ---------------------------------------------------------------------------
    def audit_event(self, event: str, **fields: Any) -> None:
        if self.audit is not None:
            try:
                self.audit.append(event, **fields)
            except OSError:
                self.registry.internal_error("security_audit")
                _log.exception("could not write the audit log")

    # -- inspection ----------------------------------------------------------------------
    def findings_seen(self, findings: Sequence[Finding], client: str | None, method: str,
                      path: str) -> str:
        """Count, log and audit rule hits; returns the action (``detected``/``blocked``)."""
        action = "blocked" if self.block_mode else "detected"
        for finding in findings:
            self.metrics.event(finding.category, finding.severity, action)
        top = max(findings, key=lambda f: _SEVERITY.get(f.severity, 0))
        _log.warning(
            "security rule %s (%s, %s) matched in %s from %s: %s", top.rule_id,
            top.category, top.severity, top.location, client, action,
            extra={"security": {"rules": [f.rule_id for f in findings], "client": client,
                                 "action": action, "method": method,
                                 "locations": sorted({f.location for f in findings})}})
        self.audit_event("rule_hit", client=client, method=method, path=path[:256],
                         action=action, findings=[_finding_fields(f) for f in findings])
        return action

    # -- authentication ------------------------------------------------------------------
    def auth_failed(self, user: str | None, ip: str | None,
                    reason: str = "invalid_credentials") -> list[Incident]:
        self.metrics.auth_failures.labels(reason).inc()
        self.audit_event("auth_failure", user=user, client=ip, reason=reason)
        if not self.settings.brute_force.enabled:
            return []
        incidents = []
        shared = self.shared
        for kind, subject in (("ip", ip), ("user", user)):
            if subject is None:
                continue
            counter = self._counter(kind)
            if shared is not None and shared.failure(
                    kind, subject, self._block_ttl(subject) if kind == "ip" else 0.0):
                counter.add(subject, judge=False)  # Redis decides; kept for the fallback
                continue
            count, crossed = counter.add(subject)
            if crossed:
                incidents.append(self._incident(f"brute_force_{kind}", subject, count,
                                                block=subject if kind == "ip" else None))
        return incidents

    def auth_succeeded(self, user: str | None, ip: str | None) -> None:
        for kind, subject in (("ip", ip), ("user", user)):
            if subject is not None:
                self._counter(kind).reset(subject)
                if self.shared is not None:
                    self.shared.reset(kind, subject)
        self.audit_event("auth_success", user=user, client=ip)

    def token_seen(self, token: str, client: str | None) -> None:
        if self.by_token is None:
            return
        digest = hashlib.blake2b(token.encode("utf-8", "replace"), digest_size=8).hexdigest()
        count, crossed = self.by_token.add(digest)
        if crossed:
            self._incident("abnormal_token_rate", digest, count)

    def _incident(self, kind: str, subject: str, count: int,
                  block: str | None = None) -> Incident:
        brute = self.settings.brute_force
        blocked_for = 0.0
        if block is not None and self.block_mode and block not in self.allowed_clients:
            blocked_for = brute.block_ttl
            self.blocklist.block(block, blocked_for)
            self.metrics.blocked.set(self.blocklist.active())
        action = "blocked" if blocked_for else "detected"
        incident = Incident(kind, subject, count, brute.window, blocked_for)
        self.metrics.event("brute_force" if kind.startswith("brute") else "abuse", "high",
                           action)
        _log.error("possible %s: %d failures for %s in %ss%s", kind.replace("_", " "), count,
                   subject, brute.window,
                   f"; blocked for {blocked_for:g}s" if blocked_for else "",
                   extra={"security": {"incident": kind, "subject": subject, "count": count,
                                       "blocked_for": blocked_for}})
        self.audit_event("incident", kind=kind, subject=subject, count=count,
                         window=brute.window, action=action)
        if blocked_for:
            self.audit_event("client_blocked", client=block, ttl=blocked_for,
                             reason=kind)
        for callback in list(self.callbacks):
            try:
                callback(incident)
            except Exception:
                self.registry.internal_error("security_incident_callback")
        dispatcher = self.dispatcher
        if dispatcher is not None:
            now = datetime.fromtimestamp(self.wall_clock(), UTC)
            dispatcher.submit(lambda: incident_alerts(
                incident, service=self.service, environment=self.environment,
                subject_policy=self.settings.alert_subject, now=now))
        return incident

    def refresh_gauges(self) -> None:
        """Before each scrape: expired blocks leave the gauge too."""
        self.metrics.blocked.set(self.blocklist.active())

    def close(self) -> None:
        if self.shared is not None:
            self.shared.close()
        limiter = self.limiter
        if limiter is not None:
            for bound in limiter.rules:
                close = getattr(bound.counter, "close", None)
                if close is not None:
                    close()


_SEVERITY = {"low": 1, "medium": 2, "high": 3, "critical": 4}


def _finding_fields(finding: Finding) -> dict[str, Any]:
    return {"rule": finding.rule_id, "category": finding.category,
            "severity": finding.severity, "location": finding.location,
            "offset": finding.offset, "length": finding.length}
