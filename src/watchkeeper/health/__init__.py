"""Health: checks with Kubernetes probe semantics, component status, circuit breakers.

Owns the check registry and runner (timeouts, single-flight, background refresh), the
/health endpoints, built-in dependency checks and the circuit breaker.
"""

from ..exceptions import CircuitOpenError, HealthCheckConfigError, HealthError
from ._breaker import BreakerListener, CircuitBreaker
from ._breaker_redis import RedisBreakerState
from ._builtin import (
    disk_check,
    dns_check,
    event_loop_lag_check,
    file_check,
    http_check,
    kafka_check,
    memory_check,
    postgres_check,
    redis_check,
    sqlalchemy_check,
    tcp_check,
    tls_check,
)
from ._definition import CheckFunc, HealthCheck, check
from ._endpoints import endpoints
from ._probes import k8s_probes, k8s_probes_yaml
from ._result import CheckResult, Status
from ._state import configure, mark_started, reset, set_component_status

__all__ = [
    "BreakerListener",
    "CheckFunc",
    "CheckResult",
    "CircuitBreaker",
    "CircuitOpenError",
    "HealthCheck",
    "HealthCheckConfigError",
    "HealthError",
    "RedisBreakerState",
    "Status",
    "add_check",
    "check",
    "configure",
    "disk_check",
    "dns_check",
    "endpoints",
    "event_loop_lag_check",
    "file_check",
    "http_check",
    "k8s_probes",
    "k8s_probes_yaml",
    "kafka_check",
    "mark_started",
    "memory_check",
    "postgres_check",
    "redis_check",
    "reset",
    "set_component_status",
    "sqlalchemy_check",
    "tcp_check",
    "tls_check",
]


def add_check(name: str, func: CheckFunc, **options: object) -> None:
    """Register ``func`` (e.g. a built-in: ``add_check("db", postgres_check(dsn))``) with
    the options of :func:`check`."""
    check(name, **options)(func)  # type: ignore[call-overload]
