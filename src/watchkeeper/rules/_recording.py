"""Recording rules: the expression's result, renamed and relabelled, written back."""

from __future__ import annotations

from collections.abc import Mapping

from ..exceptions import RuleEvaluationError
from ._model import Rule
from ._query import QueryFunc, VSample

__all__ = ["RecordingRule"]


class RecordingRule:
    """Evaluates one ``record:`` rule."""

    def __init__(self, rule: Rule, *, group_labels: Mapping[str, str] | None = None) -> None:
        from ..promql import parse

        self.rule = rule
        self.name = rule.name
        self.tree = parse(rule.expr)
        self.labels = {**(group_labels or {}), **rule.labels}
        self.last_error: Exception | None = None

    def eval(self, ts: float, query: QueryFunc, *, query_offset: float = 0.0,
             limit: int = 0) -> list[VSample]:
        out: list[VSample] = []
        seen: set[tuple[tuple[str, str], ...]] = set()
        for s in query(self.tree, ts - query_offset):
            lbs = {**s.labels, "__name__": self.name, **self.labels}
            lbs = {k: v for k, v in lbs.items() if v != ""}
            key = tuple(sorted(lbs.items()))
            if key in seen:
                raise RuleEvaluationError("vector contains metrics with the same labelset "
                                          "after applying rule labels")
            seen.add(key)
            out.append(VSample(lbs, s.t, s.v))
        if limit > 0 and len(out) > limit:
            raise RuleEvaluationError(f"exceeded limit of {limit} with {len(out)} series")
        return out
