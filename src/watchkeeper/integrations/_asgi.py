"""Pure ASGI middleware: one pass per request for every stage, and watchkeeper's endpoints.

Never a second route match: the route template is read from what the framework already
matched (Starlette's ``scope["route"]``; Django leaves it in ``scope`` via our Django
middleware) after the app has run.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from time import perf_counter, time
from typing import Any

from .._http_types import EndpointResponse, RequestRecord
from ._endpoints import (
    MAX_ENDPOINT_BODY,
    body_too_large,
    error_response,
    is_async,
    make_request,
    method_not_allowed,
    wants_body,
)
from ._endpoints import response_headers as endpoint_headers
from ._stack import BODY_KEY, BODY_METHODS, StackMiddleware, hook_failed

__all__ = ["ASGIApp", "ErrorResponseHeaders", "WatchkeeperASGIMiddleware", "scope_route"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ROUTE_KEY = "watchkeeper.route"
EXCEPTION_KEY = "watchkeeper.exception"
ERROR_HEADERS_KEY = "watchkeeper.error_headers"


def scope_route(scope: Scope) -> str | None:
    """The template the framework matched: Starlette/FastAPI routes (including mounts), or
    the value a framework adapter stored under ``watchkeeper.route``."""
    route = scope.get("route")
    if route is None:
        return scope.get(ROUTE_KEY)
    known = _route_paths.get(id(route))
    if known is not None and known[0] is route:
        path: str | None = known[1]
    else:
        path = getattr(route, "path", None)
        if path is None:
            return None
        if _is_leaf_mount(route):
            path = f"{path}/{{path:path}}"
        if len(_route_paths) >= 4096:
            _route_paths.clear()
        _route_paths[id(route)] = (route, path)  # the route itself: ids are reused
    root = scope.get("root_path", "")
    if root:
        app_root = scope.get("app_root_path", root)
        if root != app_root and root.startswith(app_root):
            path = root[len(app_root) :] + path  # inside a mounted sub-application
    return path


_route_paths: dict[int, tuple[Any, str]] = {}
"""A route object's template (with a leaf mount's ``{path:path}``): routes live as long
as their app, and Starlette's are unhashable."""


def _is_leaf_mount(route: Any) -> bool:
    routing = sys.modules.get("starlette.routing")
    return routing is not None and isinstance(route, routing.Mount)


class WatchkeeperASGIMiddleware(StackMiddleware):
    """Wraps an ASGI app; ``stack`` decides what runs (see ``build_stack``)."""

    app: ASGIApp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                _start_loop_monitor()
                send = _flushing_at_shutdown(send)
            await self.app(scope, receive, send)
            return
        stack = self._stack or self.stack
        path: str = scope["path"]
        if path.startswith(stack.endpoint_starts):
            found = stack.find_endpoint(path)
            if found is not None:
                await self._serve_endpoint(scope, receive, send, *found)
                return
        if stack.is_excluded(path):
            await self.app(scope, receive, send)
            return
        # Everything below runs for every observed request: kept inline and flat on purpose.
        start = perf_counter()
        client = scope.get("client")
        record = RequestRecord(
            scope["method"], path, scope.get("query_string", b"").decode("latin-1"),
            scope.get("scheme", "http"), client[0] if client else None, start, time(), scope,
            scope_route,
        )
        if stack.body_limit and record.method in BODY_METHODS:
            receive = await _buffer_body(receive, record, stack.body_limit)
        hooks = stack.hooks
        started = 0
        end = 0.0
        try:
            for hook in hooks:
                started += 1
                try:
                    early = hook.on_request(record)
                except Exception:
                    hook_failed()
                    continue
                if early is not None:
                    await _send_response(send, early, record.response_headers)
                    record.status = early.status
                    record.response_bytes = len(early.body)
                    return

            async def send_wrapper(message: Message) -> None:
                nonlocal end
                kind = message["type"]
                if kind == "http.response.body":
                    record.response_bytes += len(message.get("body", b""))
                    if not message.get("more_body", False):
                        end = perf_counter()
                elif kind == "http.response.start":
                    record.status = message["status"]
                    if record.response_headers:
                        message["headers"] = [
                            *message.get("headers", ()),
                            *((k.encode("latin-1"), v.encode("latin-1"))
                              for k, v in record.response_headers),
                        ]
                await send(message)

            await self.app(scope, receive, send_wrapper)
        except BaseException as exc:
            record.exception = exc
            if record.status == 0:
                record.status = 499 if isinstance(exc, asyncio.CancelledError) else 500
                # The error response is sent further out (Starlette's
                # ServerErrorMiddleware): ErrorResponseHeaders adds our headers to it.
                if record.response_headers:
                    scope[ERROR_HEADERS_KEY] = [
                        (k.encode("latin-1"), v.encode("latin-1"))
                        for k, v in record.response_headers]
            raise
        finally:
            record.duration = (end or perf_counter()) - start
            record.route = scope_route(scope)
            if record.exception is None:
                record.exception = scope.get(EXCEPTION_KEY)
            for hook in hooks if started == len(hooks) else hooks[:started]:
                try:
                    hook.on_response(record)
                except Exception:
                    hook_failed()

    async def _serve_endpoint(self, scope: Scope, receive: Receive, send: Send,
                              endpoint: Any, params: dict[str, str]) -> None:
        method = scope["method"]
        response = method_not_allowed(method, endpoint)
        body = b""
        if response is None and wants_body(method):
            body = await _read_endpoint_body(receive)
            if len(body) > MAX_ENDPOINT_BODY:
                response = body_too_large()
        if response is None:
            headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                       for k, v in scope["headers"]}
            request = make_request(method, scope["path"],
                                   scope.get("query_string", b"").decode("latin-1"),
                                   headers, params, body=body)
            try:
                if is_async(endpoint):
                    response = await endpoint(request)
                else:
                    loop = asyncio.get_running_loop()
                    response = await loop.run_in_executor(None, endpoint, request)
            except Exception as exc:
                response = error_response(exc, scope["path"])
        assert response is not None
        if method == "HEAD":
            response = EndpointResponse(response.status, b"", response.content_type,
                                        response.headers)
        await _send_response(send, response, ())


class ErrorResponseHeaders:
    """Outside a framework's last-resort error handler (Starlette's ServerErrorMiddleware):
    the 500 it sends for an unhandled exception leaves our middleware without passing
    through it; this adds the headers our middleware would have added (X-Request-ID).
    The response itself (a user's 500 handler, the debug page) is the framework's."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = scope.pop(ERROR_HEADERS_KEY, None)
                if extra:
                    message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _read_endpoint_body(receive: Receive) -> bytes:
    """The whole body, stopping one byte past the cap (the caller answers 413)."""
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_ENDPOINT_BODY:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _send_response(send: Send, response: EndpointResponse,
                         extra: Any) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1"))
               for k, v in (*endpoint_headers(response), *extra)]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


async def _buffer_body(receive: Receive, record: RequestRecord, limit: int) -> Receive:
    """Read up to ``limit`` body bytes into the record and hand the app a ``receive`` that
    replays them before reading on; a larger body still reaches the app whole."""
    messages: list[Message] = []
    size = 0
    while size < limit:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    record.state[BODY_KEY] = b"".join(
        m.get("body", b"") for m in messages if m["type"] == "http.request")[:limit]
    messages.reverse()

    async def replay() -> Message:
        if messages:
            return messages.pop()
        return await receive()

    return replay


def _flushing_at_shutdown(send: Send) -> Send:
    """Flush spans and logs once the app's own shutdown is done, before the server exits."""

    async def send_then_flush(message: Message) -> None:
        if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            from .._runtime import flush_stages

            await asyncio.get_running_loop().run_in_executor(None, flush_stages)
        await send(message)

    return send_then_flush


def _start_loop_monitor() -> None:
    from ..metrics import start_loop_lag_monitor

    start_loop_lag_monitor()
