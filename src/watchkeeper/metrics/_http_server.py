"""RED metrics for incoming HTTP requests, recorded once per request by the middleware."""

from __future__ import annotations

from typing import Any

from .._http_types import EndpointResponse, RequestRecord
from ..config import MetricsSettings
from ._names import method_label
from ._registry import Registry

__all__ = ["HttpServerHook"]



class HttpServerHook:
    """Counts, times and sizes requests by method, route template and status code.

    The series of a (method, route, status) are bound on first sight and reused, so a
    request costs a dict lookup and four locked adds. In-progress counts are derived at
    scrape time from the requests in flight, because the route is not known until the
    framework has routed the request.
    """

    def __init__(self, registry: Registry, settings: MetricsSettings) -> None:
        name = registry.full_name
        self.requests = registry.counter(
            name("http_requests_total"), "Total HTTP requests by method, route and status.",
            ("method", "route", "status_code"))
        self.duration = registry.histogram(
            name("http_request_duration_seconds"),
            "HTTP request latency until the last response byte, in seconds.",
            ("method", "route", "status_code"), buckets=settings.latency_buckets,
            unit="seconds")
        self.in_progress = registry.gauge(
            name("http_requests_in_progress"), "HTTP requests being served now.",
            ("method", "route"))
        self.request_size = registry.histogram(
            name("http_request_size_bytes"), "HTTP request body size in bytes.",
            ("method", "route"), buckets=settings.size_buckets, unit="bytes")
        self.response_size = registry.histogram(
            name("http_response_size_bytes"), "HTTP response body size in bytes.",
            ("method", "route"), buckets=settings.size_buckets, unit="bytes")
        self.exceptions = registry.counter(
            name("http_requests_exceptions_total"),
            "Requests whose handler raised, by exception type.",
            ("method", "route", "exception_type"))
        self._unmatched = settings.unmatched_route
        self._limit = settings.cardinality_limit
        self._series: dict[tuple[str, str, int], tuple[Any, Any, Any, Any]] = {}
        self._in_flight: dict[int, RequestRecord] = {}
        self._seen_in_progress: set[tuple[str, str]] = set()
        registry.add_refresher(self.refresh_in_progress)

    def on_request(self, record: RequestRecord) -> EndpointResponse | None:
        self._in_flight[id(record)] = record
        return None

    def on_response(self, record: RequestRecord) -> None:
        self._in_flight.pop(id(record), None)
        method = method_label(record.method)
        route = record.route or self._unmatched
        key = (method, route, record.status)
        series = self._series.get(key)
        if series is None:
            series = self._bind(key)
        count, duration, request_size, response_size = series
        count.inc()
        duration.observe(record.duration)
        request_size.observe(record.request_bytes)
        response_size.observe(record.response_bytes)
        if record.exception is not None:
            self.exceptions.labels(method, route, type(record.exception).__name__).inc()

    def _bind(self, key: tuple[str, str, int]) -> tuple[Any, Any, Any, Any]:
        method, route, status = key
        status_text = str(status)
        series = (
            self.requests.labels(method, route, status_text),
            self.duration.labels(method, route, status_text),
            self.request_size.labels(method, route),
            self.response_size.labels(method, route),
        )
        if len(self._series) < self._limit:
            self._series[key] = series
        return series

    def refresh_in_progress(self) -> None:
        counts: dict[tuple[str, str], int] = {}
        for record in list(self._in_flight.values()):
            method = method_label(record.method)
            key = (method, record.current_route() or self._unmatched)
            counts[key] = counts.get(key, 0) + 1
        # Every (method, route) served so far shows, at 0 when idle, so dashboards and
        # rules see a series rather than absence.
        self._seen_in_progress |= {(method, route) for method, route, _ in self._series}
        for key in self._seen_in_progress - counts.keys():
            self.in_progress.labels(*key).set(0)
        for key, value in counts.items():
            self.in_progress.labels(*key).set(value)
        self._seen_in_progress |= counts.keys()
