"""Metric helpers for what services commonly measure besides HTTP: database operations,
connection pools, caches, queues/consumers and money spent on upstream APIs.

Each helper creates its families on first use in watchkeeper's registry (namespace and
constant labels applied), so importing this module costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from time import perf_counter

from .._runtime import registry, settings
from ._counter import Counter
from ._gauge import Gauge
from ._histogram import Histogram

__all__ = ["cache_access", "db_pool_status", "record_cost", "track_db_operation",
           "track_message"]


def _counter(name: str, doc: str, labels: tuple[str, ...]) -> Counter:
    reg = registry()
    return reg.counter(reg.full_name(name), doc, labels)


def _histogram(name: str, doc: str, labels: tuple[str, ...]) -> Histogram:
    reg = registry()
    return reg.histogram(reg.full_name(name), doc, labels,
                         buckets=settings().metrics.latency_buckets, unit="seconds")


def _gauge(name: str, doc: str, labels: tuple[str, ...]) -> Gauge:
    reg = registry()
    return reg.gauge(reg.full_name(name), doc, labels)


@contextmanager
def _outcome(record: Callable[[float, str], None]) -> Iterator[None]:
    """Time a block and report (seconds, "ok" or "error"); the error still propagates."""
    start = perf_counter()
    status = "ok"
    try:
        yield
    except BaseException:
        status = "error"
        raise
    finally:
        record(perf_counter() - start, status)


@contextmanager
def track_db_operation(operation: str, table: str, *, system: str = "db") -> Iterator[None]:
    """Time one database operation; failures are counted with ``status="error"``.

    Example::

        with watchkeeper.track_db_operation("select", "users"):
            rows = conn.execute(query)
    """
    with _outcome(lambda seconds, status: record_db_operation(
            operation, table, seconds, status, system)):
        yield


def record_db_operation(operation: str, table: str, seconds: float, status: str = "ok",
                        system: str = "db") -> None:
    """Record a database operation measured elsewhere (e.g. by SQLAlchemy events)."""
    _counter("db_operations_total", "Database operations by operation, table and outcome.",
             ("system", "operation", "table", "status")).labels(
        system, operation, table, status).inc()
    _histogram("db_operation_duration_seconds", "Database operation latency in seconds.",
               ("system", "operation", "table")).labels(system, operation, table).observe(
        seconds)


def db_pool_status(pool: str, *, size: int, checked_out: int, overflow: int = 0) -> None:
    """Report a connection pool's state (call periodically or from pool events)."""
    gauge = _gauge("db_pool_connections", "Connections in a database pool by state.",
                   ("pool", "state"))
    gauge.labels(pool, "size").set(size)
    gauge.labels(pool, "checked_out").set(checked_out)
    gauge.labels(pool, "idle").set(max(0, size - checked_out))
    gauge.labels(pool, "overflow").set(overflow)


def cache_access(cache: str, hit: bool) -> None:
    """Count a cache lookup as a hit or a miss (hit ratio = hits / all)."""
    _counter("cache_requests_total", "Cache lookups by cache and result.",
             ("cache", "result")).labels(cache, "hit" if hit else "miss").inc()


@contextmanager
def track_message(queue: str, operation: str = "consume") -> Iterator[None]:
    """Count and time one message produced or consumed (Kafka-style topics, queues).

    Example::

        with watchkeeper.track_message("orders", "consume"):
            handle(message)
    """
    with _outcome(lambda seconds, status: _record_message(queue, operation, seconds, status)):
        yield


def _record_message(queue: str, operation: str, seconds: float, status: str) -> None:
    _counter("queue_messages_total", "Messages by queue, operation and outcome.",
             ("queue", "operation", "status")).labels(queue, operation, status).inc()
    _histogram("queue_message_duration_seconds", "Time to produce or process a message.",
               ("queue", "operation")).labels(queue, operation).observe(seconds)


def record_cost(service: str, amount: float, *, currency: str = "USD",
                operation: str = "") -> None:
    """Add money spent on an upstream service (API call pricing, per-token costs)."""
    _counter("cost_total", "Money spent on upstream services.",
             ("service", "operation", "currency")).labels(service, operation, currency).inc(
        amount)
