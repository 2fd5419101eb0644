"""``anchored`` / ``smoothed`` range modifiers (experimental, Prometheus 3.x).

``anchored`` starts the window at the last sample at or before its left edge (looking
back up to the lookback delta); ``smoothed`` interpolates values at both edges.
"""

from __future__ import annotations

import bisect
import math

import numpy as np

from ._values import BoolArray, FloatArray, MatrixArg, RangeSeries

__all__ = ["eval_extended"]


def _interp(t1: int, v1: float, t2: int, v2: float, t: int, counter: bool) -> float:  # noqa: PLR0917
    if counter and v2 < v1:
        v1 = 0.0
    return v1 + (v2 - v1) * (t - t1) / (t2 - t1)


def _extended_rate(ts: list[int], vs: list[float], start: int, end: int, smoothed: bool,  # noqa: PLR0917
                   counter: bool, is_rate: bool, range_ms: int) -> float | None:
    last = len(ts) - 1
    first = max(0, bisect.bisect_right(ts, start, 0, last) - 1)
    if smoothed:
        last = bisect.bisect_left(ts, end, 0, last)
    if ts[last] <= start:
        return None
    if smoothed and ts[first] > end:
        return None
    left = vs[first]
    if smoothed and ts[first] < start:
        left = _interp(ts[first], vs[first], ts[first + 1], vs[first + 1], start, counter)
    right = vs[last]
    if smoothed and last > 0 and ts[last] > end:
        right = _interp(ts[last - 1], vs[last - 1], ts[last], vs[last], end, counter)
    result = right - left
    if counter:
        lo, hi = first, last
        if ts[lo] <= start:
            lo += 1
        if ts[hi] >= end:
            hi -= 1
        corr = 0.0
        prev = left
        for v in vs[lo:hi + 1]:
            if v < prev:
                corr += prev
            prev = v
        if right < prev:
            corr += prev
        result += corr
    if is_rate:
        result /= range_ms / 1000
    return result


def _anchored_count(ts: list[int], vs: list[float], start: int, changes: bool) -> float:
    first = bisect.bisect_right(ts, start) - 1
    first = max(first, 0)
    n = 0
    prev = vs[first]
    for v in vs[first + 1:]:
        if changes:
            if v != prev and not (math.isnan(v) and math.isnan(prev)):
                n += 1
        elif v < prev:
            n += 1
        prev = v
    return float(n)


def eval_extended(name: str, m: MatrixArg, lookback: int
                  ) -> list[tuple[RangeSeries, FloatArray, BoolArray]]:
    out = []
    for s in m.series:
        n = len(m.ends)
        vals = np.full(n, np.nan)
        ok = np.zeros(n, dtype=bool)
        for k in range(n):
            end = int(m.ends[k])
            start = end - m.range_ms
            lo = int(np.searchsorted(s.ts, start - lookback, "right"))
            hi = int(np.searchsorted(s.ts, end + (lookback if m.smoothed else 0), "right"))
            if hi <= lo:
                continue
            ts = s.ts[lo:hi].tolist()
            vs = s.vs[lo:hi].tolist()
            r: float | None
            if name in ("rate", "increase", "delta"):
                r = _extended_rate(ts, vs, start, end, m.smoothed, name != "delta",
                                   name == "rate", m.range_ms)
            elif name in ("changes", "resets"):
                r = None if ts[-1] <= start else _anchored_count(ts, vs, start, name == "changes")
            else:
                r = None
            if r is not None:
                vals[k] = r
                ok[k] = True
        if ok.any():
            out.append((s, vals, ok))
    return out
