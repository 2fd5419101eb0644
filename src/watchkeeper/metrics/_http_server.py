"""RED metrics for incoming HTTP requests, recorded once per request by the middleware."""

from __future__ import annotations

import threading
from bisect import bisect_left
from typing import Any

from .._http_types import EndpointResponse, RequestRecord
from ..config import MetricsSettings
from ._exemplars import ExemplarSink
from ._names import HTTP_METHODS, OTHER_METHOD, method_label
from ._registry import Registry

__all__ = ["HttpServerHook"]

_Series = tuple[Any, int, Any, int, Any, int, Any, int, ExemplarSink]
"""(page, index) of the count, duration, request-size and response-size slots, and the
duration series' exemplars by bucket."""

TRACE_ID_KEY = "trace_id"
"""``record.state`` key under which the tracing hook leaves a sampled request's trace id."""



class HttpServerHook:
    """Counts, times and sizes requests by method, route template and status code.

    The slots of a (method, route, status) are looked up on first sight and reused, so a
    request costs a dict lookup and seven adds under one lock. In-progress counts are derived at
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
        self._series: dict[tuple[str, str, int], _Series] = {}
        self._registry = registry
        self._generation = registry.generation
        self._lock = threading.Lock()
        self._shape = (self.duration.bounds, self.request_size.bounds,
                       len(self.duration.bounds) + 1, len(self.request_size.bounds) + 1)
        self._in_flight: dict[int, RequestRecord] = {}
        self._seen_in_progress: set[tuple[str, str]] = set()
        registry.add_refresher(self.refresh_in_progress)

    def on_request(self, record: RequestRecord) -> EndpointResponse | None:
        self._in_flight[id(record)] = record
        return None

    def on_response(self, record: RequestRecord) -> None:
        self._in_flight.pop(id(record), None)
        method = record.method if record.method in HTTP_METHODS else OTHER_METHOD
        route = record.route or self._unmatched
        key = (method, route, record.status)
        if self._generation != self._registry.generation:
            self._series.clear()  # values moved to another store (fork, worker shard)
            self._generation = self._registry.generation
        series = self._series.get(key)
        if series is None:
            series = self._bind(key)
        (count_page, count_i, duration_page, duration_i, request_page, request_i,
         response_page, response_i, exemplars) = series
        duration = record.duration
        request_bytes = record.request_bytes
        response_bytes = record.response_bytes
        latency, sizes, latency_sum, size_sum = self._shape
        bucket = bisect_left(latency, duration)
        trace_id = record.state.get(TRACE_ID_KEY) if record.state else None
        # One lock and no per-child calls: this runs once per request.
        with self._lock:
            count_page[count_i] += 1.0
            duration_page[duration_i + bucket] += 1.0
            duration_page[duration_i + latency_sum] += duration
            request_page[request_i + bisect_left(sizes, request_bytes)] += 1.0
            request_page[request_i + size_sum] += request_bytes
            response_page[response_i + bisect_left(sizes, response_bytes)] += 1.0
            response_page[response_i + size_sum] += response_bytes
            if trace_id is not None:
                # A dict in one process; under pre-fork workers a checksummed slot of
                # this worker's mmapped shard (no system call), read by any scraper.
                exemplars[bucket] = (trace_id, duration, record.start_time + duration)
        if record.exception is not None:
            self.exceptions.labels(method, route, type(record.exception).__name__).inc()

    def _bind(self, key: tuple[str, str, int]) -> _Series:
        method, route, status = key
        status_text = str(status)
        children = (
            self.requests.labels(method, route, status_text),
            self.duration.labels(method, route, status_text),
            self.request_size.labels(method, route),
            self.response_size.labels(method, route),
        )
        exemplars = self.duration.exemplars_of(children[1])
        series: _Series = (*(part for child in children for part in (child._page, child._i)),
                           exemplars)  # type: ignore[assignment]
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
