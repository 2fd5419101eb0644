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
    ├── TSDBError                   the metric history store refused or failed
    │   ├── OutOfOrderSampleError   sample older than the series' newest sample
    │   ├── DuplicateSampleError    same timestamp, different value
    │   ├── InvalidMatcherError     bad label matcher (e.g. regex RE2 rejects)
    │   └── CorruptionError         WAL or block data that cannot be read
    └── PromQLError
        ├── PromQLParseError        syntax error, with line, column and a caret line
        ├── PromQLTypeError         operand types do not fit (Prometheus' wording)
        └── PromQLExecutionError    evaluation failed or hit a limit (samples, timeout)

Each later stage adds its own small subtree here (PromQL, rules, notify, health, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "CorruptionError",
    "DuplicateMetricError",
    "DuplicateSampleError",
    "InstrumentationError",
    "InvalidMatcherError",
    "LabelError",
    "MetricError",
    "OutOfOrderSampleError",
    "PromQLError",
    "PromQLExecutionError",
    "PromQLParseError",
    "PromQLTypeError",
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
