"""Range functions over all series at once: one searchsorted for every window.

Series are laid end to end with a per-series time shift (``series index * span``), so
the windows of every series and step come from a single ``np.searchsorted`` call and
the rate family is computed on (series x steps) arrays without a Python loop.
"""

from __future__ import annotations

import math

import numpy as np

from ._values import BoolArray, FloatArray, IntArray, MatrixArg, RangeSeries

__all__ = ["BATCHED", "eval_batched"]

BATCHED = frozenset({"rate", "increase", "delta", "irate", "idelta", "count_over_time",
                     "present_over_time", "last_over_time", "first_over_time",
                     "sum_over_time", "avg_over_time", "max_over_time", "min_over_time",
                     "changes", "resets"})


def _layout(m: MatrixArg) -> tuple[IntArray, FloatArray, IntArray, IntArray, IntArray] | None:
    series = m.series
    lens = np.fromiter((len(s.ts) for s in series), dtype=np.int64, count=len(series))
    t_all = np.concatenate([s.ts for s in series])
    v_all = np.concatenate([s.vs for s in series])
    tmin = int(min(int(t_all.min()), int((m.ends - m.range_ms).min()))) - 1
    span = int(max(int(t_all.max()), int(m.ends.max()))) - tmin + 2
    if span * (len(series) + 1) >= 2**62:
        return None
    sid = np.repeat(np.arange(len(series), dtype=np.int64), lens)
    key = (t_all - tmin) + sid * span
    base = (np.arange(len(series), dtype=np.int64) * span)[:, None]
    hi = np.searchsorted(key, base + (m.ends - tmin)[None, :], "right")
    lo = np.searchsorted(key, base + (m.ends - m.range_ms - tmin)[None, :], "right")
    return t_all, v_all, lo, hi, sid


def eval_batched(name: str, m: MatrixArg) -> list[tuple[RangeSeries, FloatArray, BoolArray]]:
    if not m.series:
        return []
    lay = _layout(m)
    if lay is None:
        from ._rangefuncs import eval_range_function

        return eval_range_function(name, m, [])
    t_all, v_all, lo, hi, sid = lay
    n = hi - lo
    with np.errstate(all="ignore"):
        if name in ("rate", "increase", "delta"):
            vals, ok = _extrapolated(t_all, v_all, lo, hi, sid, m, name != "delta",
                                     name == "rate")
        elif name in ("irate", "idelta"):
            ok = n >= 2
            last = np.where(ok, hi - 1, 1)
            prev = last - 1
            lv, pv = v_all[last], v_all[prev]
            if name == "irate":
                dt = (t_all[last] - t_all[prev]) / 1000.0
                vals = np.where(lv < pv, lv, lv - pv) / dt
            else:
                vals = lv - pv
        elif name == "count_over_time":
            ok = n > 0
            vals = n.astype(np.float64)
        elif name == "present_over_time":
            ok = n > 0
            vals = np.ones(n.shape)
        elif name == "last_over_time":
            ok = n > 0
            vals = v_all[np.where(ok, hi - 1, 0)]
        elif name in ("changes", "resets"):
            # Count transitions between consecutive samples of the same series inside the
            # window: integer prefix sums, exact.
            same = np.concatenate([[False], sid[1:] == sid[:-1]])
            prev = np.concatenate([[np.nan], v_all[:-1]])
            if name == "changes":
                hit = same & (v_all != prev) & ~(np.isnan(v_all) & np.isnan(prev))
            else:
                hit = same & (v_all < prev)
            cs = np.concatenate([[0], np.cumsum(hit)])
            ok = n > 0
            # transitions at indices lo+1 .. hi-1
            vals = np.where(ok, cs[hi] - cs[np.minimum(lo + 1, hi)], 0).astype(np.float64)
        elif name == "first_over_time":
            ok = n > 0
            vals = v_all[np.where(ok, lo, 0)]
        else:
            vals, ok = _reduce(name, v_all, lo, hi)
    out = []
    for i, s in enumerate(m.series):
        if ok[i].any():
            out.append((s, vals[i], ok[i]))
    return out


def _reduce(name: str, v: FloatArray, lo: IntArray, hi: IntArray) -> tuple[FloatArray,
                                                                           BoolArray]:
    """sum/avg/min/max per window; exact (fsum) where plain sums could lose digits."""
    ok = hi > lo
    vals = np.full(lo.shape, np.nan)
    finite = np.isfinite(v)
    if name in ("max_over_time", "min_over_time"):
        is_max = name == "max_over_time"
        ufunc = np.fmax if is_max else np.fmin
        # reduceat needs in-bounds starts; empty windows are masked below anyway.
        idx = np.stack([np.minimum(lo, len(v) - 1), np.minimum(hi, len(v))], -1).ravel()
        ext = np.append(v, np.nan)
        red = ufunc.reduceat(ext, idx)[::2].reshape(lo.shape)
        return np.where(ok, red, np.nan), ok
    cs = np.concatenate([[0.0], np.cumsum(np.where(finite, v, 0.0))])
    bad = np.concatenate([[0], np.cumsum(~finite)])
    sums = cs[hi] - cs[lo]
    cnt = (hi - lo).astype(np.float64)
    mag = np.concatenate([[0.0], np.cumsum(np.abs(np.where(finite, v, 0.0)))])
    absum = mag[hi] - mag[lo]
    # Cancellation or non-finite values: recompute those windows exactly, as Prometheus'
    # compensated sums would get them.
    exact = ok & (((bad[hi] - bad[lo]) > 0) | (absum > 1e6 * np.abs(sums)) | (absum > 2**52))
    from ._rangefuncs import _w_avg, _w_sum

    fn = _w_sum if name == "sum_over_time" else _w_avg
    vals = np.where(ok, sums if name == "sum_over_time" else sums / np.maximum(cnt, 1), np.nan)
    for i, k in zip(*np.nonzero(exact), strict=True):
        a, b = int(lo[i, k]), int(hi[i, k])
        vals[i, k] = fn(np.empty(0, np.int64), v[a:b], 0, [])
    return vals, ok


def _extrapolated(t_all: IntArray, v_all: FloatArray, lo: IntArray, hi: IntArray,  # noqa: PLR0917
                  sid: IntArray, m: MatrixArg, counter: bool, is_rate: bool
                  ) -> tuple[FloatArray, BoolArray]:
    ok = (hi - lo) >= 2
    first = np.where(ok, lo, 0)
    last = np.where(ok, hi - 1, 0)
    result = v_all[last] - v_all[first]
    if counter and len(v_all) > 1:
        same = sid[1:] == sid[:-1]
        dropped = same & (v_all[1:] < v_all[:-1])
        if dropped.any():
            drops = np.concatenate([[0.0], np.where(dropped, v_all[:-1], 0.0)])
            ind = np.concatenate([[0], np.cumsum(np.concatenate([[False], dropped]))[1:]])
            has = ok & (ind[last] - ind[first] > 0)
            nz = np.nonzero(drops)[0]
            corr = np.zeros(lo.shape)
            for i, k in zip(*np.nonzero(has), strict=True):
                a, b = int(first[i, k]) + 1, int(last[i, k]) + 1
                sel = nz[(nz >= a) & (nz < b)]
                corr[i, k] = math.fsum(drops[sel].tolist())
            result = result + corr
    ends = m.ends[None, :].astype(np.float64)
    ft = t_all[first].astype(np.float64)
    lt = t_all[last].astype(np.float64)
    to_start = (ft - (ends - m.range_ms)) / 1000
    to_end = (ends - lt) / 1000
    sampled = (lt - ft) / 1000
    avg = sampled / np.maximum(hi - lo - 1, 1)
    thresh = avg * 1.1
    to_start = np.where(to_start >= thresh, avg / 2, to_start)
    if counter:
        fv = v_all[first]
        to_zero = np.where((result > 0) & (fv >= 0), sampled * (fv / result), to_start)
        to_start = np.where(to_zero < to_start, to_zero, to_start)
    to_end = np.where(to_end >= thresh, avg / 2, to_end)
    factor = np.where(sampled != 0, (sampled + to_start + to_end) / sampled, 1.0)
    if is_rate:
        factor = factor / (m.range_ms / 1000)
    return result * factor, ok
