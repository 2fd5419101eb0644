"""The security stage as a middleware hook: blocks, rate limits and inspection before the
app; authentication outcomes on configured login routes after it."""

from __future__ import annotations

import fnmatch
import math
import re

import orjson

from .._http_types import EndpointResponse, RequestRecord
from ._guard import Guard

__all__ = ["SecurityHook"]

_CLIENT = "watchkeeper.security.client"
_ANSWERED = "watchkeeper.security.answered"
_FORBIDDEN = orjson.dumps({"error": "forbidden", "reason": "request blocked by security "
                                                           "policy"})


class SecurityHook:
    """Runs first among hooks, so a refused request costs the app nothing.

    Order: temporary block (403, block mode) → rate limits (429) → inspection of path,
    query and the configured headers (403 in block mode, findings recorded in both).
    """

    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        settings = guard.settings
        self._wanted_asgi = {name.encode("latin-1"): f"header:{name}"
                             for name in settings.inspect_headers}
        self._wanted_wsgi = tuple(
            ("HTTP_" + name.upper().replace("-", "_")
             if name not in ("content-type", "content-length")
             else name.upper().replace("-", "_"), f"header:{name}")
            for name in settings.inspect_headers)
        self._allow = _globs(settings.allow_paths)
        brute = settings.brute_force
        self._login = _globs(brute.login_routes) if brute.enabled else None
        self._token_header = brute.token_header if guard.by_token is not None else None

    def on_request(self, record: RequestRecord) -> EndpointResponse | None:
        guard = self.guard
        client = guard.clients.resolve(record)
        record.state[_CLIENT] = client
        if guard.blocklist and client is not None:
            left = guard.blocklist.remaining(client)
            if left:
                guard.metrics.event("blocked_client", "high", "blocked")
                return self._refuse(record, 403, [("retry-after", str(math.ceil(left)))])
        if guard.limiter is not None and client not in guard.allowed_clients:
            refused = guard.limiter.check(record.path, client, record.header)
            if refused is not None:
                decision, rule = refused
                guard.metrics.rate_limited.labels(decision.scope).inc()
                return self._refuse(record, 429, decision.headers(rule.window),
                                    b'{"error":"rate limit exceeded"}')
        if self._token_header is not None:
            token = record.header(self._token_header)
            if token:
                guard.token_seen(token, client)
        path = record.path
        if self._allow is not None and self._allow.match(path) is not None:
            return None
        inspector = guard.inspector
        findings = inspector.inspect_url(path, record.query_string)
        inspect = inspector.inspect
        raw = record.server_state
        asgi_headers = raw.get("headers") if "type" in raw else None
        if asgi_headers is not None:
            # One pass over the ASGI header list instead of one lookup per wanted name.
            wanted = self._wanted_asgi
            for name, value in asgi_headers:
                location = wanted.get(name)
                if location is not None and value:
                    findings += inspect(location, bytes(value).decode("latin-1"))
        else:
            for key, location in self._wanted_wsgi:
                value = raw.get(key)
                if value:
                    findings += inspect(location, str(value))
        body = record.state.get("watchkeeper.body")
        if body and guard.settings.inspect_body:
            findings += guard.inspector.inspect_body(body)
        if not findings:
            return None
        action = guard.findings_seen(findings, client, record.method, path)
        if action == "blocked":
            return self._refuse(record, 403, [])
        return None

    def _refuse(self, record: RequestRecord, status: int, headers: list[tuple[str, str]],
                body: bytes = _FORBIDDEN) -> EndpointResponse:
        record.state[_ANSWERED] = True
        return EndpointResponse(status, body, "application/json", headers)

    def on_response(self, record: RequestRecord) -> None:
        login = self._login
        if login is None or login.match(record.path) is None:
            return
        status = record.status
        if (status not in (401, 403) and not 200 <= status < 300) or \
                record.state.get(_ANSWERED):
            return
        client = record.state.get(_CLIENT)
        if status in (401, 403):
            self.guard.auth_failed(None, client, reason=f"status_{status}")
        else:
            self.guard.auth_succeeded(None, client)


def _globs(patterns: list[str]) -> re.Pattern[str] | None:
    """One compiled regex for a list of path globs (None when the list is empty)."""
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))
