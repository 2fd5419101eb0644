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
    ├── HealthError
    │   ├── HealthCheckConfigError  a check defined wrongly (bad timeout, unknown built-in)
    │   └── CircuitOpenError        a circuit breaker refused the call (open or half-open full)
    ├── TSDBError                   the metric history store refused or failed
    │   ├── OutOfOrderSampleError   sample older than the series' newest sample
    │   ├── DuplicateSampleError    same timestamp, different value
    │   ├── InvalidMatcherError     bad label matcher (e.g. regex RE2 rejects)
    │   └── CorruptionError         WAL or block data that cannot be read
    ├── PromQLError
    │   ├── PromQLParseError        syntax error, with line, column and a caret line
    │   ├── PromQLTypeError         operand types do not fit (Prometheus' wording)
    │   └── PromQLExecutionError    evaluation failed or hit a limit (samples, timeout)
    └── NotifyError
        ├── NotifyConfigError       invalid alertmanager.yml: names file:line and the problem
        ├── NotifyTemplateError     a notification template does not parse or execute
        ├── SilenceError            invalid silence, or no silence with that id
        └── ReceiverError           a receiver could not deliver (after retries)

Each later stage adds its own small subtree here (PromQL, rules, notify, health, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CircuitOpenError",
    "ConfigError",
    "ConfigProblem",
    "CorruptionError",
    "DuplicateMetricError",
    "DuplicateSampleError",
    "HealthCheckConfigError",
    "HealthError",
    "InstrumentationError",
    "InvalidMatcherError",
    "LabelError",
    "MetricError",
    "NotifyConfigError",
    "NotifyError",
    "NotifyTemplateError",
    "OutOfOrderSampleError",
    "PromQLError",
    "PromQLExecutionError",
    "PromQLParseError",
    "PromQLTypeError",
    "ReceiverError",
    "SilenceError",
    "TSDBError",
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
class NotifyError(WatchkeeperError):
    """Something in the notification pipeline (``watchkeeper.notify``) went wrong."""


class NotifyConfigError(NotifyError):
    """An Alertmanager configuration file is invalid.

    ``file`` and ``line`` (1-based, 0 when unknown) say where; ``problem`` says what.
    """

    def __init__(self, problem: str, file: str = "", line: int = 0) -> None:
        self.problem = problem
        self.file = file
        self.line = line
        where = file if file else "<config>"
        if line:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {problem}")


class NotifyTemplateError(NotifyError):
    """A notification template failed to parse or to execute (names template and line)."""


class SilenceError(NotifyError):
    """A silence is invalid, or no silence has the given id."""


class ReceiverError(NotifyError):
    """A receiver integration failed to deliver a notification."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        self.retryable = retryable
        super().__init__(message)
class TSDBError(WatchkeeperError):
    """The metric history store refused a write or could not read its data."""


class OutOfOrderSampleError(TSDBError):
    """A sample is older than the newest sample of its series (Prometheus rejects it)."""


class DuplicateSampleError(TSDBError):
    """A sample has the timestamp of the newest sample of its series but another value."""


class InvalidMatcherError(TSDBError):
    """A label matcher cannot be used, e.g. a regex with constructs RE2 does not accept."""


class CorruptionError(TSDBError):
    """WAL or block data on disk that cannot be decoded."""


class PromQLError(WatchkeeperError):
    """A PromQL expression could not be parsed or evaluated."""


class PromQLParseError(PromQLError):
    """Syntax error; ``line``/``column`` are 1-based and ``str()`` ends with a caret line."""

    def __init__(self, message: str, query: str = "", line: int = 1, column: int = 1) -> None:
        self.message = message
        self.query = query
        self.line = line
        self.column = column
        text = f"{line}:{column}: parse error: {message}"
        if query:
            lines = query.split("\n")
            if 0 < line <= len(lines):
                text += "\n" + lines[line - 1] + "\n" + " " * (column - 1) + "^"
        super().__init__(text)


class PromQLTypeError(PromQLError):
    """Operand or argument types do not fit, worded as Prometheus words it."""


class PromQLExecutionError(PromQLError):
    """Evaluation failed: a limit was hit (samples, timeout) or the data forbids a result."""
