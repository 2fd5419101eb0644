"""Function calls: instant-vector math, label functions, dates, sorting, dispatch."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..exceptions import PromQLExecutionError
from ._ast import Call, MatrixSelector, ParenExpr, StringLiteral, SubqueryExpr, VectorSelector
from ._batched import BATCHED, eval_batched
from ._histograms import histogram_fraction, histogram_quantile, histogram_quantiles
from ._rangefuncs import RANGE_FUNCTIONS, eval_range_function
from ._starttime import ST_FUNCTIONS
from ._values import FloatArray, MatrixArg, Scalar, Series, Vector

if TYPE_CHECKING:
    from ._eval import Context, Evaluator, Value

__all__ = ["EXPERIMENTAL", "eval_call"]

EXPERIMENTAL = frozenset({
    "double_exponential_smoothing", "mad_over_time", "ts_of_first_over_time",
    "ts_of_last_over_time", "ts_of_max_over_time", "ts_of_min_over_time", "sort_by_label",
    "sort_by_label_desc", "limitk", "limit_ratio", "info", "start", "end", "step", "range",
    "min_of", "max_of", "start_timestamp", "histogram_quantiles",
})


def _math(f: Callable[[FloatArray], FloatArray]) -> Callable[[FloatArray], FloatArray]:
    def run(x: FloatArray) -> FloatArray:
        with np.errstate(all="ignore"):
            return f(x)
    return run


def _sgn(x: FloatArray) -> FloatArray:
    return np.where(np.isnan(x), x, np.sign(x))


def _round_half_up(x: FloatArray) -> FloatArray:
    return np.floor(x + 0.5)


def _floor_go(x: FloatArray) -> FloatArray:
    return np.floor(x)


SIMPLE: dict[str, Callable[[FloatArray], FloatArray]] = {
    "abs": np.abs, "ceil": np.ceil, "floor": _floor_go, "exp": _math(np.exp),
    "sqrt": _math(np.sqrt), "ln": _math(np.log), "log2": _math(np.log2),
    "log10": _math(np.log10), "sin": _math(np.sin), "cos": _math(np.cos),
    "tan": _math(np.tan), "asin": _math(np.arcsin), "acos": _math(np.arccos),
    "atan": _math(np.arctan), "sinh": _math(np.sinh), "cosh": _math(np.cosh),
    "tanh": _math(np.tanh), "asinh": _math(np.arcsinh), "acosh": _math(np.arccosh),
    "atanh": _math(np.arctanh), "rad": _math(lambda x: x * (math.pi / 180)),
    "deg": _math(lambda x: x * (180 / math.pi)), "sgn": _sgn,
}

_DATE = {"day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute",
         "month", "year"}


def _unwrap(e: object) -> object:
    while isinstance(e, ParenExpr):
        e = e.expr
    return e


def eval_call(ev: Evaluator, e: Call, ctx: Context) -> Value:
    name = e.func
    n = ctx.n
    if name == "time":
        return Scalar(ctx.times / 1000.0)
    if name == "pi":
        return Scalar(np.full(n, math.pi))
    if name == "start":
        return Scalar(np.full(n, ctx.qstart / 1000))
    if name == "end":
        return Scalar(np.full(n, ctx.qend / 1000))
    if name == "step":
        return Scalar(np.full(n, ctx.qstep / 1000))
    if name == "range":
        return Scalar(np.full(n, (ctx.qend - ctx.qstart) / 1000))
    if name in RANGE_FUNCTIONS or name == "absent_over_time":
        return _range_call(ev, e, ctx)
    if name in ("min_of", "max_of"):
        a = ev.eval_scalar(e.args[0], ctx).values
        b = ev.eval_scalar(e.args[1], ctx).values
        return Scalar(np.minimum(a, b) if name == "min_of" else np.maximum(a, b))
    if name == "vector":
        return [Series({}, ev.eval_scalar(e.args[0], ctx).values, np.ones(n, dtype=bool))]
    if name == "scalar":
        vec = ev.eval_vector(e.args[0], ctx)
        cnt = np.zeros(n, dtype=np.int64)
        val = np.full(n, np.nan)
        for s in vec:
            cnt += s.present
            val = np.where(s.present, s.values, val)
        return Scalar(np.where(cnt == 1, val, np.nan))
    if name == "absent":
        vec = ev.eval_vector(e.args[0], ctx)
        anyp = np.zeros(n, dtype=bool)
        for s in vec:
            anyp |= s.present
        from ._eval import absent_labels

        if anyp.all():
            return []
        return [Series(absent_labels(_unwrap(e.args[0])), np.ones(n), ~anyp)]  # type: ignore[arg-type]
    if name == "start_timestamp":
        arg = _unwrap(e.args[0])
        if isinstance(arg, VectorSelector):
            return ev.start_timestamps_of(arg, ctx)
        ev.eval_vector(e.args[0], ctx)
        return []  # an expression's samples carry no start timestamps
    if name == "timestamp":
        arg = _unwrap(e.args[0])
        vec = ev.eval_vector(e.args[0], ctx)
        out = []
        for s in vec:
            if isinstance(arg, VectorSelector) and s.ts is not None:
                vals = s.ts / 1000.0
            else:
                vals = ctx.times / 1000.0
            out.append(Series(s.labels, vals, s.present, True))
        return out
    if name == "label_replace":
        return _label_replace(ev, e, ctx)
    if name == "label_join":
        return _label_join(ev, e, ctx)
    if name in ("sort", "sort_desc", "sort_by_label", "sort_by_label_desc"):
        if ctx.qstart != ctx.qend:
            ctx.warnings.append("PromQL warning: sort is ineffective for range queries since "
                                f"results are always ordered by labels {ev.pos_str(e)}")
        return _sort(ev, e, ctx)
    if name == "histogram_quantile":
        q = ev.eval_scalar(e.args[0], ctx).values
        return histogram_quantile(ev, e, q, ev.eval_vector(e.args[1], ctx), ctx)
    if name == "histogram_fraction":
        lo = ev.eval_scalar(e.args[0], ctx).values
        hi = ev.eval_scalar(e.args[1], ctx).values
        return histogram_fraction(ev, e, lo, hi, ev.eval_vector(e.args[2], ctx), ctx)
    if name == "histogram_quantiles":
        vec = ev.eval_vector(e.args[0], ctx)
        label = _strings(e)[0]
        qs = [(float(ev.eval_scalar(a, ctx).values[0]), a) for a in e.args[2:]]
        return histogram_quantiles(ev, qs, label, vec, e.args[0], ctx)
    if name in ("histogram_count", "histogram_sum", "histogram_avg", "histogram_stddev",
                "histogram_stdvar"):
        ev.eval_vector(e.args[0], ctx)
        return []  # only native histograms have these; floats are ignored
    if name in ("clamp", "clamp_min", "clamp_max"):
        vec = ev.eval_vector(e.args[0], ctx)
        lo_v = np.full(n, -np.inf)
        hi_v = np.full(n, np.inf)
        if name == "clamp":
            lo_v = ev.eval_scalar(e.args[1], ctx).values
            hi_v = ev.eval_scalar(e.args[2], ctx).values
        elif name == "clamp_min":
            lo_v = ev.eval_scalar(e.args[1], ctx).values
        else:
            hi_v = ev.eval_scalar(e.args[1], ctx).values
        valid = ~(hi_v < lo_v)
        out = []
        for s in vec:
            with np.errstate(invalid="ignore"):
                v = np.maximum(lo_v, np.minimum(hi_v, s.values))
            p = s.present & valid
            if p.any():
                out.append(Series(s.labels, v, p, True))
        return out
    if name == "round":
        vec = ev.eval_vector(e.args[0], ctx)
        to = ev.eval_scalar(e.args[1], ctx).values if len(e.args) > 1 else np.ones(n)
        with np.errstate(all="ignore"):
            inv = 1.0 / to
            return [Series(s.labels, np.floor(s.values * inv + 0.5) / inv, s.present, True)
                    for s in vec]
    if name in SIMPLE:
        f = SIMPLE[name]
        return [Series(s.labels, f(s.values), s.present, True)
                for s in ev.eval_vector(e.args[0], ctx)]
    if name in _DATE:
        if e.args:
            vec = ev.eval_vector(e.args[0], ctx)
        else:
            vec = [Series({}, ctx.times / 1000.0, np.ones(n, dtype=bool))]
        return [Series(s.labels, _date(name, s.values), s.present, True) for s in vec]
    if name == "info":
        from ._info import eval_info

        return eval_info(ev, e, ctx)
    raise PromQLExecutionError(f"function {name!r} is not supported")


def _date(name: str, secs: FloatArray) -> FloatArray:
    out = np.full(len(secs), np.nan)
    finite = np.isfinite(secs)
    if not finite.any():
        return out
    dt = secs[finite].astype(np.int64).astype("datetime64[s]")
    years = dt.astype("datetime64[Y]")
    months = dt.astype("datetime64[M]")
    days = dt.astype("datetime64[D]")
    if name == "year":
        r = years.astype(np.int64) + 1970
    elif name == "month":
        r = months.astype(np.int64) % 12 + 1
    elif name == "day_of_month":
        r = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    elif name == "day_of_year":
        r = (days - years.astype("datetime64[D]")).astype(np.int64) + 1
    elif name == "day_of_week":
        r = (days.astype(np.int64) + 4) % 7
    elif name == "hour":
        r = (dt - days.astype("datetime64[s]")).astype(np.int64) // 3600
    elif name == "minute":
        r = (dt - days.astype("datetime64[s]")).astype(np.int64) % 3600 // 60
    else:
        nxt = (months + 1).astype("datetime64[D]")
        r = (nxt - months.astype("datetime64[D]")).astype(np.int64)
    out[finite] = r
    return out


def _range_call(ev: Evaluator, e: Call, ctx: Context) -> Vector:
    name = e.func
    idx = next(i for i, a in enumerate(e.args)
               if isinstance(_unwrap(a), MatrixSelector | SubqueryExpr))
    sel = _unwrap(e.args[idx])
    if (ev.start_timestamps and name in ST_FUNCTIONS and isinstance(sel, MatrixSelector)
            and not (sel.anchored or sel.smoothed)):
        m = ev.matrix_selector_st(sel, ctx)
    else:
        val = ev.eval(e.args[idx], ctx)
        assert isinstance(val, MatrixArg)
        m = val
    scalars = [ev.eval_scalar(a, ctx).values for i, a in enumerate(e.args) if i != idx]
    n = ctx.n
    if name == "absent_over_time":
        anyp = np.zeros(n, dtype=bool)
        for s in m.series:
            lo = np.searchsorted(s.ts, m.ends - m.range_ms, "right")
            hi = np.searchsorted(s.ts, m.ends, "right")
            anyp |= hi > lo
        if anyp.all():
            return []
        from ._eval import absent_labels

        return [Series(absent_labels(_unwrap(e.args[idx])), np.ones(n), ~anyp)]  # type: ignore[arg-type]
    with_st = [s for s in m.series if s.sts is not None]
    if with_st:
        # Series stored with start timestamps take the per-window path; the others
        # keep the vectorised one below.
        from ._starttime import OverlapCounter, eval_with_st

        overlaps = OverlapCounter()
        st_res = []
        for s in with_st:
            assert s.sts is not None
            vals, ok = eval_with_st(name, s, s.sts, m, overlaps)
            if ok.any():
                st_res.append((s, vals, ok))
        ctx.warnings.extend(overlaps.messages(ev.pos_str(e.args[idx])))
        m = MatrixArg([s for s in m.series if s.sts is None], m.ends, m.range_ms,
                      m.anchored, m.smoothed, m.from_subquery, m.step_times)
    else:
        st_res = []
    if m.anchored or m.smoothed:
        from ._extended import eval_extended

        res = eval_extended(name, m, ctx.lookback)
    elif not m.series:
        res = []
    elif name in BATCHED:
        res = eval_batched(name, m)
    else:
        res = eval_range_function(name, m, scalars)
    res = st_res + res
    keep_name = name in ("last_over_time", "first_over_time")
    if name == "quantile_over_time" and res:
        q = scalars[0]
        bad = q[np.isnan(q) | (q < 0) | (q > 1)]
        if len(bad):
            from ._aggregations import _gofmt

            ctx.warnings.append("PromQL warning: quantile value should be between 0 and 1, "
                                f"got {_gofmt(float(bad[0]))} {ev.pos_str(e.args[0])}")
    if name in ("rate", "increase") and res:
        for s, _, _ in res:
            metric = s.labels.get("__name__", "")
            # Subquery results count too (upstream checks the series it rates, whatever
            # produced them), but only while they still carry a metric name.
            if metric and not metric.endswith(("_total", "_sum", "_count", "_bucket")):
                ctx.infos.append(
                    "PromQL info: metric might not be a counter, name does not end in "
                    f'_total/_sum/_count/_bucket: "{metric}" {ev.pos_str(e.args[idx])}')
    return [Series(s.labels, v, ok, s.drop_name or not keep_name) for s, v, ok in res]


def _strings(e: Call) -> list[str]:
    out = []
    for arg in e.args[1:]:
        a = _unwrap(arg)
        if isinstance(a, StringLiteral):
            out.append(a.value)
    return out


def _label_replace(ev: Evaluator, e: Call, ctx: Context) -> Vector:
    args = _strings(e)
    dst, repl, src, regex = args
    try:
        from ..tsdb._matchers import _compile

        rx = _compile(regex)
    except Exception as exc:
        raise PromQLExecutionError(
            f"invalid regular expression in label_replace(): {regex}") from exc
    if not dst or not _valid_utf8(dst):
        raise PromQLExecutionError(f"invalid destination label name in label_replace(): {dst}")
    vec = ev.eval_vector(e.args[0], ctx)
    out = []
    for s in vec:
        m = rx.fullmatch(s.labels.get(src, ""))
        if m is None:
            out.append(s)
            continue
        value = _expand(repl, m)
        labels = dict(s.labels)
        if value:
            labels[dst] = value
        else:
            labels.pop(dst, None)
        drop = False if dst == "__name__" else s.drop_name
        out.append(Series(labels, s.values, s.present, drop, s.ts))
    return _merge_same(out)


_TEMPLATE = re.compile(r"\$(\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")


def _expand(template: str, m: re.Match[str]) -> str:
    """Go's ``Regexp.ExpandString``: ``$1``, ``${1}``, ``$name``, ``$$``."""
    def sub(x: re.Match[str]) -> str:
        if x.group(1) == "$":
            return "$"
        ref = x.group(2) or x.group(3)
        try:
            val = m.group(int(ref)) if ref.isdigit() else m.group(ref)
        except (IndexError, error_type()):
            return ""
        return val or ""

    return _TEMPLATE.sub(sub, template)


def error_type() -> type[Exception]:
    return re.error


def _valid_utf8(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _label_join(ev: Evaluator, e: Call, ctx: Context) -> Vector:
    args = _strings(e)
    dst, sep, srcs = args[0], args[1], args[2:]
    for name in [dst, *srcs]:
        if not _valid_utf8(name) or (name is dst and not name):
            raise PromQLExecutionError(f"invalid label name in label_join(): {name}")
    vec = ev.eval_vector(e.args[0], ctx)
    out = []
    for s in vec:
        value = sep.join(s.labels.get(x, "") for x in srcs)
        labels = dict(s.labels)
        if value:
            labels[dst] = value
        else:
            labels.pop(dst, None)
        drop = False if dst == "__name__" else s.drop_name
        out.append(Series(labels, s.values, s.present, drop, s.ts))
    return _merge_same(out)


def _merge_same(vec: Vector) -> Vector:
    from ._eval import finalize_keep_names

    return finalize_keep_names(vec)


def _natkey(s: str) -> list[tuple[int, int | str]]:
    parts = re.split(r"(\d+)", s)
    return [(0, int(p)) if p.isdigit() else (1, p) for p in parts if p != ""]


def _sort(ev: Evaluator, e: Call, ctx: Context) -> Vector:
    vec = ev.eval_vector(e.args[0], ctx)
    if ctx.n != 1:
        return vec
    if e.func in ("sort", "sort_desc"):
        desc = e.func == "sort_desc"

        def key(s: Series) -> tuple[int, float]:
            v = float(s.values[0])
            if math.isnan(v):
                return (1, 0.0)
            return (0, -v if desc else v)

        return sorted(vec, key=key)
    names = _strings(e)

    def lkey(s: Series) -> tuple[list[list[tuple[int, int | str]]], list[tuple[str, str]]]:
        return ([_natkey(s.labels.get(n, "")) for n in names], sorted(s.labels.items()))

    return sorted(vec, key=lkey, reverse=e.func == "sort_by_label_desc")
