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
    ├── HealthError
    │   ├── HealthCheckConfigError  a check defined wrongly (bad timeout, unknown built-in)
    │   └── CircuitOpenError        a circuit breaker refused the call (open or half-open full)
    ├── SecurityError
    │   ├── PatternRejectedError    a detection pattern that could not run in linear time
    │   ├── AuditChainError         an audit log whose hash chain does not verify
    │   └── RateLimitStorageError   the rate-limit storage could not be reached or used
    ├── TSDBError                   the metric history store refused or failed
    │   ├── OutOfOrderSampleError   sample older than the series' newest sample
    │   ├── DuplicateSampleError    same timestamp, different value
    │   ├── InvalidMatcherError     bad label matcher (e.g. regex RE2 rejects)
    │   └── CorruptionError         WAL or block data that cannot be read
    ├── ScrapeError                 an exposition could not be scraped or parsed
    ├── PromQLError
    │   ├── PromQLParseError        syntax error, with line, column and a caret line
    │   ├── PromQLTypeError         operand types do not fit (Prometheus' wording)
    │   └── PromQLExecutionError    evaluation failed or hit a limit (samples, timeout)
    ├── TemplateError               a Go text/template does not parse or execute
    ├── RuleError
    │   ├── RuleFileError           invalid rule file: names file:line:column and the problem
    │   ├── RuleTemplateError       a rule's label/annotation template (also a TemplateError)
    │   └── RuleEvaluationError     a rule evaluation failed (query error, duplicate series, limit)
    └── NotifyError
        ├── NotifyConfigError       invalid alertmanager.yml: names file:line and the problem
        ├── NotifyTemplateError     a notification template (also a TemplateError)
        ├── SilenceError            invalid silence, or no silence with that id
        └── ReceiverError           a receiver could not deliver (after retries)

Each later stage adds its own small subtree here (PromQL, rules, notify, health, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AuditChainError",
    "CircuitOpenError",
    "ConfigError",
    "ConfigProblem",
    "CorruptionError",
    "DuplicateMetricError",
    "DuplicateSampleError",
    "ErrorCaptureError",
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
    "PatternRejectedError",
    "PromQLError",
    "PromQLExecutionError",
    "PromQLParseError",
    "PromQLTypeError",
    "RateLimitStorageError",
    "ReceiverError",
    "RuleError",
    "RuleEvaluationError",
    "RuleFileError",
    "RuleTemplateError",
    "ScrapeError",
    "SecurityError",
    "SilenceError",
    "TSDBError",
    "TemplateError",
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


class TemplateError(WatchkeeperError):
    """A Go ``text/template`` failed to parse or to execute (names template and line)."""


class RuleError(WatchkeeperError):
    """Alerting or recording rules (``watchkeeper.rules``) could not be loaded or evaluated."""


class RuleFileError(RuleError):
    """A rule file is invalid; ``file``, ``line`` and ``column`` (1-based, 0 = unknown) say where.

    ``problems`` lists every problem found, each already prefixed with its position.
    """

    def __init__(self, problem: str, file: str = "", line: int = 0, column: int = 0,
                 problems: list[str] | None = None) -> None:
        self.problem = problem
        self.file = file
        self.line = line
        self.column = column
        where = file or "<rules>"
        if line:
            where += f":{line}"
            if column:
                where += f":{column}"
        text = f"{where}: {problem}"
        self.problems = problems or [text]
        super().__init__("\n".join(self.problems))


class RuleTemplateError(RuleError, TemplateError):
    """A rule's label or annotation template does not parse (raised at load time)."""


class RuleEvaluationError(RuleError):
    """A rule evaluation failed: query error, duplicate output series, or ``limit`` exceeded."""


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


class NotifyTemplateError(NotifyError, TemplateError):
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


class ScrapeError(WatchkeeperError):
    """An exposition could not be scraped or parsed (the target counts as down)."""


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


class SecurityError(WatchkeeperError):
    """The security stage was configured or used wrongly."""


class PatternRejectedError(SecurityError):
    """A detection pattern was refused at load: invalid, or not linear-time."""

    def __init__(self, rule_id: str, pattern: str, reason: str) -> None:
        self.rule_id = rule_id
        self.pattern = pattern
        self.reason = reason
        super().__init__(f"pattern of rule {rule_id!r} rejected: {reason} ({pattern!r})")


class AuditChainError(SecurityError):
    """An audit log line does not verify; ``line`` is 1-based."""

    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(f"audit chain broken at line {line}: {reason}")


class RateLimitStorageError(SecurityError):
    """The rate-limit storage URL is unusable (e.g. Redis without the ``redis`` package)."""
