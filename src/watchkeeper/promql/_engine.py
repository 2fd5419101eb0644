"""Public query engine: ``Engine(storage).instant(expr, t)`` / ``.range(...)``."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..exceptions import PromQLExecutionError, PromQLParseError
from ._ast import (
    AggregateExpr,
    BinaryExpr,
    Call,
    DurationExpr,
    Expr,
    MatrixSelector,
    SubqueryExpr,
    VectorSelector,
)
from ._eval import Context, Evaluator, finalize
from ._functions import EXPERIMENTAL
from ._lexer import line_col
from ._parser import parse
from ._values import MatrixArg, Scalar

__all__ = ["Engine", "QueryResult", "Sample", "SeriesResult"]


@dataclass(frozen=True, slots=True)
class Sample:
    """One point of an instant vector: labels, timestamp (ms) and value."""

    labels: dict[str, str]
    t: int
    v: float


@dataclass(frozen=True, slots=True)
class SeriesResult:
    """One series of a matrix: labels and ``(t_ms, value)`` points."""

    labels: dict[str, str]
    points: list[tuple[int, float]]


@dataclass
class QueryResult:
    """What a query returned, with Prometheus' result type name and annotations."""

    type: Literal["vector", "matrix", "scalar", "string"]
    vector: list[Sample] = field(default_factory=list)
    matrix: list[SeriesResult] = field(default_factory=list)
    scalar: tuple[int, float] | None = None
    string: tuple[int, str] | None = None
    warnings: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)


def _walk(e: Any) -> Any:
    yield e
    for name in ("expr", "lhs", "rhs", "param", "vs"):
        child = getattr(e, name, None)
        if child is not None and not isinstance(child, str | int | float):
            yield from _walk(child)
    for a in getattr(e, "args", []) or []:
        yield from _walk(a)


class Engine:
    """PromQL evaluator over a storage exposing ``querier().select(matchers, mint, maxt)``.

    Args:
        storage: a :class:`watchkeeper.tsdb.TSDB` or anything with ``querier()``.
        lookback_delta: seconds a sample stays visible to instant selectors (5 m).
        max_samples: limit on samples loaded per query.
        timeout: seconds before a query is aborted.
        subquery_step: default step (s) of ``[5m:]`` subqueries.
        experimental: enable experimental functions (``limitk``, ``mad_over_time``, ...).
        start_timestamps: let ``rate``/``increase``/``irate``/``resets`` and
            ``start_timestamp()`` use stored per-sample start timestamps (Prometheus'
            experimental ``use-start-timestamps``; off by default there too).

    Example:
        >>> Engine(db).instant('sum(rate(http_requests_total[5m]))', 1_700_000_000)
    """

    def __init__(self, storage: Any, *, lookback_delta: float = 300.0,
                 max_samples: int = 50_000_000, timeout: float = 120.0,
                 subquery_step: float = 60.0, experimental: bool = False,
                 start_timestamps: bool = False) -> None:
        self.storage = storage
        self.lookback_ms = round(lookback_delta * 1000)
        self.max_samples = max_samples
        self.timeout = timeout
        self.subquery_step_ms = round(subquery_step * 1000)
        self.experimental = experimental
        self.start_timestamps = start_timestamps

    def _prepare(self, expr: str | Expr) -> tuple[Expr, str]:
        if isinstance(expr, str):
            text = expr
            tree = parse(expr)
        else:
            text, tree = "", expr
        if not self.experimental:
            for node in _walk(tree):
                what = _experimental_use(node)
                if what is not None:
                    line, col = line_col(text, getattr(node, "pos", 0))
                    raise PromQLParseError(f"{what} is experimental and not enabled "
                                           "(Engine(experimental=True))", text, line, col)
        return tree, text

    def _run(self, tree: Expr, text: str, times: np.ndarray, start: int, end: int,  # noqa: PLR0917
             step: int) -> tuple[Any, Context]:
        querier = self.storage.querier() if hasattr(self.storage, "querier") else self.storage
        ev = Evaluator(querier, text, max_samples=self.max_samples,
                       deadline=time.monotonic() + self.timeout,
                       subquery_step=self.subquery_step_ms, experimental=self.experimental,
                       start_timestamps=self.start_timestamps)
        ctx = Context(times, step, start, end, step, self.lookback_ms)
        # IEEE results (NaN, ±Inf) are PromQL semantics, not conditions to warn about.
        with np.errstate(all="ignore"):
            return ev.eval(tree, ctx), ctx

    def instant(self, expr: str | Expr, t: float) -> QueryResult:
        """Evaluate at one time ``t`` (seconds since the epoch)."""
        tree, text = self._prepare(expr)
        ts = round(t * 1000)
        val, ctx = self._run(tree, text, np.array([ts], dtype=np.int64), ts, ts, 0)
        res = self._to_result(val, ctx, instant=True, tree=tree)
        res.warnings, res.infos = _dedupe(ctx.warnings), _dedupe(ctx.infos)
        return res

    def range(self, expr: str | Expr, start: float, end: float, step: float) -> QueryResult:
        """Evaluate at ``start, start+step, ... <= end`` (seconds); returns a matrix."""
        tree, text = self._prepare(expr)
        s, e, st = round(start * 1000), round(end * 1000), round(step * 1000)
        if st <= 0:
            raise PromQLExecutionError("zero or negative query resolution step widths are "
                                       "not accepted. Try a positive integer")
        if e < s:
            raise PromQLExecutionError("end timestamp must not be before start time")
        if (e - s) // st > 11000:
            raise PromQLExecutionError("exceeded maximum resolution of 11,000 points per "
                                       "timeseries. Try decreasing the query resolution "
                                       "(?step=XX)")
        times = np.arange(s, e + 1, st, dtype=np.int64)
        from ._ast import ValueType
        from ._check import type_of

        if type_of(tree) not in (ValueType.SCALAR, ValueType.VECTOR):
            raise PromQLExecutionError(
                "invalid expression type \"" + type_of(tree).value + "\" for range query, "
                "must be Scalar or instant Vector")
        val, ctx = self._run(tree, text, times, s, e, st)
        res = self._to_result(val, ctx, instant=False, tree=tree)
        res.warnings, res.infos = _dedupe(ctx.warnings), _dedupe(ctx.infos)
        return res

    def _to_result(self, val: Any, ctx: Context, *, instant: bool, tree: Expr) -> QueryResult:
        times = ctx.times
        if isinstance(val, str):
            return QueryResult("string", string=(int(times[0]), val))
        if isinstance(val, Scalar):
            if instant:
                return QueryResult("scalar", scalar=(int(times[0]), float(val.values[0])))
            return QueryResult("matrix", matrix=[SeriesResult(
                {}, [(int(t), float(v)) for t, v in zip(times, val.values, strict=True)])])
        if isinstance(val, MatrixArg):
            out = []
            for s in val.series:
                end = int(val.ends[0])
                keep = (s.ts > end - val.range_ms) & (s.ts <= end)
                if keep.any():
                    labels = s.labels
                    if s.drop_name:
                        labels = {k: v for k, v in labels.items() if k != "__name__"}
                    out.append(SeriesResult(labels, list(zip(s.ts[keep].tolist(),
                                                             s.vs[keep].tolist(),
                                                             strict=True))))
            return QueryResult("matrix", matrix=out)
        vec = finalize(val)
        if instant:
            t0 = int(times[0])
            return QueryResult("vector", vector=[Sample(v.labels, t0, float(v.values[0]))
                                                 for v in vec if v.present[0]])
        series = []
        for v in sorted(vec, key=lambda x: sorted(x.labels.items())):
            idx = np.nonzero(v.present)[0]
            if len(idx):
                series.append(SeriesResult(v.labels, list(zip(times[idx].tolist(),
                                                              v.values[idx].tolist(),
                                                              strict=True))))
        return QueryResult("matrix", matrix=series)


def _experimental_use(node: Any) -> str | None:
    """Name of the experimental feature a node uses, if any (Prometheus gates them too)."""
    if isinstance(node, Call) and node.func in EXPERIMENTAL:
        return f'function "{node.func}"'
    if isinstance(node, AggregateExpr) and node.op in ("limitk", "limit_ratio"):
        return f"{node.op}()"
    if isinstance(node, MatrixSelector) and (node.anchored or node.smoothed):
        return "the anchored/smoothed modifier"
    if isinstance(node, VectorSelector) and node.smoothed:
        return "the smoothed modifier"
    if isinstance(node, BinaryExpr) and node.matching is not None and (
            node.matching.fill_left is not None or node.matching.fill_right is not None):
        return "the fill() modifier"
    durations = [getattr(node, a, None) for a in ("offset", "range", "step")]
    if isinstance(node, MatrixSelector):
        durations.append(node.vs.offset)
    if any(isinstance(d, DurationExpr) for d in durations):
        return "a duration expression"
    return None


def _dedupe(items: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for i in items:
        if i:
            seen.setdefault(i, None)
    return list(seen)


def is_range_type(e: Expr) -> bool:
    return isinstance(e, MatrixSelector | SubqueryExpr)


def _unused(x: VectorSelector) -> float:
    return math.nan
