"""The evaluator: walks the tree once per query, every node over all steps at once."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..exceptions import PromQLExecutionError
from ..tsdb import Matcher, MatchType, stale_mask
from ._ast import (
    AggregateExpr,
    BinaryExpr,
    Call,
    DurationExpr,
    Expr,
    MatrixSelector,
    NumberLiteral,
    ParenExpr,
    StringLiteral,
    SubqueryExpr,
    UnaryExpr,
    VectorSelector,
)
from ._parser import parse_duration_expr_ms
from ._values import IntArray, MatrixArg, RangeSeries, Scalar, Series, Vector, label_key

__all__ = ["Context", "Evaluator", "Value"]

Value = Vector | Scalar | str | MatrixArg


@dataclass
class Context:
    """Step grid of the (sub)query being evaluated plus query-wide settings."""

    times: IntArray
    step: int
    qstart: int
    qend: int
    qstep: int
    lookback: int
    warnings: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.times)


class Evaluator:
    """Evaluates expressions against a querier; owns limits and annotations."""

    def __init__(self, querier: Any, query: str, *, max_samples: int, deadline: float,
                 subquery_step: int, experimental: bool, start_timestamps: bool = False
                 ) -> None:
        self.querier = querier
        self.query = query
        self.max_samples = max_samples
        self.deadline = deadline
        self.subquery_step = subquery_step
        self.experimental = experimental
        self.start_timestamps = start_timestamps
        self.samples = 0

    # --- helpers ------------------------------------------------------------------------
    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise PromQLExecutionError("query timed out in expression evaluation")

    def count(self, n: int) -> None:
        self.samples += n
        if self.samples > self.max_samples:
            raise PromQLExecutionError(
                "query processing would load too many samples into memory in query execution")

    def dur(self, d: int | DurationExpr, ctx: Context) -> int:
        return parse_duration_expr_ms(d, ctx.qstep, ctx.qend - ctx.qstart)

    def eff_times(self, offset: int | DurationExpr, at: float | None, at_mod: str | None,
                  ctx: Context) -> IntArray:
        off = self.dur(offset, ctx)
        if at is not None:
            return np.full(ctx.n, round(at * 1000) - off, dtype=np.int64)
        if at_mod == "start":
            return np.full(ctx.n, ctx.qstart - off, dtype=np.int64)
        if at_mod == "end":
            return np.full(ctx.n, ctx.qend - off, dtype=np.int64)
        return ctx.times - off

    def pos_str(self, e: Expr) -> str:
        from ._lexer import line_col

        line, col = line_col(self.query, e.pos)
        return f"({line}:{col})"

    # --- dispatch -----------------------------------------------------------------------
    def eval(self, e: Expr, ctx: Context) -> Value:
        self.check_time()
        if isinstance(e, NumberLiteral):
            return Scalar(np.full(ctx.n, e.value))
        if isinstance(e, StringLiteral):
            return e.value
        if isinstance(e, ParenExpr):
            return self.eval(e.expr, ctx)
        if isinstance(e, DurationExpr):
            return Scalar(np.full(ctx.n, self.dur(e, ctx) / 1000))
        if isinstance(e, UnaryExpr):
            v = self.eval(e.expr, ctx)
            if e.op == "+":
                return v
            if isinstance(v, Scalar):
                return Scalar(-v.values)
            assert isinstance(v, list)
            return [Series(s.labels, -s.values, s.present, True) for s in v]
        if isinstance(e, VectorSelector):
            return self.vector_selector(e, ctx)
        if isinstance(e, MatrixSelector):
            return self.matrix_selector(e, ctx)
        if isinstance(e, SubqueryExpr):
            return self.subquery(e, ctx)
        if isinstance(e, BinaryExpr):
            from ._binops import eval_binary

            return eval_binary(self, e, ctx)
        if isinstance(e, AggregateExpr):
            from ._aggregations import eval_aggregate

            return eval_aggregate(self, e, ctx)
        if isinstance(e, Call):
            from ._functions import eval_call

            return eval_call(self, e, ctx)
        raise PromQLExecutionError(f"unexpected expression {type(e).__name__}")

    def eval_vector(self, e: Expr, ctx: Context) -> Vector:
        v = self.eval(e, ctx)
        assert isinstance(v, list)
        return v

    def eval_scalar(self, e: Expr, ctx: Context) -> Scalar:
        v = self.eval(e, ctx)
        assert isinstance(v, Scalar)
        return v

    # --- selectors ----------------------------------------------------------------------
    def select(self, matchers: list[Matcher], mint: int, maxt: int) -> list[Any]:
        return list(self.querier.select(matchers, mint, maxt))

    def select_flat(self, matchers: list[Matcher], mint: int, maxt: int
                    ) -> tuple[list[Any], IntArray, Any, IntArray]:
        """Labels, flat timestamps/values and per-series counts (one array, not N)."""
        fn = getattr(self.querier, "select_concat", None)
        if fn is not None:
            labels, t_all, v_all, lens = fn(matchers, mint, maxt)
            return labels, t_all, v_all, lens
        data = [sd for sd in self.select(matchers, mint, maxt) if len(sd.timestamps)]
        lens = np.fromiter((len(sd.timestamps) for sd in data), np.int64, len(data))
        if not data:
            return [], np.empty(0, np.int64), np.empty(0, np.float64), lens
        return ([sd.labels for sd in data], np.concatenate([sd.timestamps for sd in data]),
                np.concatenate([sd.values for sd in data]), lens)

    def vector_selector(self, vs: VectorSelector, ctx: Context) -> Vector:
        eff = self.eff_times(vs.offset, vs.at, vs.at_mod, ctx)
        if not len(eff):
            return []
        lb = ctx.lookback
        if vs.smoothed:
            return self._smoothed_selector(vs, eff, lb)
        labels, t_all, v_all, lens = self.select_flat(vs.matchers, int(eff.min()) - lb + 1,
                                                      int(eff.max()))
        if not labels:
            return []
        tmin = min(int(t_all.min()), int(eff.min()) - lb) - 1
        span = max(int(t_all.max()), int(eff.max())) - tmin + 2
        if span * (len(labels) + 1) < 2**62:
            return self._batched_selector(labels, t_all, v_all, lens, eff, lb, tmin, span)
        out: Vector = []
        starts = np.concatenate([[0], np.cumsum(lens)])
        for i, lbl in enumerate(labels):
            ts, vals = t_all[starts[i]:starts[i + 1]], v_all[starts[i]:starts[i + 1]]
            idx = np.searchsorted(ts, eff, "right") - 1
            ok = idx >= 0
            idxc = np.where(ok, idx, 0)
            sts = ts[idxc]
            v = vals[idxc]
            ok &= sts > eff - lb
            ok &= ~stale_mask(v)
            if ok.any():
                self.count(int(ok.sum()))
                out.append(Series(dict(lbl), v, ok, False, sts))
        return out

    def _batched_selector(self, labels: list[Any], t_all: IntArray, v_all: Any,  # noqa: PLR0917
                          lens: IntArray, eff: IntArray, lb: int, tmin: int, span: int
                          ) -> Vector:
        """All series' lookups in one searchsorted (series laid end to end in time)."""
        n = len(labels)
        sid = np.repeat(np.arange(n, dtype=np.int64), lens)
        key = (t_all - tmin) + sid * span
        base = (np.arange(n, dtype=np.int64) * span)[:, None]
        idx = np.searchsorted(key, base + (eff - tmin)[None, :], "right") - 1
        starts = np.concatenate([[0], np.cumsum(lens)[:-1]])[:, None]
        ok = idx >= starts
        idxc = np.where(ok, idx, 0)
        sts = t_all[idxc]
        vals = v_all[idxc]
        ok &= sts > eff[None, :] - lb
        ok &= ~stale_mask(vals)
        self.count(int(ok.sum()))
        keep = np.nonzero(ok.any(axis=1))[0].tolist()
        return [Series(dict(labels[i]), vals[i], ok[i], False, sts[i]) for i in keep]

    def _smoothed_selector(self, vs: VectorSelector, eff: IntArray, lb: int) -> Vector:
        """Value at each step interpolated between the samples around it (± lookback)."""
        out: Vector = []
        for sd in self.select(vs.matchers, int(eff.min()) - lb + 1, int(eff.max()) + lb):
            keep = ~stale_mask(sd.values)
            ts, vals = sd.timestamps[keep], sd.values[keep]
            n = len(eff)
            res = np.full(n, np.nan)
            ok = np.zeros(n, dtype=bool)
            for k in range(n):
                t = int(eff[k])
                lo = int(np.searchsorted(ts, t - lb, "right"))
                hi = int(np.searchsorted(ts, t + lb, "right"))
                if hi <= lo:
                    continue
                i = int(np.searchsorted(ts[lo:hi], t, "left")) + lo
                if i < hi and ts[i] == t:
                    res[k] = vals[i]
                elif lo < i < hi:
                    t1, t2 = int(ts[i - 1]), int(ts[i])
                    v1, v2 = float(vals[i - 1]), float(vals[i])
                    res[k] = v1 + (v2 - v1) * (t - t1) / (t2 - t1)
                elif i > lo:
                    res[k] = vals[i - 1]
                else:
                    continue
                ok[k] = True
            if ok.any():
                out.append(Series(dict(sd.labels), res, ok))
        return out

    def matrix_selector(self, ms: MatrixSelector, ctx: Context) -> MatrixArg:
        vs = ms.vs
        eff = self.eff_times(vs.offset, vs.at, vs.at_mod, ctx)
        rng = self.dur(ms.range, ctx)
        if rng <= 0:
            raise PromQLExecutionError(f"range must be positive, got {rng}ms")
        lo_extra = ctx.lookback if (ms.anchored or ms.smoothed) else 0
        hi_extra = ctx.lookback if ms.smoothed else 0
        series: list[RangeSeries] = []
        if len(eff):
            labels, t_all, v_all, lens = self.select_flat(
                vs.matchers, int(eff.min()) - rng - lo_extra + 1, int(eff.max()) + hi_extra)
            sid = None
            stale = stale_mask(v_all)
            if stale.any():
                # Staleness markers never enter range vectors.
                sid = np.repeat(np.arange(len(labels)), lens)
                keep = ~stale
                t_all, v_all, sid = t_all[keep], v_all[keep], sid[keep]
                lens = np.bincount(sid, minlength=len(labels))
            bounds = np.concatenate([[0], np.cumsum(lens)]).tolist()
            for i, lbl in enumerate(labels):
                a, b = bounds[i], bounds[i + 1]
                if b > a:
                    series.append(RangeSeries(dict(lbl), t_all[a:b], v_all[a:b]))
            self.count(len(t_all))
        return MatrixArg(series, eff, rng, ms.anchored, ms.smoothed, False, ctx.times)

    def matrix_selector_st(self, ms: MatrixSelector, ctx: Context) -> MatrixArg:
        """Like :meth:`matrix_selector`, keeping each sample's start timestamp."""
        vs = ms.vs
        eff = self.eff_times(vs.offset, vs.at, vs.at_mod, ctx)
        rng = self.dur(ms.range, ctx)
        if rng <= 0:
            raise PromQLExecutionError(f"range must be positive, got {rng}ms")
        series: list[RangeSeries] = []
        if len(eff):
            for sd in self.select(vs.matchers, int(eff.min()) - rng + 1, int(eff.max())):
                keep = ~stale_mask(sd.values)
                if not keep.any():
                    continue
                sts = sd.start_timestamps
                series.append(RangeSeries(dict(sd.labels), sd.timestamps[keep],
                                          sd.values[keep], False,
                                          sts[keep] if sts is not None else None))
                self.count(int(keep.sum()))
        return MatrixArg(series, eff, rng, False, False, False, ctx.times)

    def start_timestamps_of(self, vs: VectorSelector, ctx: Context) -> Vector:
        """``start_timestamp(selector)``: the ST of the sample each step selects."""
        eff = self.eff_times(vs.offset, vs.at, vs.at_mod, ctx)
        if not len(eff) or not self.start_timestamps:
            return []
        lb = ctx.lookback
        out: Vector = []
        for sd in self.select(vs.matchers, int(eff.min()) - lb + 1, int(eff.max())):
            if sd.start_timestamps is None:
                sts = np.zeros(len(sd.timestamps), np.int64)
            else:
                sts = sd.start_timestamps
            idx = np.searchsorted(sd.timestamps, eff, "right") - 1
            ok = idx >= 0
            idxc = np.where(ok, idx, 0)
            ok &= sd.timestamps[idxc] > eff - lb
            ok &= ~stale_mask(sd.values[idxc])
            if ok.any():
                self.count(int(ok.sum()))
                out.append(Series(dict(sd.labels), sts[idxc] / 1000.0, ok, True))
        return out

    def subquery(self, sq: SubqueryExpr, ctx: Context) -> MatrixArg:
        eff = self.eff_times(sq.offset, sq.at, sq.at_mod, ctx)
        rng = self.dur(sq.range, ctx)
        step = self.dur(sq.step, ctx) if sq.step is not None else self.subquery_step
        if step <= 0:
            raise PromQLExecutionError(f"subquery step must be positive, got {step}ms")
        base = int(eff.min()) - rng
        start = step * _go_div(base, step)
        if start <= base:
            start += step
        end = int(eff.max())
        times = np.arange(start, end + 1, step, dtype=np.int64)
        inner = Context(times, step, ctx.qstart, ctx.qend, ctx.qstep, ctx.lookback,
                        ctx.warnings, ctx.infos)
        val = self.eval(sq.expr, inner) if len(times) else []
        assert isinstance(val, list)
        series = []
        for s in val:
            if s.present.any():
                series.append(RangeSeries(s.labels, times[s.present], s.values[s.present],
                                          s.drop_name))
        return MatrixArg(series, eff, rng, False, False, True, ctx.times)


def _go_div(a: int, b: int) -> int:
    """Integer division truncating toward zero, as Go does."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def absent_labels(e: Expr) -> dict[str, str]:
    """Labels ``absent()`` reports: equality matchers of a plain selector, used once."""
    if isinstance(e, MatrixSelector):
        e = e.vs
    if not isinstance(e, VectorSelector):
        return {}
    out: dict[str, str] = {}
    has: set[str] = set()
    for m in e.matchers:
        if m.name == "__name__":
            continue
        if m.type is MatchType.EQUAL and m.name not in has:
            out[m.name] = m.value
            has.add(m.name)
        else:
            out.pop(m.name, None)
    return out


def finalize(vec: Vector) -> Vector:
    """Apply delayed ``__name__`` removal, then merge equal label sets (error on overlap)."""
    if not any(s.drop_name for s in vec):
        # Every stage keeps label sets unique on its own; only dropping names can collide.
        return vec
    reserved = ("__name__", "__type__", "__unit__")
    groups: dict[frozenset[tuple[str, str]], list[Series]] = {}
    collided = False
    for s in vec:
        if s.drop_name:
            lb = s.labels
            if "__name__" in lb or "__type__" in lb or "__unit__" in lb:
                s.labels = {k: v for k, v in lb.items() if k not in reserved}
            s.drop_name = False
        key = frozenset(s.labels.items())
        members = groups.get(key)
        if members is None:
            groups[key] = [s]
        else:
            members.append(s)
            collided = True
    if not collided:
        return vec
    return _merge_groups(groups)


def is_nan_param(v: float) -> bool:
    return math.isnan(v)


def finalize_keep_names(vec: Vector) -> Vector:
    """Merge series whose label sets became equal (label_replace/join), error on overlap."""
    groups: dict[frozenset[tuple[str, str]], list[Series]] = {}
    for s in vec:
        groups.setdefault(label_key(s.labels), []).append(s)
    return _merge_groups(groups)


def _merge_groups(groups: dict[frozenset[tuple[str, str]], list[Series]]) -> Vector:
    """One series per label set: series that share one are merged step by step, and two
    with a value at the same step are the error Prometheus reports."""
    out: Vector = []
    for members in groups.values():
        if len(members) == 1:
            out.append(members[0])
            continue
        total = np.zeros(len(members[0].values), dtype=np.int64)
        for m in members:
            total += m.present
        if (total > 1).any():
            raise PromQLExecutionError("vector cannot contain metrics with the same labelset")
        vals = members[0].values.copy()
        pres = members[0].present.copy()
        for m in members[1:]:
            vals = np.where(m.present, m.values, vals)
            pres |= m.present
        out.append(Series(members[0].labels, vals, pres, members[0].drop_name))
    return out
