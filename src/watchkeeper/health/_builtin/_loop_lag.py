"""Event-loop lag of the app's loop, read from the monitor the endpoints attach."""

from __future__ import annotations

from collections.abc import Callable

from ...exceptions import HealthCheckConfigError
from .._lag import lag_monitor
from .._result import Status

__all__ = ["event_loop_lag_check"]


def event_loop_lag_check(*, warn: float = 0.1,
                         fail: float = 1.0) -> Callable[[], tuple[Status, str]]:
    """Warn/fail when callbacks on the app's event loop run ``warn``/``fail`` seconds late."""
    if not 0 < warn <= fail:
        raise HealthCheckConfigError("event_loop_lag check: need 0 < warn <= fail")
    monitor = lag_monitor()

    def event_loop_lag() -> tuple[Status, str]:
        lag = monitor.lag
        if lag is None:
            return Status.PASS, "no event loop measured yet"
        text = f"event loop lag {lag * 1000:.1f} ms"
        if lag >= fail:
            return Status.FAIL, text
        if lag >= warn:
            return Status.WARN, text
        return Status.PASS, text

    return event_loop_lag
