"""Outgoing HTTP metrics and client spans for httpx (sync and async) and requests.

Patched once at the client's ``send`` (not the transport), so custom and mock transports
are measured too and a redirect chain counts as the one call the application made. When
tracing is on, the same patch starts a CLIENT span and injects ``traceparent``.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from functools import wraps
from time import perf_counter
from typing import Any
from urllib.parse import urlsplit

from ..config import DEFAULT_LATENCY_BUCKETS
from ..metrics import Registry, method_label
from ..traces._client import end_client_span, start_client_span

__all__ = ["ClientMetrics", "instrument_http_clients", "uninstrument_http_clients"]

_PATCHED: dict[tuple[Any, str], Callable[..., Any]] = {}


class ClientMetrics:
    """The three client families, shared by every patched library."""

    def __init__(self, registry: Registry) -> None:
        name = registry.full_name
        self.requests = registry.counter(
            name("http_client_requests_total"), "Outgoing HTTP requests by host and status.",
            ("host", "method", "status_code"))
        self.duration = registry.histogram(
            name("http_client_request_duration_seconds"),
            "Outgoing HTTP request latency until response headers, in seconds.",
            ("host", "method"), buckets=DEFAULT_LATENCY_BUCKETS, unit="seconds")
        self.errors = registry.counter(
            name("http_client_errors_total"), "Outgoing HTTP requests that failed to complete.",
            ("host", "error_type"))

    def done(self, host: str, method: str, seconds: float, status: int) -> None:
        method = method_label(method)
        self.requests.labels(host, method, str(status)).inc()
        self.duration.labels(host, method).observe(seconds)

    def failed(self, host: str, method: str, seconds: float, exc: BaseException) -> None:
        self.errors.labels(host, _error_type(exc)).inc()
        self.duration.labels(host, method_label(method)).observe(seconds)


def _error_type(exc: BaseException) -> str:
    names = [cls.__name__ for cls in type(exc).__mro__]
    for marker, kind in (("Timeout", "timeout"), ("ConnectError", "connect"),
                         ("ConnectionError", "connect"), ("ProxyError", "proxy"),
                         ("SSLError", "tls"), ("RemoteProtocolError", "protocol"),
                         ("TooManyRedirects", "redirects")):
        if any(marker in n for n in names):
            return kind
    return type(exc).__name__


def _host(host: str, port: int | None, scheme: str) -> str:
    default = {"http": 80, "https": 443}.get(scheme)
    return host if port is None or port == default else f"{host}:{port}"


def instrument_http_clients(registry: Registry) -> None:
    """Patch httpx and requests if they are installed; idempotent."""
    metrics = None
    for module, patch in (("httpx", _patch_httpx), ("requests", _patch_requests)):
        if module in sys.modules or importlib.util.find_spec(module) is not None:
            metrics = metrics or ClientMetrics(registry)
            patch(importlib.import_module(module), metrics)


def _replace(owner: Any, attr: str, make: Callable[[Any], Any]) -> None:
    if (owner, attr) in _PATCHED:
        return
    original = getattr(owner, attr)
    _PATCHED[(owner, attr)] = original
    setattr(owner, attr, wraps(original)(make(original)))


def _patch_httpx(httpx: Any, metrics: ClientMetrics) -> None:
    def sync_send(original: Any) -> Any:
        def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            url = request.url
            host = _host(url.host, url.port, url.scheme)
            span = start_client_span(request.method, url.scheme, url.host, url.port,
                                     url.path, request.headers)
            start = perf_counter()
            try:
                response = original(self, request, *args, **kwargs)
            except Exception as exc:
                metrics.failed(host, request.method, perf_counter() - start, exc)
                end_client_span(span, exc=exc)
                raise
            metrics.done(host, request.method, perf_counter() - start, response.status_code)
            end_client_span(span, response.status_code)
            return response

        return send

    def async_send(original: Any) -> Any:
        async def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            url = request.url
            host = _host(url.host, url.port, url.scheme)
            span = start_client_span(request.method, url.scheme, url.host, url.port,
                                     url.path, request.headers)
            start = perf_counter()
            try:
                response = await original(self, request, *args, **kwargs)
            except Exception as exc:
                metrics.failed(host, request.method, perf_counter() - start, exc)
                end_client_span(span, exc=exc)
                raise
            metrics.done(host, request.method, perf_counter() - start, response.status_code)
            end_client_span(span, response.status_code)
            return response

        return send

    _replace(httpx.Client, "send", sync_send)
    _replace(httpx.AsyncClient, "send", async_send)


def _patch_requests(requests: Any, metrics: ClientMetrics) -> None:
    def session_send(original: Any) -> Any:
        def send(self: Any, request: Any, **kwargs: Any) -> Any:
            parts = urlsplit(request.url)
            host = _host(parts.hostname or "", parts.port, parts.scheme)
            method = request.method or "GET"
            span = start_client_span(method, parts.scheme, parts.hostname or "", parts.port,
                                     parts.path, request.headers)
            start = perf_counter()
            try:
                response = original(self, request, **kwargs)
            except Exception as exc:
                metrics.failed(host, method, perf_counter() - start, exc)
                end_client_span(span, exc=exc)
                raise
            metrics.done(host, method, perf_counter() - start, response.status_code)
            end_client_span(span, response.status_code)
            return response

        return send

    _replace(requests.Session, "send", session_send)


def uninstrument_http_clients() -> None:
    """Restore the original client methods (tests)."""
    for (owner, attr), original in list(_PATCHED.items()):
        setattr(owner, attr, original)
    _PATCHED.clear()
