"""Turning an exception or a message into an event, and an event into an issue.

The path of one event: ignore rules → event (frames, redacted text, request, trace and
service identity) → ``before_send`` → sampling → grouping → per-fingerprint rate limit →
sinks. Nothing here raises into the application: failures are counted and swallowed.
"""

from __future__ import annotations

import contextlib
import fnmatch
import importlib
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..exceptions import ErrorCaptureError
from ..logs import _context
from ._fingerprint import exception_fingerprint, message_fingerprint
from ._frames import InAppRule, frames_of, safe_repr
from ._store import IssueStore

if TYPE_CHECKING:
    from .._http_types import RequestRecord
    from ..config import Settings
    from ..logs import Redactor
    from ._sinks import EventSink

__all__ = ["BeforeSend", "ErrorCapture"]

BeforeSend = Callable[[dict[str, Any]], dict[str, Any] | None]
_log = logging.getLogger("watchkeeper.errors")
_MARK = "__watchkeeper_captured__"
_MAX_CHAIN = 5


class ErrorCapture:
    """Everything one configuration captures with: rules, redactor, store and sinks."""

    def __init__(self, settings: Settings, *, redactor: Redactor | None = None,
                 sinks: Sequence[EventSink] = (), clock: Callable[[], float] = time.time,
                 rng: Callable[[], float] = random.random) -> None:
        errors = settings.errors
        self.settings = errors
        self.service = settings.service
        self.redactor = redactor
        self.sinks = list(sinks)
        self.store = IssueStore(errors.max_issues, errors.samples_per_issue, clock)
        self.in_app = InAppRule(errors.in_app_include, errors.in_app_exclude)
        self.before_send = _resolve(errors.before_send)
        self._clock = clock
        self._rng = rng
        self._ignored_types = tuple(errors.ignore_exceptions)
        self._ignored_routes = _route_matcher(errors.ignore_routes)
        self._window: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()
        self._counter: Any = None
        self.dropped = {"ignored": 0, "before_send": 0, "sampled": 0, "rate_limited": 0}

    # -- rules ---------------------------------------------------------------------------
    def ignores_exception(self, exc: BaseException) -> bool:
        for cls in type(exc).__mro__:
            if cls.__name__ in self._ignored_types or \
                    f"{cls.__module__}.{cls.__qualname__}" in self._ignored_types:
                return True
        return False

    def ignores_route(self, route: str | None, path: str | None = None) -> bool:
        return any(value is not None and self._ignored_routes(value) for value in (route, path))

    # -- capture -----------------------------------------------------------------------------
    def capture_exception(self, exc: BaseException, *, tags: Mapping[str, Any] | None = None,
                          user: Mapping[str, Any] | None = None,
                          extra: Mapping[str, Any] | None = None,
                          record: RequestRecord | None = None, mechanism: str = "manual",
                          handled: bool = True) -> str | None:
        """Build, filter, group and send an event for ``exc``; its fingerprint or None."""
        if getattr(exc, _MARK, False) or self.ignores_exception(exc):
            self.dropped["ignored"] += 1
            return None
        route = record.route if record is not None else None
        if record is not None and self.ignores_route(route, record.path):
            self.dropped["ignored"] += 1
            return None
        with contextlib.suppress(Exception):  # exceptions with __slots__ stay unmarked
            setattr(exc, _MARK, True)
        values = self._chain(exc)
        outer = values[-1]
        event = self._base("error", outer["type"] + ": " + outer["value"], tags, user, extra)
        event["type"] = outer["type"]
        event["exception"] = {"values": values}
        event["mechanism"] = {"type": mechanism, "handled": handled}
        event["fingerprint"] = exception_fingerprint(outer["type"], outer["frames"])
        event["culprit"] = _culprit(outer["frames"])
        if record is not None:
            event["request"] = self._request(record)
        return self._process(event)

    def capture_message(self, message: str, *, level: str = "info",
                        tags: Mapping[str, Any] | None = None,
                        user: Mapping[str, Any] | None = None,
                        extra: Mapping[str, Any] | None = None) -> str | None:
        text = self._text(message)
        event = self._base(level, text, tags, user, extra)
        event["fingerprint"] = message_fingerprint(text, level)
        return self._process(event)

    # -- building -------------------------------------------------------------------------
    def _text(self, text: str) -> str:
        return self.redactor.redact_exception_text(text) if self.redactor else text

    def _chain(self, exc: BaseException) -> list[dict[str, Any]]:
        chain: list[BaseException] = []
        seen: set[int] = set()
        current: BaseException | None = exc
        while current is not None and id(current) not in seen and len(chain) < _MAX_CHAIN:
            seen.add(id(current))
            chain.append(current)
            current = current.__cause__ or (None if current.__suppress_context__
                                            else current.__context__)
        errors = self.settings
        values = []
        for item in reversed(chain):  # Sentry's order: innermost cause first
            kind = type(item)
            name = kind.__qualname__ if kind.__module__ in ("builtins", "__main__") \
                else f"{kind.__module__}.{kind.__qualname__}"
            try:
                message = str(item)
            except Exception:
                message = safe_repr(item)
            values.append({
                "type": name,
                "value": self._text(message),
                "frames": frames_of(item.__traceback__, self.in_app, errors.context_lines,
                                    self.redactor, errors.capture_locals),
            })
        return values

    def _base(self, level: str, message: str, tags: Mapping[str, Any] | None,
              user: Mapping[str, Any] | None, extra: Mapping[str, Any] | None
              ) -> dict[str, Any]:
        redact = self.redactor.redact if self.redactor else (lambda v: v)
        bound = _context.bound_fields()
        if user is None:
            found = bound.get("user") or bound.get("user_id")
            user = found if isinstance(found, Mapping) else (
                {"id": str(found)} if found is not None else None)
        event: dict[str, Any] = {
            "event_id": f"{random.getrandbits(128):032x}",
            "timestamp": self._clock(),
            "level": level,
            "message": message,
            "service": self.service.name,
            "release": self.service.version,
            "environment": self.service.environment,
            "tags": redact(dict(tags or {})),
            "user": redact(dict(user or {})),
            "extra": redact(dict(extra or {})),
            "trace_id": _context.trace_id.get(),
            "span_id": _context.span_id.get(),
            "request_id": _context.request_id.get(),
        }
        if event["trace_id"] is None:
            from ..traces import current_span_id, current_trace_id

            event["trace_id"], event["span_id"] = current_trace_id(), current_span_id()
        return event

    def _request(self, record: RequestRecord) -> dict[str, Any]:
        headers = list(record.headers())
        if self.redactor is not None:
            headers = self.redactor.redact_headers(headers)
        return {
            "method": record.method,
            "route": record.route,
            "path": self._text(record.path),
            "query_string": self._text(record.query_string),
            "headers": dict(headers),
            "status": record.status,
            "client": record.client,
        }

    # -- processing -----------------------------------------------------------------------
    def _process(self, event: dict[str, Any]) -> str | None:
        self._count(event)
        if self.before_send is not None:
            try:
                changed = self.before_send(event)
            except Exception:
                _log.exception("before_send failed; event sent unchanged")
                changed = event
            if changed is None:
                self.dropped["before_send"] += 1
                return None
            event = changed
        rate = self.settings.sample_rate
        if rate < 1.0 and self._rng() >= rate:
            self.dropped["sampled"] += 1
            return None
        allowed = self._allow(event["fingerprint"])
        self.store.add(event, keep_sample=allowed)
        if not allowed:
            self.dropped["rate_limited"] += 1
            return str(event["fingerprint"])
        for sink in self.sinks:
            try:
                sink.send(event)
            except Exception:
                _internal_error("errors.sink")
        return str(event["fingerprint"])

    def _allow(self, fingerprint: str) -> bool:
        limit = self.settings.rate_limit
        if limit <= 0:
            return True
        now = self._clock()
        with self._lock:
            start, count = self._window.get(fingerprint, (now, 0))
            if now - start >= self.settings.rate_window:
                start, count = now, 0
            count += 1
            if len(self._window) > 10_000:
                self._window.clear()
            self._window[fingerprint] = (start, count)
        return count <= limit

    def _count(self, event: dict[str, Any]) -> None:
        try:
            if self._counter is None:
                from .. import _runtime

                registry = _runtime.registry()
                self._counter = registry.counter(
                    registry.full_name("errors_total"),
                    "Errors captured, by exception type and route.", ("type", "route"))
            route = (event.get("request") or {}).get("route") or ""
            self._counter.labels(event.get("type") or "message", route).inc()
        except Exception:
            _internal_error("errors.metrics")

    def close(self) -> None:
        for sink in self.sinks:
            try:
                sink.close()
            except Exception:
                _internal_error("errors.sink")


def _culprit(frames: Sequence[dict[str, Any]]) -> str:
    for frame in reversed(frames):
        if frame.get("in_app"):
            return f"{frame['module']} in {frame['function']}"
    if frames:
        return f"{frames[-1]['module']} in {frames[-1]['function']}"
    return ""


def _route_matcher(patterns: Sequence[str]) -> Callable[[str], bool]:
    if not patterns:
        return lambda _: False
    regex = re.compile("|".join(fnmatch.translate(p) for p in patterns))
    return lambda value: regex.match(value) is not None


def _resolve(value: Any) -> BeforeSend | None:
    if value is None or callable(value):
        return value  # type: ignore[no-any-return]
    module_name, _, attr = str(value).partition(":")
    try:
        found = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ErrorCaptureError(f"before_send {value!r} cannot be imported: {exc}") from exc
    if not callable(found):
        raise ErrorCaptureError(f"before_send {value!r} is not callable")
    return found  # type: ignore[no-any-return]


def _internal_error(component: str) -> None:
    try:
        from .. import _runtime

        _runtime.registry().internal_error(component)
    except Exception:
        pass
