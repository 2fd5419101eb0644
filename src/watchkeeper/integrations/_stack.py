"""Assemble, from the settings, what the middleware runs: hooks and endpoints.

Each SDK stage contributes here and nowhere else in the integrations, so adding a stage
is one block in :func:`build_stack`.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any

from .._http_types import Endpoint, RequestHook
from ..config import Settings

__all__ = ["BODY_KEY", "BODY_METHODS", "Stack", "StackMiddleware", "build_stack",
           "hook_failed"]

BODY_KEY = "watchkeeper.body"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Stack:
    """Everything one instrumented app runs per request."""

    hooks: list[RequestHook] = field(default_factory=list)
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    # "/health/component/{name}" style endpoints: (prefix, parameter name, endpoint).
    prefix_endpoints: list[tuple[str, str, Endpoint]] = field(default_factory=list)
    excluded_exact: frozenset[str] = frozenset()
    excluded_patterns: tuple[str, ...] = ()
    unmatched_route: str = "<unmatched>"
    # > 0: the middleware buffers up to this many request-body bytes into
    # record.state[BODY_KEY] before the hooks run (opt-in body inspection), and replays
    # them to the app. 0 (the default) leaves the request path untouched.
    body_limit: int = 0
    # What every served path starts with: one startswith() tells most requests apart.
    endpoint_starts: tuple[str, ...] = field(init=False, default=())

    def add_endpoint(self, path: str, endpoint: Endpoint) -> None:
        """Serve ``path``; a trailing ``{param}`` segment matches one path segment."""
        if path.endswith("}") and "{" in path:
            prefix, _, param = path.rpartition("{")
            self.prefix_endpoints.append((prefix, param[:-1], endpoint))
            self.endpoint_starts += (prefix,)
        else:
            self.endpoints[path] = endpoint
            self.endpoint_starts += (path,)

    @property
    def adds_response_headers(self) -> bool:
        """Whether a hook adds headers to responses (which a crash's 500 must carry)."""
        return any(getattr(hook, "adds_response_headers", False) for hook in self.hooks)

    def find_endpoint(self, path: str) -> tuple[Endpoint, dict[str, str]] | None:
        endpoint = self.endpoints.get(path)
        if endpoint is not None:
            return endpoint, {}
        for prefix, param, candidate in self.prefix_endpoints:
            if path.startswith(prefix):
                rest = path[len(prefix) :]
                if rest and "/" not in rest:
                    return candidate, {param: rest}
        return None

    def __post_init__(self) -> None:
        self.endpoint_starts = (*self.endpoints, *(p for p, _, _ in self.prefix_endpoints))
        # "/health*" is by far the common form: a startswith() tuple, not a glob per request.
        simple = [p[:-1] for p in self.excluded_patterns
                  if p.endswith("*") and not _is_pattern(p[:-1])]
        globs = [p for p in self.excluded_patterns if p[:-1] not in simple]
        self._prefixes = tuple(simple)
        self._globs = re.compile("|".join(fnmatch.translate(g) for g in globs)) if globs else None

    def is_excluded(self, path: str) -> bool:
        if path in self.excluded_exact or path.startswith(self._prefixes):
            return True
        return self._globs is not None and self._globs.match(path) is not None


def build_stack(settings: Settings) -> Stack:
    """The hooks and endpoints the settings turn on, in the order they must run."""
    exact = frozenset(p for p in settings.metrics.exclude_paths if not _is_pattern(p))
    patterns = tuple(p for p in settings.metrics.exclude_paths if _is_pattern(p))
    stack = Stack(excluded_exact=exact, excluded_patterns=patterns,
                  unmatched_route=settings.metrics.unmatched_route)
    if settings.logs.enabled:
        from .. import logs

        # First, so the request id is bound before any other stage logs or records it.
        stack.hooks.append(logs.request_hook(settings))
    if settings.metrics.enabled:
        from .._runtime import registry
        from ..metrics import HttpServerHook, metrics_endpoint

        # Before security, so requests it answers (403, 429) are still counted.
        stack.hooks.append(HttpServerHook(registry(), settings.metrics))
        stack.add_endpoint(settings.metrics.path, metrics_endpoint(registry(), settings.metrics))
    if settings.security.enabled:
        # Before the app and every later stage: a blocked or rate-limited request costs
        # the app nothing.
        from ..security import SecurityHook, current

        guard = current()
        stack.hooks.append(SecurityHook(guard))
        if settings.security.inspect_body:
            stack.body_limit = settings.security.max_body_bytes
        if settings.security.compliance_endpoint:
            from ..security._endpoint import compliance_endpoint

            stack.add_endpoint("/health/compliance", compliance_endpoint(settings))
    if settings.errors.enabled and "requests" in settings.errors.hooks:
        from ..errors import request_hook as error_hook

        stack.hooks.append(error_hook(settings))
    # Tracing stays last: hooks run on_response in order, so the span (and the trace id
    # in the log context) is still current while the others write lines and events.
    if settings.traces.enabled is not False:
        from ..traces import request_hook as trace_hook

        span_hook = trace_hook(settings)
        if span_hook is not None:
            stack.hooks.append(span_hook)
    if settings.health.enabled:
        from ..health import endpoints as health_endpoints

        for path, endpoint in health_endpoints(settings).items():
            stack.add_endpoint(path, endpoint)
    if settings.notify.config_file is not None and settings.notify.api_prefix:
        from .._alerting import current_alertmanager, leader_socket
        from ..notify._api_views import endpoints as notify_endpoints

        for path, endpoint in notify_endpoints(current_alertmanager, settings.notify.api_prefix,
                                               leader_socket).items():
            stack.add_endpoint(path, endpoint)
    return stack


def _is_pattern(path: str) -> bool:
    return any(ch in path for ch in "*?[")


class StackMiddleware:
    """What the ASGI and WSGI middleware share: the wrapped app and a stack, built from
    the active settings on first use when not given."""

    def __init__(self, app: Any, stack: Stack | None = None) -> None:
        self.app = app
        self._stack = stack

    @property
    def stack(self) -> Stack:
        if self._stack is None:
            from .._runtime import settings

            self._stack = build_stack(settings())
        return self._stack


def hook_failed() -> None:
    """Count a hook that raised; the request goes on without it."""
    from .._runtime import registry

    registry().internal_error("request_hook")
