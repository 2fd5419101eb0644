"""The contract between the framework integrations and the stages that watch requests.

The integrations (ASGI, WSGI) run one middleware pass per request and call every
enabled stage's :class:`RequestHook`; stages never see framework objects. Stages that
serve paths (``/metrics``, ``/health/*``) provide :data:`Endpoint` callables, served by
the same middleware before the app routes the request.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "Endpoint",
    "EndpointRequest",
    "EndpointResponse",
    "RequestHook",
    "RequestRecord",
]


class RequestRecord:
    """One HTTP request as the middleware sees it; hooks read it and may annotate it.

    ``route`` (the matched template), ``status``, ``duration`` and the byte counts are
    final when :meth:`RequestHook.on_response` runs. Headers are read lazily from the
    server's own structure (ASGI scope or WSGI environ), so unused ones cost nothing.
    """

    __slots__ = (
        "_raw",
        "_request_bytes",
        "_resolve_route",
        "client",
        "duration",
        "exception",
        "method",
        "path",
        "query_string",
        "response_bytes",
        "response_headers",
        "route",
        "scheme",
        "start",
        "start_time",
        "state",
        "status",
    )

    def __init__(  # noqa: PLR0917 - positional on purpose: built once per request
        self,
        method: str,
        path: str,
        query_string: str,
        scheme: str,
        client: str | None,
        start: float,
        start_time: float,
        raw: Any,
        resolve_route: Callable[[Any], str | None] | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.query_string = query_string
        self.scheme = scheme
        self.client = client
        self.start = start
        self.start_time = start_time
        self._raw = raw
        self._resolve_route = resolve_route
        self.route: str | None = None
        self.status = 0
        self.duration = 0.0
        self._request_bytes = -1  # read from Content-Length when first asked
        self.response_bytes = 0
        self.exception: BaseException | None = None
        self.response_headers: list[tuple[str, str]] = []
        self.state: dict[str, Any] = {}

    @property
    def request_bytes(self) -> int:
        """The request body's size as its Content-Length says (0 without a valid one),
        unless the integration set it."""
        size = self._request_bytes
        if size < 0:
            length = self.header("content-length")
            size = self._request_bytes = (int(length) if length and length.isascii()
                                          and length.isdigit() else 0)
        return size

    @request_bytes.setter
    def request_bytes(self, size: int) -> None:
        self._request_bytes = size

    def current_route(self) -> str | None:
        """The matched route template so far: final once the response ends, earlier it is
        whatever the framework has matched yet (None before routing)."""
        if self.route is not None or self._resolve_route is None:
            return self.route
        return self._resolve_route(self._raw)

    def header(self, name: str) -> str | None:
        """The first value of request header ``name`` (case-insensitive), or None."""
        raw = self._raw
        if isinstance(raw, dict) and "headers" in raw and "type" in raw:  # ASGI scope
            wanted = name.lower().encode("latin-1")
            for key, value in raw["headers"]:
                if key == wanted:
                    return bytes(value).decode("latin-1")
            return None
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        value = raw.get(key)
        return None if value is None else str(value)

    def has_any_header(self, names: frozenset[str]) -> bool:
        """Whether any of the lower-case header ``names`` was sent: one pass over the
        headers, for hooks that usually find none."""
        raw = self._raw
        if isinstance(raw, dict) and "type" in raw and "headers" in raw:
            wanted = _ASGI_NAMES.get(names)
            if wanted is None:
                wanted = _asgi_names(names)
            for key, _ in raw["headers"]:  # noqa: SIM110 - no generator per request
                if key in wanted:
                    return True
            return False
        return any(key in raw for key in _wsgi_names(names))

    def headers(self) -> Iterator[tuple[str, str]]:
        """Every request header as (lower-case name, value)."""
        raw = self._raw
        if isinstance(raw, dict) and "headers" in raw and "type" in raw:
            for key, value in raw["headers"]:
                yield bytes(key).decode("latin-1"), bytes(value).decode("latin-1")
            return
        for key, value in raw.items():
            if key.startswith("HTTP_"):
                yield key[5:].lower().replace("_", "-"), str(value)
            elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
                yield key.lower().replace("_", "-"), str(value)

    @property
    def server_state(self) -> MutableMapping[str, Any]:
        """The ASGI scope or WSGI environ, for hooks that must leave a mark for the app."""
        raw: MutableMapping[str, Any] = self._raw
        return raw


_ASGI_NAMES: dict[frozenset[str], frozenset[bytes]] = {}


def _asgi_names(names: frozenset[str]) -> frozenset[bytes]:
    """The byte names ASGI servers send; remembered per name set (hooks use a few fixed
    sets, a plain dict lookup is cheaper than ``lru_cache``'s call)."""
    encoded = frozenset(name.encode("latin-1") for name in names)
    if len(_ASGI_NAMES) < 64:
        _ASGI_NAMES[names] = encoded
    return encoded


@functools.lru_cache(maxsize=32)
def _wsgi_names(names: frozenset[str]) -> tuple[str, ...]:
    keys = (name.upper().replace("-", "_") for name in names)
    return tuple(key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key
                 for key in keys)


class RequestHook(Protocol):
    """What a stage does around each (non-excluded) request.

    Both methods run on the request's own task or thread, so context variables set in
    ``on_request`` are visible to the application and can be reset in ``on_response``.
    Neither may raise: the middleware counts and swallows hook failures.
    """

    def on_request(self, record: RequestRecord) -> EndpointResponse | None:
        """Before the app runs. Returning a response answers the request without the app
        (a blocked or rate-limited client); hooks may add ``record.response_headers``."""
        ...

    def on_response(self, record: RequestRecord) -> None:
        """After the last response byte was sent, or after the app raised."""
        ...


@dataclass(frozen=True, slots=True)
class EndpointRequest:
    """A request to one of watchkeeper's own endpoints, framework-free."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    path_params: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    """Read only for endpoints that accept a method with a body (see ``allowed_methods``)."""

    def accepts(self, media_type: str) -> bool:
        return media_type in self.headers.get("accept", "")


@dataclass(slots=True)
class EndpointResponse:
    status: int
    body: bytes
    content_type: str
    headers: list[tuple[str, str]] = field(default_factory=list)


Endpoint = Callable[[EndpointRequest], EndpointResponse | Awaitable[EndpointResponse]]
"""A sync endpoint runs in a worker thread under ASGI (never on the event loop); an async
one runs on the loop under ASGI and on watchkeeper's background loop under WSGI.
Endpoints answer GET and HEAD unless they carry an ``allowed_methods`` tuple."""
