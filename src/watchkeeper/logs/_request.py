"""Request logging: the request id and the one access line per request.

The hook validates an incoming ``X-Request-ID`` (bounded length, safe charset; anything
else is replaced, so a client cannot inject text into every log line), binds it to the
request's context, echoes it in the response, and writes one line at the HTTP level
when the response is done: WARNING if slower than the threshold, ERROR if the app raised.
"""

from __future__ import annotations

import ipaddress
import os
import re
from typing import TYPE_CHECKING, Any

from .._http_types import EndpointResponse, RequestRecord
from . import _context
from ._logger import state
from ._pipeline import HTTP

if TYPE_CHECKING:
    from ..config import LogsSettings

__all__ = ["RequestLogHook"]

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]+$")
_Net = ipaddress.IPv4Network | ipaddress.IPv6Network


class RequestLogHook:
    """A :class:`~watchkeeper._http_types.RequestHook` for request ids and access lines."""

    logger_name = "watchkeeper.access"

    def __init__(self, settings: LogsSettings, *, new_id: Any = None) -> None:
        import logging

        access = settings.access_log
        self.header = access.request_id_header
        self.trust = access.trust_request_id
        self.max_len = access.max_request_id_length
        self.slow = access.slow_threshold
        self.debug = access.debug
        self.access_enabled = access.enabled
        # 128 random bits as 32 hex digits (the shape of uuid4().hex, a sixth of its cost).
        self._new_id = new_id or (lambda: os.urandom(16).hex())
        self._trusted: list[_Net] = []
        for item in access.trusted_proxies:
            self._trusted.append(ipaddress.ip_network(item, strict=False))
        self._std = logging.getLogger(self.logger_name)

    # -- ids -----------------------------------------------------------------------------
    def request_id_for(self, incoming: str | None) -> str:
        if (self.trust and incoming and len(incoming) <= self.max_len
                and _SAFE_ID.match(incoming)):
            return incoming
        return str(self._new_id())

    def client_ip(self, record: RequestRecord) -> str | None:
        peer = record.client
        if not self._trusted or peer is None or not self._is_trusted(peer):
            return peer
        forwarded = record.header("x-forwarded-for")
        if not forwarded:
            return peer
        # Walk from the right: the first hop that is not one of our proxies is the client.
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                return hop
        return hops[0] if hops else peer

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self._trusted)

    adds_response_headers = True
    """The request id header, on every response (the 500 of a crash included)."""

    # -- hook ------------------------------------------------------------------------------
    def on_request(self, record: RequestRecord) -> EndpointResponse | None:
        _context.ensure_context_executor()
        rid = self.request_id_for(record.header(self.header))
        record.state["logs.request_id"] = rid
        record.state["logs.token"] = _context.request_id.set(rid)
        record.response_headers.append((self.header, rid))
        pipeline = state.pipeline
        # Opted in by settings, so written at the access level (not hidden behind DEBUG).
        if self.debug and pipeline is not None and self._std.isEnabledFor(HTTP):
            red = pipeline.redactor
            headers = list(record.headers())
            shown = red.redact_headers(headers) if red is not None else headers
            query = red.redact_str(record.query_string) if red is not None else record.query_string
            pipeline.emit(HTTP, self.logger_name, "request headers",
                          {"method": record.method, "path": record.path, "query": query,
                           "headers": dict(shown)})
        return None

    def on_response(self, record: RequestRecord) -> None:
        try:
            self._access_line(record)
        finally:
            token = record.state.pop("logs.token", None)
            raw = record.server_state
            if record.exception is not None and raw.get("type") == "http":
                # ASGI servers log the exception ("Exception in ASGI application") after
                # the middleware returned, in the request's own task: keep the id for that
                # line. The task's context ends with the request.
                token = None
            if token is not None:
                try:
                    _context.request_id.reset(token)
                except ValueError:  # finished in another context than it started
                    _context.request_id.set(None)

    def _access_line(self, record: RequestRecord) -> None:
        pipeline = state.pipeline
        if pipeline is None or not self.access_enabled:
            return
        duration = record.duration
        if record.exception is not None:
            level = 40
        elif duration >= self.slow > 0:
            level = 30
        else:
            level = HTTP
        if not self._std.isEnabledFor(level):
            return
        route = record.route
        fields: dict[str, Any] = {
            "method": record.method,
            "route": route,
            "path": record.path,
            "status": record.status,
            "duration_ms": round(duration * 1000, 3),
            "bytes_in": record.request_bytes,
            "bytes_out": record.response_bytes,
            "client_ip": self.client_ip(record) if self._trusted else record.client,
            "user_agent": record.header("user-agent"),
        }
        if level == 30:
            fields["slow"] = True
        if record.query_string and self.debug:
            fields["query"] = record.query_string
        if route is not None:
            # Same object as the template: the pipeline redacts it once (a cache hit).
            message = template = f"{record.method} {route} {record.status}"
        else:
            message = f"{record.method} {record.path} {record.status}"
            template = f"{record.method} <unmatched> {record.status}"
        pipeline.emit(level, self.logger_name, message, fields, template=template)
