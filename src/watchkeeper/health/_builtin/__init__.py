"""Built-in checks, one module per family, and building them from settings."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ...config import BUILTIN_CHECK_TYPES, HealthCheckSettings
from ...exceptions import HealthCheckConfigError
from .._definition import CheckSpec, make_spec
from ._host import disk_check, file_check, memory_check
from ._http import http_check
from ._loop_lag import event_loop_lag_check
from ._net import dns_check, kafka_check, tcp_check
from ._postgres import postgres_check
from ._redis import redis_check
from ._sqlalchemy import sqlalchemy_check
from ._tls import tls_check

__all__ = [
    "BUILDERS",
    "build_from_settings",
    "disk_check",
    "dns_check",
    "event_loop_lag_check",
    "file_check",
    "http_check",
    "kafka_check",
    "memory_check",
    "postgres_check",
    "redis_check",
    "sqlalchemy_check",
    "tcp_check",
    "tls_check",
]

BUILDERS: dict[str, Callable[..., Callable[[], Any]]] = {
    "disk": disk_check,
    "dns": dns_check,
    "event_loop_lag": event_loop_lag_check,
    "file": file_check,
    "http": http_check,
    "kafka": kafka_check,
    "memory": memory_check,
    "postgres": postgres_check,
    "redis": redis_check,
    "tcp": tcp_check,
    "tls": tls_check,
}
assert set(BUILDERS) == set(BUILTIN_CHECK_TYPES)


def build_from_settings(entry: HealthCheckSettings) -> CheckSpec:
    """The check an entry of ``health.checks`` describes; bad options fail here, at startup."""
    try:
        builder = BUILDERS[entry.type]
    except KeyError:
        raise HealthCheckConfigError(
            f"health check {entry.name!r}: unknown built-in type {entry.type!r}; "
            f"known: {', '.join(sorted(BUILDERS))}") from None
    try:
        inspect.signature(builder).bind(**entry.options)
    except TypeError as exc:
        params = ", ".join(inspect.signature(builder).parameters)
        raise HealthCheckConfigError(
            f"health check {entry.name!r} ({entry.type}): bad options {sorted(entry.options)}: "
            f"{exc}; {entry.type} takes: {params}") from None
    try:
        func = builder(**entry.options)
    except HealthCheckConfigError as exc:
        raise HealthCheckConfigError(f"health check {entry.name!r}: {exc}") from None
    return make_spec(
        entry.name, func, critical=entry.critical, timeout=entry.timeout,
        interval=entry.interval, retries=entry.retries, warn_latency=entry.warn_latency,
        fail_latency=entry.fail_latency, tags=entry.tags, enabled=entry.enabled,
        kind=entry.type,
    )
