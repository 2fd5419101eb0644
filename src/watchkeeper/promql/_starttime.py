"""Start-timestamp (ST) aware ``rate``/``increase``/``irate``/``resets`` (experimental).

A sample's start timestamp says since when its counter has been accumulating (OTel,
GCP, delta counters). With the feature on, Prometheus uses it to (a) detect resets a
value comparison cannot see (delta samples all equal), and (b) replace the leftward
extrapolation by a zero at the ST when the first sample's ST lies inside the window.
Series stored without STs never get here: they keep the vectorised path.
"""

from __future__ import annotations

import numpy as np

from ._values import BoolArray, FloatArray, IntArray, MatrixArg, RangeSeries

__all__ = ["ST_FUNCTIONS", "OverlapCounter", "eval_with_st", "is_st_reset", "st_overlap"]

ST_FUNCTIONS = frozenset({"rate", "increase", "irate", "resets"})


def is_st_reset(prev_st: int, prev_t: int, cur_st: int, cur_t: int) -> bool:
    """Whether the current sample's ST proves a reset since the previous sample."""
    if cur_st == 0 or cur_st >= cur_t:
        # Unknown (0), invalid (ST > T) or OTel's "unknown start" (ST == T).
        return False
    if cur_st < prev_t:
        return False
    if cur_st > prev_t:
        return True
    # ST points exactly at the previous sample: a delta sample resets, a cumulative one
    # with unknown start (previous ST unknown or equal to its T) does not; a previous ST
    # after its own T is invalid and treated as unknown.
    if prev_st > prev_t:
        return False
    return prev_st not in (0, prev_t)


def st_overlap(prev_st: int, prev_t: int, cur_st: int) -> bool:
    """An ST reaching back before the previous sample without continuing its ST."""
    return cur_st != 0 and cur_st < prev_t and cur_st != prev_st


class OverlapCounter:
    """Per metric name, how many (series, step) windows saw an ST overlap."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def add(self, metric: str) -> None:
        self.counts[metric] = self.counts.get(metric, 0) + 1

    def messages(self, pos: str) -> list[str]:
        out = []
        for metric, n in self.counts.items():
            times = f" ({n} occurrences)" if n > 1 else ""
            out.append("PromQL warning: sample has start time that overlaps with previous "
                       f'sample timestamp for metric "{metric}"{times} {pos}')
        return out


def _window_rate(ts: list[int], vs: list[float], sts: list[int], range_start: int,  # noqa: PLR0917
                 range_end: int, range_ms: int, is_rate: bool,
                 warn: list[bool]) -> float | None:
    n = len(ts)
    result = vs[-1] - vs[0]
    for i in range(1, n):
        if not warn[0] and st_overlap(sts[i - 1], ts[i - 1], sts[i]):
            warn[0] = True
        if vs[i] < vs[i - 1] or is_st_reset(sts[i - 1], ts[i - 1], sts[i], ts[i]):
            result += vs[i - 1]
    first_t, last_t = ts[0], ts[-1]
    to_start = (first_t - range_start) / 1000
    to_end = (range_end - last_t) / 1000
    sampled = (last_t - first_t) / 1000
    avg = sampled / (n - 1) if n > 1 else 0.0
    threshold = avg * 1.1
    st0 = sts[0]
    if st0 != 0 and range_start < st0 < first_t:
        # A zero at the ST replaces extrapolation to the left (rangeStart is exclusive).
        to_start = 0.0
        sampled = (last_t - st0) / 1000
        result += vs[0]
    elif n == 1:
        return None
    else:
        if to_start >= threshold:
            to_start = avg / 2
        if result > 0 and vs[0] >= 0:
            to_start = min(to_start, sampled * (vs[0] / result))
    if to_end >= threshold:
        to_end = avg / 2
    factor = (sampled + to_start + to_end) / sampled if sampled != 0 else 1.0
    if is_rate:
        factor /= range_ms / 1000
    return result * factor


def _window_irate(ts: list[int], vs: list[float], sts: list[int]) -> float | None:
    if len(ts) < 2:
        return None
    dt = ts[-1] - ts[-2]
    if dt == 0:
        return None
    if vs[-1] < vs[-2] or is_st_reset(sts[-2], ts[-2], sts[-1], ts[-1]):
        res = vs[-1]
    else:
        res = vs[-1] - vs[-2]
    return res / (dt / 1000)


def _window_resets(ts: list[int], vs: list[float], sts: list[int]) -> float:
    return float(sum(1 for i in range(1, len(ts))
                     if vs[i] < vs[i - 1] or is_st_reset(sts[i - 1], ts[i - 1], sts[i], ts[i])))


def eval_with_st(name: str, s: RangeSeries, sts_arr: IntArray, m: MatrixArg,
                 overlaps: OverlapCounter) -> tuple[FloatArray, BoolArray]:
    """One series with start timestamps, window by window (upstream semantics)."""
    ends = m.ends
    lo = np.searchsorted(s.ts, ends - m.range_ms, "right").tolist()
    hi = np.searchsorted(s.ts, ends, "right").tolist()
    ts_l, vs_l, st_l = s.ts.tolist(), s.vs.tolist(), sts_arr.tolist()
    out = np.full(len(ends), np.nan)
    ok = np.zeros(len(ends), dtype=bool)
    metric = s.labels.get("__name__", "")
    for k, end in enumerate(ends.tolist()):
        a, b = lo[k], hi[k]
        if b <= a:
            continue
        ts, vs, sts = ts_l[a:b], vs_l[a:b], st_l[a:b]
        r: float | None
        if name in ("rate", "increase"):
            warn = [False]
            r = _window_rate(ts, vs, sts, end - m.range_ms, end, m.range_ms, name == "rate",
                             warn)
            if warn[0]:
                overlaps.add(metric)
        elif name == "irate":
            r = _window_irate(ts, vs, sts)
        else:
            r = _window_resets(ts, vs, sts)
        if r is not None:
            out[k] = r
            ok[k] = True
    return out, ok
