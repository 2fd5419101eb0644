"""Serving watchkeeper's own endpoints from either middleware, never failing the app."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping

import orjson

from .._http_types import Endpoint, EndpointRequest, EndpointResponse

__all__ = ["error_response", "is_async", "method_not_allowed"]

_log = logging.getLogger("watchkeeper")
_ALLOWED = ("GET", "HEAD")


def is_async(endpoint: Endpoint) -> bool:
    call = getattr(endpoint, "__call__", None)  # noqa: B004 - objects with async __call__
    return inspect.iscoroutinefunction(endpoint) or inspect.iscoroutinefunction(call)


def method_not_allowed(method: str) -> EndpointResponse | None:
    if method in _ALLOWED:
        return None
    return EndpointResponse(405, b'{"error":"method not allowed"}', "application/json",
                            [("allow", ", ".join(_ALLOWED))])


def error_response(exc: BaseException, path: str) -> EndpointResponse:
    """A failing endpoint answers 500 with a reason; the host app is never affected."""
    from .._runtime import registry

    registry().internal_error("endpoint")
    _log.exception("watchkeeper endpoint %s failed", path, exc_info=exc)
    body = orjson.dumps({"error": f"{type(exc).__name__} in watchkeeper endpoint {path}"})
    return EndpointResponse(500, body, "application/json")


def make_request(method: str, path: str, query: str, headers: Mapping[str, str],
                 params: dict[str, str]) -> EndpointRequest:
    from urllib.parse import parse_qsl

    return EndpointRequest(method=method, path=path, query=dict(parse_qsl(query)),
                           headers=headers, path_params=params)


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

