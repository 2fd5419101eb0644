"""The process-wide guard, rebuilt whenever the active settings or registry change."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Settings
    from ._guard import Guard, Incident, IncidentCallback

__all__ = ["auth_failed", "auth_succeeded", "configure", "current", "on_incident", "reset"]

_lock = threading.Lock()
_guard: Guard | None = None
_callbacks: list[IncidentCallback] = []


def configure(settings: Settings) -> Guard:
    """Build the guard for ``settings`` (``init()`` calls this): patterns are compiled
    and checked here, so a bad custom rule fails at start-up, not on a request.

    Raises:
        PatternRejectedError: a pattern that cannot run in linear time.
    """
    global _guard
    from .. import _runtime
    from ._guard import Guard

    guard = Guard(settings.security, _runtime.registry())
    guard.callbacks.extend(_callbacks)
    with _lock:
        old, _guard = _guard, guard
    if old is not None:
        old.close()
    guard.audit_event("config_loaded", mode=settings.security.mode,
                      engine=guard.inspector.engine, rules=len(guard.inspector.rules),
                      rate_limits=len(settings.security.rate_limits.rules))
    return guard


def current() -> Guard:
    """The guard of the active settings and registry (built on first use)."""
    from .. import _runtime

    guard = _guard
    settings = _runtime.settings()
    if guard is None or guard.settings is not settings.security or \
            guard.registry is not _runtime.registry():
        guard = configure(settings)
    return guard


def reset() -> None:
    """Forget the guard and incident callbacks (tests)."""
    global _guard
    with _lock:
        old, _guard = _guard, None
        _callbacks.clear()
    if old is not None:
        old.close()


def auth_failed(user: str | None = None, ip: str | None = None,
                reason: str = "invalid_credentials") -> list[Incident]:
    """Report a failed login; returns the incidents it triggered (usually none).

    Example::

        if not check_password(user, password):
            watchkeeper.security.auth_failed(user, request.client.host)
    """
    return current().auth_failed(user, ip, reason)


def auth_succeeded(user: str | None = None, ip: str | None = None) -> None:
    """Report a successful login: clears the failure counts of ``user`` and ``ip``."""
    current().auth_succeeded(user, ip)


def on_incident(callback: IncidentCallback) -> None:
    """Call ``callback(incident)`` for every brute-force or abuse incident (e.g. to page)."""
    _callbacks.append(callback)
    if _guard is not None:
        _guard.callbacks.append(callback)
