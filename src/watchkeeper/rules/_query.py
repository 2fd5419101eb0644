"""The query callable rules run on: expression and time in, instant vector out."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..exceptions import RuleEvaluationError

__all__ = ["QueryFunc", "VSample", "engine_query_func"]


@dataclass(frozen=True, slots=True)
class VSample:
    """One element of an instant vector: labels (``__name__`` included), time (ms), value."""

    labels: Mapping[str, str]
    t: int
    v: float


#: Prometheus' ``QueryFunc``: evaluate ``expr`` (text or parsed) at ``t`` seconds.
QueryFunc = Callable[[Any, float], Sequence[VSample]]


def engine_query_func(engine: Any) -> QueryFunc:
    """Prometheus' ``EngineQueryFunc``: scalars become a one-sample vector without labels."""

    def query(expr: Any, t: float) -> list[VSample]:
        res = engine.instant(expr, t)
        if res.type == "vector":
            return [VSample(s.labels, s.t, s.v) for s in res.vector]
        if res.type == "scalar" and res.scalar is not None:
            return [VSample({}, res.scalar[0], res.scalar[1])]
        raise RuleEvaluationError("rule result is not a vector or scalar")

    return query
