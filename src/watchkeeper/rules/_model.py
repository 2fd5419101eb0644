"""What a rule file holds once loaded: groups of recording and alerting rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Rule", "RuleGroup"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One recording (``kind="record"``) or alerting (``kind="alert"``) rule.

    Durations are seconds. ``line`` is where the rule starts in its file (0 if built in code).
    """

    kind: Literal["record", "alert"]
    name: str
    expr: str
    for_: float = 0.0
    keep_firing_for: float = 0.0
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    line: int = 0


@dataclass(frozen=True, slots=True)
class RuleGroup:
    """A group of rules evaluated in order at one interval.

    ``interval`` is ``None`` when the file gave none (the manager's default applies);
    ``query_offset`` ``None`` likewise; ``limit`` 0 means no limit.
    """

    name: str
    file: str
    rules: tuple[Rule, ...]
    interval: float | None = None
    limit: int = 0
    query_offset: float | None = None
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Prometheus' group key ``file;name`` (used for the evaluation offset and state)."""
        return f"{self.file};{self.name}"
