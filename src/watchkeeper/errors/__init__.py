"""Errors: capture (requests, threads, asyncio, interpreter, by hand), fingerprinting and
grouping into issues, with redaction, rules and limits; sinks are the in-process store,
the hub and Sentry. ``watchkeeper.init()`` calls :func:`configure`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._capture import BeforeSend, ErrorCapture
from ._fingerprint import exception_fingerprint, message_fingerprint, normalise_message
from ._sinks import EventSink, HubSink, SentrySink, to_sentry
from ._store import Issue, IssueStore

if TYPE_CHECKING:
    from .._http_types import RequestRecord
    from ..config import Settings
    from ._hooks import ErrorRequestHook

__all__ = [
    "BeforeSend",
    "ErrorCapture",
    "EventSink",
    "HubSink",
    "Issue",
    "IssueStore",
    "SentrySink",
    "capture_exception",
    "capture_message",
    "configure",
    "current",
    "exception_fingerprint",
    "issue",
    "issues",
    "message_fingerprint",
    "normalise_message",
    "request_hook",
    "reset",
    "to_sentry",
]

_lock = threading.Lock()
_current: ErrorCapture | None = None


def current() -> ErrorCapture | None:
    """The active capture configuration, or None when error capture is off."""
    return _current


def configure(settings: Settings, sinks: list[EventSink] | None = None) -> ErrorCapture | None:
    """Set up error capture from ``settings.errors`` (called by ``watchkeeper.init()``);
    issues captured under an earlier configuration are kept."""
    global _current
    from ..traces import redactor_for

    with _lock:
        old = _current
        if not settings.errors.enabled:
            _current = None
            if old is not None:
                old.close()
            return None
        errors = settings.errors
        all_sinks: list[EventSink] = list(sinks or [])
        if errors.hub_url:
            all_sinks.append(HubSink(errors.hub_url))
        if errors.sentry_dsn:
            try:
                all_sinks.append(SentrySink(errors.sentry_dsn, release=settings.service.version,
                                            environment=settings.service.environment))
            except ImportError as exc:
                from ..exceptions import ErrorCaptureError

                raise ErrorCaptureError(
                    "errors.sentry_dsn is set but sentry-sdk is not installed: "
                    "pip install 'watchkeeper[sentry]'") from exc
        capture = ErrorCapture(settings, redactor=redactor_for(settings), sinks=all_sinks)
        if old is not None:
            capture.store = old.store
            old.close()
        _current = capture
    from ._hooks import install_process_hooks

    install_process_hooks(_capture_unhandled, [h for h in errors.hooks if h != "requests"])
    return capture


def reset() -> None:
    """Forget the configuration and every issue (tests)."""
    global _current
    with _lock:
        old, _current = _current, None
    if old is not None:
        old.close()


def _capture_unhandled(exc: BaseException, **kwargs: Any) -> str | None:
    capture = _current
    return None if capture is None else capture.capture_exception(exc, **kwargs)


def capture_exception(exc: BaseException | None = None, *,
                      tags: Mapping[str, Any] | None = None,
                      user: Mapping[str, Any] | None = None,
                      extra: Mapping[str, Any] | None = None) -> str | None:
    """Record ``exc`` (default: the one being handled) as an error event.

    Returns the fingerprint of its issue, or None when nothing was recorded (capture
    off, ignored, dropped by ``before_send`` or sampling).

    Example::

        try:
            charge(order)
        except PaymentError as exc:
            watchkeeper.capture_exception(exc, tags={"provider": "stripe"},
                                          user={"id": order.user_id})
    """
    import sys

    capture = _current
    if capture is None:
        return None
    if exc is None:
        exc = sys.exc_info()[1]
        if exc is None:
            return None
    try:
        return capture.capture_exception(exc, tags=tags, user=user, extra=extra)
    except Exception:
        _internal_error()
        return None


def capture_message(message: str, *, level: str = "info",
                    tags: Mapping[str, Any] | None = None,
                    user: Mapping[str, Any] | None = None,
                    extra: Mapping[str, Any] | None = None) -> str | None:
    """Record a message as an event (grouped by its text with numbers and ids removed).

    Example::

        watchkeeper.capture_message("refund above limit", level="warning",
                                    extra={"amount": 1200})
    """
    capture = _current
    if capture is None:
        return None
    try:
        return capture.capture_message(message, level=level, tags=tags, user=user,
                                       extra=extra)
    except Exception:
        _internal_error()
        return None


def issues() -> list[Issue]:
    """Every issue in the in-process store, most recently seen first."""
    capture = _current
    return [] if capture is None else capture.store.issues()


def issue(fingerprint: str) -> Issue | None:
    """One issue by fingerprint."""
    capture = _current
    return None if capture is None else capture.store.get(fingerprint)


def request_hook(settings: Settings) -> ErrorRequestHook:
    """The middleware hook that captures exceptions raised by request handlers."""
    from ._hooks import ErrorRequestHook

    def capture(exc: BaseException, *, record: RequestRecord, **kwargs: Any) -> None:
        active = _current
        if active is None:
            return
        try:
            active.capture_exception(exc, record=record, **kwargs)
        except Exception:
            _internal_error()

    return ErrorRequestHook(capture, "asyncio" in settings.errors.hooks)


def _internal_error() -> None:
    try:
        from .. import _runtime

        _runtime.registry().internal_error("errors")
    except Exception:
        pass
