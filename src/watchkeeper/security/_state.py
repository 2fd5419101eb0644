"""The process-wide guard, rebuilt whenever the active settings or registry change."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Settings
    from ._guard import Guard, Incident, IncidentCallback
    from ._incidents import IncidentSink, SinkDispatcher

__all__ = ["auth_failed", "auth_succeeded", "configure", "current", "on_incident", "reset",
           "set_incident_sink"]

_lock = threading.Lock()
_guard: Guard | None = None
_callbacks: list[IncidentCallback] = []
_dispatcher: SinkDispatcher | None = None


def configure(settings: Settings) -> Guard:
    """Build the guard for ``settings`` (``init()`` calls this): patterns are compiled
    and checked here, so a bad custom rule fails at start-up, not on a request.

    Raises:
        PatternRejectedError: a pattern that cannot run in linear time.
    """
    global _guard
    from .. import _runtime
    from ._guard import Guard

    guard = Guard(settings.security, _runtime.registry(), service=settings.service.name,
                  environment=settings.service.environment)
    guard.callbacks.extend(_callbacks)
    guard.dispatcher = _dispatcher
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
    """Forget the guard, incident callbacks and sink (tests)."""
    global _guard, _dispatcher
    with _lock:
        old, _guard = _guard, None
        _callbacks.clear()
        dispatcher, _dispatcher = _dispatcher, None
    if old is not None:
        old.close()
    if dispatcher is not None:
        dispatcher.close()


def auth_failed(user: str | None = None, ip: str | None = None,
                reason: str = "invalid_credentials") -> list[Incident]:
    """Report a failed login; returns the incidents it triggered (usually none).

    With a shared (Redis) brute-force storage the count is decided off the request path,
    so incidents arrive through :func:`on_incident` / :func:`set_incident_sink` instead
    and this returns none (unless Redis is down and this process decides alone).

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


def set_incident_sink(sink: IncidentSink | None) -> None:
    """Hand brute-force and abuse incidents, and the temporary blocks they cause, to
    ``sink`` as Alertmanager-style alerts (``None`` stops it).

    The sink is called on its own thread, never on a request: e.g. the in-process
    :class:`~watchkeeper.notify.AlertManager`'s ``put``. Labels: ``alertname``
    (``SecurityBruteForce``, ``SecurityAbnormalTokenRate``, ``SecurityClientBlocked``),
    ``severity``, ``category``, ``kind``, ``service``, ``environment`` and the subject
    (``client``/``user``, hashed unless ``security.alert_subject`` says otherwise);
    ``endsAt`` is the end of the block (or of the counting window).
    """
    global _dispatcher
    from .. import _runtime
    from ._incidents import SinkDispatcher

    new = None
    if sink is not None:
        new = SinkDispatcher(sink, lambda component: _runtime.registry().internal_error(
            component))
    with _lock:
        old, _dispatcher = _dispatcher, new
        if _guard is not None:
            _guard.dispatcher = new
    if old is not None:
        old.close()
