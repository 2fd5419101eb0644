"""The security stage as a middleware hook: blocks, rate limits and inspection before the
app; authentication outcomes on configured login routes after it."""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Callable

import orjson

from .._http_types import EndpointResponse, RequestRecord
from ._guard import Guard
from ._inspect import Finding

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
        inspector = guard.inspector
        # ASGI header name -> (location, the bytes-keyed verdict cache's get): a header
        # seen before costs one hash and one lookup, no decoding and no call.
        self._wanted_asgi: dict[bytes, tuple[str, Callable[[bytes], tuple[Finding, ...] |
                                                           None]]] = {
            name.encode("latin-1"): (f"header:{name}",
                                     inspector.raw_verdicts(f"header:{name}").entries.get)
            for name in settings.inspect_headers}
        self._wanted_wsgi = tuple(
            ("HTTP_" + name.upper().replace("-", "_")
             if name not in ("content-type", "content-length")
             else name.upper().replace("-", "_"), f"header:{name}")
            for name in settings.inspect_headers)
        self._allow = PathGlobs.of(settings.allow_paths)
        brute = settings.brute_force
        self._login = PathGlobs.of(brute.login_routes) if brute.enabled else None
        self._token_header = brute.token_header if guard.by_token is not None else None
        # No trusted proxy: the client is the peer (what the resolver would return).
        self._peer_is_client = not guard.clients.trusted
        self._blocked = guard.blocklist.until
        self._inspect_body = settings.inspect_body

    def on_request(self, record: RequestRecord) -> EndpointResponse | None:
        guard = self.guard
        client = record.client if self._peer_is_client else guard.clients.resolve(record)
        record.state[_CLIENT] = client
        if self._blocked and client is not None:
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
        if self._allow is not None and self._allow.match(path):
            return None
        inspector = guard.inspector
        findings = inspector.inspect_url(path, record.query_string)
        raw = record.server_state
        asgi_headers = raw.get("headers") if "type" in raw else None
        if asgi_headers is not None:
            # One pass over the ASGI header list instead of one lookup per wanted name.
            wanted = self._wanted_asgi
            for name, value in asgi_headers:
                known = wanted.get(name)
                if known is not None and value:
                    try:
                        found = known[1](value)
                    except TypeError:  # a bytearray: not hashable, inspected uncached
                        found = None
                    if found is None:
                        found = inspector.inspect_bytes(known[0], value)
                    if found:
                        findings += found
        else:
            inspect = inspector.inspect
            for key, location in self._wanted_wsgi:
                value = raw.get(key)
                if value:
                    findings += inspect(location, str(value))
        if self._inspect_body:
            body = record.state.get("watchkeeper.body")
            if body:
                findings += inspector.inspect_body(body)
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
        if login is None or not login.match(record.path):
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


class PathGlobs:
    """Whether a path matches one of a list of ``fnmatch`` globs (case-sensitive, ``*``
    crossing ``/``), as one compiled regex would say, but answered for the usual shapes
    (``/login``, ``/auth/*``) by a set lookup and one ``startswith``."""

    __slots__ = ("exact", "prefixes", "regex")

    def __init__(self, patterns: list[str]) -> None:
        exact = [p for p in patterns if not _has_magic(p)]
        prefixes = [p[:-1] for p in patterns if _is_prefix(p)]
        rest = [p for p in patterns if _has_magic(p) and not _is_prefix(p)]
        self.exact = frozenset(exact)
        self.prefixes = tuple(prefixes)
        self.regex = (re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in rest))
                      if rest else None)

    @classmethod
    def of(cls, patterns: list[str]) -> PathGlobs | None:
        """None for an empty list: the caller skips the test altogether."""
        return cls(patterns) if patterns else None

    def match(self, path: str) -> bool:
        if path in self.exact or path.startswith(self.prefixes):
            return True
        return self.regex is not None and self.regex.match(path) is not None


def _has_magic(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern or "[" in pattern


def _is_prefix(pattern: str) -> bool:
    """``/auth/*``: a literal followed by one trailing star."""
    return pattern.endswith("*") and not _has_magic(pattern[:-1])
