"""WSGI middleware: the same one pass per request as the ASGI one, for Flask and Django.

The response is timed to its last chunk: the body iterable is wrapped, and the request
ends when the server closes it (PEP 3333 obliges servers to call ``close()``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from time import perf_counter, time
from typing import Any

from .._http_types import RequestHook, RequestRecord
from ._endpoints import (
    MAX_ENDPOINT_BODY,
    body_too_large,
    call_sync,
    error_response,
    make_request,
    method_not_allowed,
    wants_body,
)
from ._endpoints import response_headers as endpoint_headers
from ._stack import BODY_KEY, BODY_METHODS, Stack, StackMiddleware, hook_failed

__all__ = ["EXCEPTION_KEY", "ROUTE_KEY", "WSGIApp", "WatchkeeperWSGIMiddleware", "environ_route"]

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

ROUTE_KEY = "watchkeeper.route"
# Frameworks that turn handler exceptions into 500 responses leave the exception here.
EXCEPTION_KEY = "watchkeeper.exception"


def environ_route(environ: Environ) -> str | None:
    """The template a framework adapter stored (Flask url_rule, Django resolver_match)."""
    return environ.get(ROUTE_KEY)


class WatchkeeperWSGIMiddleware(StackMiddleware):
    """Wraps a WSGI app; ``stack`` decides what runs (see ``build_stack``)."""

    app: WSGIApp

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        stack = self.stack
        path: str = environ.get("PATH_INFO", "") or "/"
        found = stack.find_endpoint(path)
        if found is not None:
            return self._serve_endpoint(environ, start_response, *found)
        if stack.is_excluded(path):
            return self.app(environ, start_response)
        return self._observe(stack, environ, start_response, path)

    def _observe(self, stack: Stack, environ: Environ, start_response: StartResponse,
                 path: str) -> Iterable[bytes]:
        start = perf_counter()
        length = environ.get("CONTENT_LENGTH")
        record = RequestRecord(
            method=environ.get("REQUEST_METHOD", "GET"), path=path,
            query_string=environ.get("QUERY_STRING", ""),
            scheme=environ.get("wsgi.url_scheme", "http"), client=environ.get("REMOTE_ADDR"),
            start=start, start_time=time(), raw=environ, resolve_route=environ_route,
        )
        if length and length.isdigit():
            record.request_bytes = int(length)
            if stack.body_limit and record.method in BODY_METHODS:
                _buffer_body(environ, record, stack.body_limit)
        elif stack.body_limit and environ.get("wsgi.input_terminated") and \
                record.method in BODY_METHODS:
            _buffer_terminated_body(environ, record, stack.body_limit)
        hooks = stack.hooks
        started = 0
        for hook in hooks:
            started += 1
            try:
                early = hook.on_request(record)
            except Exception:
                hook_failed()
                continue
            if early is not None:
                record.status = early.status
                record.response_bytes = len(early.body)
                start_response(_status_line(early.status),
                               [*endpoint_headers(early), *record.response_headers])
                _finish(record, hooks[:started], environ)
                return [early.body]

        def wrapped_start_response(status: str, headers: list[tuple[str, str]],
                                   exc_info: Any = None) -> Any:
            record.status = int(status[:3])
            if record.response_headers:
                headers = [*headers, *record.response_headers]
            return start_response(status, headers, exc_info)

        try:
            body = self.app(environ, wrapped_start_response)
        except BaseException as exc:
            record.exception = exc
            if record.status == 0:
                record.status = 500
            record.duration = perf_counter() - start
            _finish(record, hooks[:started], environ)
            raise
        return _TimedBody(body, record, hooks[:started], environ)

    def _serve_endpoint(self, environ: Environ, start_response: StartResponse,
                        endpoint: Any, params: dict[str, str]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        response = method_not_allowed(method, endpoint)
        body = b""
        if response is None and wants_body(method):
            length = environ.get("CONTENT_LENGTH") or ""
            size = int(length) if length.isdigit() else 0
            stream = environ.get("wsgi.input")
            if size > MAX_ENDPOINT_BODY:
                response = body_too_large()
            elif size and stream is not None:
                body = stream.read(size)
        if response is None:
            headers = {
                key[5:].lower().replace("_", "-"): str(value)
                for key, value in environ.items() if key.startswith("HTTP_")
            }
            request = make_request(method, environ.get("PATH_INFO", ""),
                                   environ.get("QUERY_STRING", ""), headers, params, body=body)
            try:
                response = call_sync(endpoint, request)
            except Exception as exc:
                response = error_response(exc, request.path)
        assert response is not None
        start_response(_status_line(response.status), endpoint_headers(response))
        return [b""] if method == "HEAD" else [response.body]


def _buffer_body(environ: Environ, record: RequestRecord, limit: int) -> None:
    """Read up to ``limit`` bytes of a Content-Length body into the record; the app reads
    them again from a stream that continues with the rest. (Bodies without a length,
    i.e. chunked ones, are not buffered.)"""
    stream = environ.get("wsgi.input")
    if stream is None or record.request_bytes <= 0:
        return
    head = stream.read(min(record.request_bytes, limit))
    record.state[BODY_KEY] = head
    environ["wsgi.input"] = _ReplayInput(head, stream, record.request_bytes - len(head))


def _buffer_terminated_body(environ: Environ, record: RequestRecord, limit: int) -> None:
    """A body without a length (chunked) on a server that ends ``wsgi.input`` at the end
    of the body (``wsgi.input_terminated``): read up to ``limit`` bytes, the app reads
    them again and then the rest until the stream ends."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return
    parts: list[bytes] = []
    size = 0
    while size < limit:  # read() may return less than asked before the end
        part = stream.read(limit - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    head = b"".join(parts)
    record.state[BODY_KEY] = head
    environ["wsgi.input"] = _ReplayInput(head, stream, -1 if size >= limit else 0)


class _ReplayInput:
    """``wsgi.input`` that yields the buffered head, then the rest of the real stream
    (``remaining`` bytes of it; -1: until it ends)."""

    def __init__(self, head: bytes, rest: Any, remaining: int) -> None:
        import io

        self._head = io.BytesIO(head)
        self._rest = rest
        self._remaining = remaining

    def read(self, size: int | None = -1) -> bytes:
        data = self._head.read(size if size is not None else -1)
        if size is None or size < 0:
            return data + self._read_rest(-1)
        if len(data) < size:
            data += self._read_rest(size - len(data))
        return data

    def _read_rest(self, size: int) -> bytes:
        if self._remaining == 0:
            return b""
        if self._remaining < 0:
            data: bytes = self._rest.read(size) if size >= 0 else self._rest.read()
            return data
        wanted = self._remaining if size < 0 else min(size, self._remaining)
        data = self._rest.read(wanted)
        self._remaining -= len(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        line = self._head.readline(size if size is not None else -1)
        if line.endswith(b"\n") or (size is not None and 0 <= size <= len(line)):
            return line
        if self._remaining == 0:
            return line
        more: bytes = self._rest.readline(-1 if size is None or size < 0 else size - len(line))
        if self._remaining > 0:
            self._remaining -= len(more)
        return line + more

    def readlines(self, hint: int = -1) -> list[bytes]:
        return list(iter(self.readline, b""))

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")


class _TimedBody:
    """Counts the body bytes and ends the request when the server closes the iterable."""

    __slots__ = ("_body", "_done", "_environ", "_hooks", "_record")

    def __init__(self, body: Iterable[bytes], record: RequestRecord,
                 hooks: list[RequestHook], environ: Environ) -> None:
        self._body = body
        self._record = record
        self._hooks = hooks
        self._environ = environ
        self._done = False

    def __iter__(self) -> Iterator[bytes]:
        record = self._record
        try:
            for chunk in self._body:
                record.response_bytes += len(chunk)
                yield chunk
        except BaseException as exc:
            record.exception = exc
            raise
        finally:
            record.duration = perf_counter() - record.start

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            if not self._done:
                self._done = True
                if self._record.duration == 0.0:
                    self._record.duration = perf_counter() - self._record.start
                _finish(self._record, self._hooks, self._environ)


def _finish(record: RequestRecord, hooks: list[RequestHook], environ: Environ) -> None:
    record.route = environ.get(ROUTE_KEY)
    if record.exception is None:
        record.exception = environ.get(EXCEPTION_KEY)
    for hook in hooks:
        try:
            hook.on_response(record)
        except Exception:
            hook_failed()


def _status_line(status: int) -> str:
    from http import HTTPStatus

    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"
