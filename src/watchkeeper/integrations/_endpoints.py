"""Serving watchkeeper's own endpoints from either middleware, never failing the app."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping

import orjson

from .._http_types import Endpoint, EndpointRequest, EndpointResponse

__all__ = ["MAX_ENDPOINT_BODY", "body_too_large", "error_response", "is_async",
           "method_not_allowed", "wants_body"]

_log = logging.getLogger("watchkeeper")
_ALLOWED = ("GET", "HEAD")
MAX_ENDPOINT_BODY = 1 << 20  # silences and alerts are small; more is refused with 413


def is_async(endpoint: Endpoint) -> bool:
    call = getattr(endpoint, "__call__", None)  # noqa: B004 - objects with async __call__
    return inspect.iscoroutinefunction(endpoint) or inspect.iscoroutinefunction(call)


def method_not_allowed(method: str, endpoint: Endpoint | None = None) -> EndpointResponse | None:
    allowed: tuple[str, ...] = getattr(endpoint, "allowed_methods", _ALLOWED)
    if method in allowed:
        return None
    return EndpointResponse(405, b'{"error":"method not allowed"}', "application/json",
                            [("allow", ", ".join(allowed))])


def wants_body(method: str) -> bool:
    return method in ("POST", "PUT", "PATCH", "DELETE")


def body_too_large() -> EndpointResponse:
    return EndpointResponse(413, b'{"error":"request body too large"}', "application/json")


def error_response(exc: BaseException, path: str) -> EndpointResponse:
    """A failing endpoint answers 500 with a reason; the host app is never affected."""
    from .._runtime import registry

    registry().internal_error("endpoint")
    _log.exception("watchkeeper endpoint %s failed", path, exc_info=exc)
    body = orjson.dumps({"error": f"{type(exc).__name__} in watchkeeper endpoint {path}"})
    return EndpointResponse(500, body, "application/json")


def make_request(method: str, path: str, query: str, headers: Mapping[str, str],
                 params: dict[str, str], *, body: bytes = b"") -> EndpointRequest:
    from urllib.parse import parse_qsl

    return EndpointRequest(method=method, path=path, query=dict(parse_qsl(query)),
                           headers=headers, path_params=params, body=body)


def call_sync(endpoint: Endpoint, request: EndpointRequest) -> EndpointResponse:
    """Run an endpoint from a thread: sync directly, async on the background loop."""
    result = endpoint(request)
    if inspect.isawaitable(result):
        from .._background import run_coroutine

        async def wait() -> EndpointResponse:
            return await result

        return run_coroutine(wait())
    return result


def response_headers(response: EndpointResponse) -> list[tuple[str, str]]:
    return [("content-type", response.content_type),
            ("content-length", str(len(response.body))),
            ("cache-control", "no-store"), *response.headers]

