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
    └── SecurityError
        ├── PatternRejectedError    a detection pattern that could not run in linear time
        ├── AuditChainError         an audit log whose hash chain does not verify
        └── RateLimitStorageError   the rate-limit storage could not be reached or used

Each later stage adds its own small subtree here (PromQL, rules, notify, health, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AuditChainError",
    "ConfigError",
    "ConfigProblem",
    "DuplicateMetricError",
    "InstrumentationError",
    "LabelError",
    "MetricError",
    "PatternRejectedError",
    "RateLimitStorageError",
    "SecurityError",
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
