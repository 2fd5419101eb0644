"""The health stage's metrics, recorded through any registry-like object.

The registry is injected (``watchkeeper._runtime.registry()`` by default), and every call
is guarded: a metrics failure is never a health failure.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import Any, Protocol

from ._result import Status

__all__ = ["BREAKER_STATE_VALUES", "HealthMetrics", "RegistryLike"]

_log = logging.getLogger("watchkeeper.health")

_STATUS_VALUE = {Status.PASS: 1.0, Status.WARN: 0.5, Status.FAIL: 0.0}
BREAKER_STATE_VALUES = {"closed": 0.0, "half_open": 1.0, "open": 2.0}
# Checks time out in seconds, not milliseconds: buckets reach past the longest timeouts.
_DURATION_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class RegistryLike(Protocol):
    def counter(self, name: str, documentation: str, labelnames: Sequence[str] = (),
                **kwargs: Any) -> Any: ...
    def gauge(self, name: str, documentation: str, labelnames: Sequence[str] = (),
              **kwargs: Any) -> Any: ...
    def histogram(self, name: str, documentation: str, labelnames: Sequence[str] = (), *,
                  buckets: Sequence[float], **kwargs: Any) -> Any: ...


class HealthMetrics:
    """``health_check_status``, ``health_check_duration_seconds``,
    ``health_check_failures_total`` (by ``check``) and ``circuit_breaker_state`` (by ``name``).

    Status is 1 pass, 0.5 warn, 0 fail; breaker state 0 closed, 1 half-open, 2 open.
    """

    def __init__(self, registry: RegistryLike | None) -> None:
        self._registry = registry
        self._families: dict[str, Any] = {}
        self._broken = False

    def _family(self, kind: str, name: str, doc: str, label: str, **kwargs: Any) -> Any:
        family = self._families.get(name)
        if family is None and self._registry is not None:
            full_name = getattr(self._registry, "full_name", None)  # namespace prefix
            exposed = full_name(name) if callable(full_name) else name
            family = getattr(self._registry, kind)(exposed, doc, (label,), **kwargs)
            self._families[name] = family
        return family

    def check_done(self, check: str, status: Status, duration: float) -> None:
        try:
            gauge = self._family("gauge", "health_check_status",
                                 "Last result of a health check: 1 pass, 0.5 warn, 0 fail.",
                                 "check", mode="min")
            hist = self._family("histogram", "health_check_duration_seconds",
                                "How long health checks took, timeouts included.", "check",
                                buckets=_DURATION_BUCKETS)
            failures = self._family("counter", "health_check_failures_total",
                                    "Health check runs that failed.", "check")
            if gauge is None:
                return
            gauge.labels(check).set(_STATUS_VALUE[status])
            hist.labels(check).observe(duration)
            child = failures.labels(check)
            if status is Status.FAIL:
                child.inc()
        except Exception:
            self._failed()

    def breaker_state(self, name: str, state: str) -> None:
        try:
            gauge = self._family("gauge", "circuit_breaker_state",
                                 "Circuit breaker state: 0 closed, 1 half-open, 2 open.", "name",
                                 mode="max")
            if gauge is not None:
                gauge.labels(name).set(BREAKER_STATE_VALUES[state])
        except Exception:
            self._failed()

    def _failed(self) -> None:
        registry = self._registry
        internal = getattr(registry, "internal_error", None)
        if callable(internal):
            with contextlib.suppress(Exception):
                internal("health")
        if not self._broken:
            self._broken = True
            _log.exception("watchkeeper health: recording metrics failed (logged once)")
