"""Functions over range vectors (``rate``, ``*_over_time``, ...), per series and window.

Windows are left-open, ``(end - range, end]``. The hot functions (rate family, count,
last, present) are vectorised over steps; the rest walk each window's numpy slice.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np

from ._aggregations import quantile
from ._kahan import kahan_inc
from ._values import BoolArray, FloatArray, IntArray, MatrixArg, RangeSeries

__all__ = ["RANGE_FUNCTIONS", "eval_range_function"]

Result = tuple[FloatArray, BoolArray]


def _windows(s: RangeSeries, m: MatrixArg) -> tuple[IntArray, IntArray]:
    lo = np.searchsorted(s.ts, m.ends - m.range_ms, "right")
    hi = np.searchsorted(s.ts, m.ends, "right")
    return lo, hi


def _extrapolated(s: RangeSeries, m: MatrixArg, counter: bool, is_rate: bool) -> Result:
    lo, hi = _windows(s, m)
    ok = (hi - lo) >= 2
    ts, vs = s.ts, s.vs
    first = np.where(ok, lo, 0)
    last = np.where(ok, hi - 1, 0)
    with np.errstate(all="ignore"):
        result = vs[last] - vs[first]
        if counter:
            drops = np.concatenate([[0.0], np.where(vs[1:] < vs[:-1], vs[:-1], 0.0)])
            if drops.any():
                # Exact per-window sums: the cumulative-difference trick loses precision.
                corr = np.zeros(len(lo))
                nz = np.nonzero(drops)[0]
                for k in np.nonzero(ok)[0]:
                    a, b = first[k] + 1, last[k] + 1
                    sel = nz[(nz >= a) & (nz < b)]
                    if len(sel):
                        corr[k] = math.fsum(drops[sel].tolist())
                result = result + corr
        range_start = m.ends - m.range_ms
        range_end = m.ends
        ft = ts[first].astype(np.float64)
        lt = ts[last].astype(np.float64)
        to_start = (ft - range_start) / 1000
        to_end = (range_end - lt) / 1000
        sampled = (lt - ft) / 1000
        nminus1 = np.maximum(hi - lo - 1, 1)
        avg = sampled / nminus1
        thresh = avg * 1.1
        to_start = np.where(to_start >= thresh, avg / 2, to_start)
        if counter:
            fv = vs[first]
            to_zero = np.where((result > 0) & (fv >= 0), sampled * (fv / result), to_start)
            to_start = np.where(to_zero < to_start, to_zero, to_start)
        to_end = np.where(to_end >= thresh, avg / 2, to_end)
        factor = np.where(sampled != 0, (sampled + to_start + to_end) / sampled, 1.0)
        if is_rate:
            factor = factor / (m.range_ms / 1000)
        result = result * factor
    return result, ok


def _rate(s: RangeSeries, m: MatrixArg, _: list[FloatArray]) -> Result:
    return _extrapolated(s, m, True, True)


def _increase(s: RangeSeries, m: MatrixArg, _: list[FloatArray]) -> Result:
    return _extrapolated(s, m, True, False)


def _delta(s: RangeSeries, m: MatrixArg, _: list[FloatArray]) -> Result:
    return _extrapolated(s, m, False, False)


def _instant(s: RangeSeries, m: MatrixArg, is_rate: bool) -> Result:
    lo, hi = _windows(s, m)
    ok = (hi - lo) >= 2
    last = np.where(ok, hi - 1, 1)
    prev = last - 1
    with np.errstate(all="ignore"):
        lv, pv = s.vs[last], s.vs[prev]
        dt = (s.ts[last] - s.ts[prev]).astype(np.float64)
        res = np.where(lv < pv, lv, lv - pv) / (dt / 1000) if is_rate else lv - pv
    return res, ok


def _irate(s: RangeSeries, m: MatrixArg, _: list[FloatArray]) -> Result:
    return _instant(s, m, True)


def _idelta(s: RangeSeries, m: MatrixArg, _: list[FloatArray]) -> Result:
    return _instant(s, m, False)


def _count(s: RangeSeries, m: MatrixArg, _: list[FloatArray]) -> Result:
    lo, hi = _windows(s, m)
    return (hi - lo).astype(np.float64), hi > lo


def _present(s: RangeSeries, m: MatrixArg, _: list[FloatArray]) -> Result:
    lo, hi = _windows(s, m)
    return np.ones(len(lo)), hi > lo


def _last(s: RangeSeries, m: MatrixArg, _: list[FloatArray]) -> Result:
    lo, hi = _windows(s, m)
    ok = hi > lo
    return s.vs[np.where(ok, hi - 1, 0)], ok


def _first(s: RangeSeries, m: MatrixArg, _: list[FloatArray]) -> Result:
    lo, hi = _windows(s, m)
    ok = hi > lo
    return s.vs[np.where(ok, lo, 0)], ok


def _ts_last(s: RangeSeries, m: MatrixArg, _: list[FloatArray]) -> Result:
    lo, hi = _windows(s, m)
    ok = hi > lo
    return s.ts[np.where(ok, hi - 1, 0)] / 1000, ok


def _ts_first(s: RangeSeries, m: MatrixArg, _: list[FloatArray]) -> Result:
    lo, hi = _windows(s, m)
    ok = hi > lo
    return s.ts[np.where(ok, lo, 0)] / 1000, ok


WindowFn = Callable[[IntArray, FloatArray, int, list[float]], float | None]


def _per_window(fn: WindowFn) -> Callable[[RangeSeries, MatrixArg, list[FloatArray]], Result]:
    def run(s: RangeSeries, m: MatrixArg, args: list[FloatArray]) -> Result:
        lo, hi = _windows(s, m)
        n = len(lo)
        out = np.full(n, np.nan)
        ok = np.zeros(n, dtype=bool)
        cache: dict[tuple[int, int, tuple[float, ...]], float | None] = {}
        for k in range(n):
            a, b = int(lo[k]), int(hi[k])
            if b <= a:
                continue
            extra = [float(x[k]) for x in args]
            key = (a, b, tuple(extra))
            if key in cache and not _step_dependent(fn):
                r = cache[key]
            else:
                r = fn(s.ts[a:b], s.vs[a:b], int(m.step_times[k]) if len(m.step_times) > k
                       else int(m.ends[k]), extra)
                cache[key] = r
            if r is not None:
                out[k] = r
                ok[k] = True
        return out, ok

    return run


def _step_dependent(fn: WindowFn) -> bool:
    return fn is _w_predict_linear


def _w_sum(ts: IntArray, vs: FloatArray, t: int, a: list[float]) -> float:
    total = c = 0.0
    for v in vs.tolist():
        total, c = kahan_inc(v, total, c)
    return total if math.isinf(total) else total + c


def _w_avg(ts: IntArray, vs: FloatArray, t: int, a: list[float]) -> float:
    vals = vs.tolist()
    total, count, mean, c = vals[0], 1.0, 0.0, 0.0
    incremental = False
    for i, f in enumerate(vals[1:]):
        count = float(i + 2)
        if not incremental:
            nt, nc = kahan_inc(f, total, c)
            if not math.isinf(nt):
                total, c = nt, nc
                continue
            incremental = True
            mean = total / (count - 1)
            c /= count - 1
        q = (count - 1) / count
        mean, c = kahan_inc(f / count, q * mean, q * c)
    if incremental:
        return float(mean + c)
    return float(total / count + c / count)


def _w_max(ts: IntArray, vs: FloatArray, t: int, a: list[float]) -> float:
    best = float(vs[0])
    for f in vs.tolist():
        if f > best or math.isnan(best):
            best = f
    return best


def _w_min(ts: IntArray, vs: FloatArray, t: int, a: list[float]) -> float:
    best = float(vs[0])
    for f in vs.tolist():
        if f < best or math.isnan(best):
            best = f
    return best


def _w_ts_max(ts: IntArray, vs: FloatArray, t: int, a: list[float]) -> float:
    best, bt = float(vs[0]), int(ts[0])
    for f, tt in zip(vs.tolist(), ts.tolist(), strict=True):
        if f > best or math.isnan(best):
            best, bt = f, tt
    return bt / 1000


def _w_ts_min(ts: IntArray, vs: FloatArray, t: int, a: list[float]) -> float:
    best, bt = float(vs[0]), int(ts[0])
    for f, tt in zip(vs.tolist(), ts.tolist(), strict=True):
        if f < best or math.isnan(best):
            best, bt = f, tt
    return bt / 1000


def _w_var(ts: IntArray, vs: FloatArray, t: int, a: list[float]) -> float:
    count = mean = cmean = aux = caux = 0.0
    for f in vs.tolist():
        count += 1
        delta = f - (mean + cmean)
        mean, cmean = kahan_inc(delta / count, mean, cmean)
        aux, caux = kahan_inc(delta * (f - (mean + cmean)), aux, caux)
    return (aux + caux) / count


def _w_std(ts: IntArray, vs: FloatArray, t: int, a: list[float]) -> float:
    return math.sqrt(_w_var(ts, vs, t, a))


def _w_quantile(ts: IntArray, vs: FloatArray, t: int, a: list[float]) -> float:
    return quantile(a[0], vs.tolist())


def _w_mad(ts: IntArray, vs: FloatArray, t: int, a: list[float]) -> float:
    vals = vs.tolist()
    if any(math.isnan(v) for v in vals):
        return math.nan
    med = quantile(0.5, vals)
    return quantile(0.5, [abs(v - med) for v in vals])


def _w_changes(ts: IntArray, vs: FloatArray, t: int, a: list[float]) -> float:
    vals = vs.tolist()
    n = 0
    for p, c in itertools.pairwise(vals):
        if c != p and not (math.isnan(c) and math.isnan(p)):
            n += 1
    return float(n)


def _w_resets(ts: IntArray, vs: FloatArray, t: int, a: list[float]) -> float:
    vals = vs.tolist()
    return float(sum(1 for p, c in itertools.pairwise(vals) if c < p))


def _linreg(ts: IntArray, vs: FloatArray, intercept_t: int) -> tuple[float, float]:
    vals = vs.tolist()
    init = vals[0]
    const = all(v == init for v in vals[1:])
    if const:
        if math.isinf(init):
            return math.nan, math.nan
        return 0.0, init
    n = 0.0
    sx = cx = sy = cy = sxy = cxy = sx2 = cx2 = 0.0
    for tt, v in zip(ts.tolist(), vals, strict=True):
        n += 1
        x = (tt - intercept_t) / 1e3
        sx, cx = kahan_inc(x, sx, cx)
        sy, cy = kahan_inc(v, sy, cy)
        sxy, cxy = kahan_inc(x * v, sxy, cxy)
        sx2, cx2 = kahan_inc(x * x, sx2, cx2)
    sx += cx
    sy += cy
    sxy += cxy
    sx2 += cx2
    cov = sxy - sx * sy / n
    var = sx2 - sx * sx / n
    try:
        slope = cov / var
    except ZeroDivisionError:
        slope = math.copysign(math.inf, cov) if cov != 0 and not math.isnan(cov) else math.nan
    return slope, sy / n - slope * sx / n


def _w_deriv(ts: IntArray, vs: FloatArray, t: int, a: list[float]) -> float | None:
    if len(vs) < 2:
        return None
    return _linreg(ts, vs, int(ts[0]))[0]


def _w_predict_linear(ts: IntArray, vs: FloatArray, t: int, a: list[float]) -> float | None:
    if len(vs) < 2:
        return None
    slope, icpt = _linreg(ts, vs, t)
    return slope * a[0] + icpt


def _w_holt(ts: IntArray, vs: FloatArray, t: int, a: list[float]) -> float | None:
    sf, tf = a[0], a[1]
    if not (0 < sf < 1):
        from ..exceptions import PromQLExecutionError

        raise PromQLExecutionError(
            f"invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:f}")
    if not (0 < tf < 1):
        from ..exceptions import PromQLExecutionError

        raise PromQLExecutionError(f"invalid trend factor. Expected: 0 < tf < 1, got: {tf:f}")
    vals = vs.tolist()
    if len(vals) < 2:
        return None
    s0, s1 = 0.0, vals[0]
    b = vals[1] - vals[0]
    for i in range(1, len(vals)):
        x = sf * vals[i]
        if i - 1 != 0:
            b = tf * (s1 - s0) + (1 - tf) * b
        y = (1 - sf) * (s1 + b)
        s0, s1 = s1, x + y
    return float(s1)


RANGE_FUNCTIONS: dict[str, Callable[[RangeSeries, MatrixArg, list[FloatArray]], Result]] = {
    "rate": _rate, "increase": _increase, "delta": _delta, "irate": _irate,
    "idelta": _idelta, "count_over_time": _count, "present_over_time": _present,
    "last_over_time": _last, "first_over_time": _first,
    "ts_of_last_over_time": _ts_last, "ts_of_first_over_time": _ts_first,
    "sum_over_time": _per_window(_w_sum), "avg_over_time": _per_window(_w_avg),
    "max_over_time": _per_window(_w_max), "min_over_time": _per_window(_w_min),
    "ts_of_max_over_time": _per_window(_w_ts_max),
    "ts_of_min_over_time": _per_window(_w_ts_min),
    "stddev_over_time": _per_window(_w_std), "stdvar_over_time": _per_window(_w_var),
    "quantile_over_time": _per_window(_w_quantile), "mad_over_time": _per_window(_w_mad),
    "changes": _per_window(_w_changes), "resets": _per_window(_w_resets),
    "deriv": _per_window(_w_deriv), "predict_linear": _per_window(_w_predict_linear),
    "double_exponential_smoothing": _per_window(_w_holt),
}


def eval_range_function(name: str, m: MatrixArg, args: list[FloatArray]) -> list[
        tuple[RangeSeries, FloatArray, BoolArray]]:
    fn = RANGE_FUNCTIONS[name]
    out = []
    for s in m.series:
        vals, ok = fn(s, m, args)
        if ok.any():
            out.append((s, vals, ok))
    return out
