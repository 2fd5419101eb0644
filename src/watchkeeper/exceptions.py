"""The one error tree of watchkeeper.

Every error the package raises on purpose derives from :class:`WatchkeeperError`, so a
host application can catch them all with one ``except``. Third-party exceptions are
translated at the boundary (``raise ConfigError(...) from exc``).

::

    WatchkeeperError
    ├── ConfigError                 invalid settings: names field, value and source
    ├── InstrumentationError        instrument() got something it cannot instrument
    ├── MetricError
    │   ├── DuplicateMetricError    a name already registered with another shape
    │   └── LabelError              wrong label names or values for a metric
    ├── TracingError                tracing could not be set up (missing exporter extra)
    ├── ErrorCaptureError           error capture misconfigured (bad before_send)
    └── HealthError
        ├── HealthCheckConfigError  a check defined wrongly (bad timeout, unknown built-in)
        └── CircuitOpenError        a circuit breaker refused the call (open or half-open full)

Each later stage adds its own small subtree here (PromQL, rules, notify, health, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CircuitOpenError",
    "ConfigError",
    "ConfigProblem",
    "DuplicateMetricError",
    "ErrorCaptureError",
    "HealthCheckConfigError",
    "HealthError",
    "InstrumentationError",
    "LabelError",
    "MetricError",
    "TracingError",
    "WatchkeeperError",
]


class WatchkeeperError(Exception):
    """Root of every error watchkeeper raises on purpose."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One invalid setting: where it is, what it was, where it came from, what is wrong."""

    field: str
    value: object
    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.field} = {self.value!r} (from {self.source}): {self.message}"


class ConfigError(WatchkeeperError):
    """Settings could not be loaded; lists every problem found, not just the first."""

    def __init__(self, problems: list[ConfigProblem] | str) -> None:
        if isinstance(problems, str):
            self.problems: list[ConfigProblem] = []
            super().__init__(problems)
            return
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        noun = "setting" if len(problems) == 1 else "settings"
        super().__init__(f"invalid watchkeeper configuration ({len(problems)} {noun}):\n{lines}")


class InstrumentationError(WatchkeeperError):
    """``instrument()`` was given an object it does not know how to instrument."""


class MetricError(WatchkeeperError):
    """A metric was defined or used wrongly."""


class DuplicateMetricError(MetricError):
    """A metric name is already taken by a metric of another type or label set."""


class LabelError(MetricError):
    """Label names or values do not match the metric's definition."""


class TracingError(WatchkeeperError):
    """Tracing could not be set up (an exporter's package is missing, a bad exporter)."""


class ErrorCaptureError(WatchkeeperError):
    """Error capture was configured wrongly (e.g. a ``before_send`` that cannot be imported)."""
class HealthError(WatchkeeperError):
    """A health check or circuit breaker problem."""


class HealthCheckConfigError(HealthError):
    """A health check was defined wrongly; raised when it is defined, not when it runs."""


class CircuitOpenError(HealthError):
    """A circuit breaker refused a call: it is open, or half-open with every trial slot taken.

    Attributes:
        breaker: the name of the circuit breaker.
        retry_after: seconds until the breaker lets a trial call through (0 if unknown).
    """

    def __init__(self, breaker: str, message: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.breaker = breaker
        self.retry_after = retry_after
