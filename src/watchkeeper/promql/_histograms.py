"""Classic-bucket ``histogram_quantile`` and ``histogram_fraction`` (``le`` series)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ._values import FloatArray, Series, Vector

if TYPE_CHECKING:
    from ._ast import Call
    from ._eval import Context, Evaluator

__all__ = ["bucket_fraction", "bucket_quantile", "histogram_fraction", "histogram_quantile"]


def _almost_equal(a: float, b: float, eps: float) -> bool:
    if a == b:
        return True
    diff = abs(a - b)
    norm = abs(a) + abs(b)
    min_normal = 2.2250738585072014e-308
    if a == 0 or b == 0 or norm < min_normal:
        return diff < eps * min_normal
    return diff / min(norm, 1.7976931348623157e308) < eps


def _prepare(buckets: list[tuple[float, float]]) -> tuple[list[list[float]], bool] | None:
    bs = sorted(buckets, key=lambda b: b[0])
    if not math.isinf(bs[-1][0]) or bs[-1][0] < 0:
        return None
    merged: list[list[float]] = []
    for ub, c in bs:
        if merged and merged[-1][0] == ub:
            merged[-1][1] += c
        else:
            merged.append([ub, c])
    forced = False
    prev = merged[0][1]
    for b in merged[1:]:
        cur = b[1]
        if cur == prev:
            continue
        if _almost_equal(prev, cur, 1e-12):
            b[1] = prev
            continue
        if cur < prev:
            b[1] = prev
            forced = True
            continue
        prev = cur
    return merged, forced


def bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> tuple[float, bool]:
    """Quantile of classic buckets; second value: monotonicity had to be forced."""
    if math.isnan(q):
        return math.nan, False
    if q < 0:
        return -math.inf, False
    if q > 1:
        return math.inf, False
    prep = _prepare(buckets)
    if prep is None:
        return math.nan, False
    bs, forced = prep
    if len(bs) < 2:
        return math.nan, forced
    obs = bs[-1][1]
    if obs == 0 or math.isnan(obs):
        return math.nan, forced
    rank = q * obs
    b = next((i for i in range(len(bs) - 1) if bs[i][1] >= rank), len(bs) - 1)
    if b == len(bs) - 1:
        return bs[-2][0], forced
    if b == 0 and bs[0][0] <= 0:
        return bs[0][0], forced
    start = 0.0
    end = bs[b][0]
    count = bs[b][1]
    if b > 0:
        start = bs[b - 1][0]
        count -= bs[b - 1][1]
        rank -= bs[b - 1][1]
    return start + (end - start) * (rank / count), forced


def bucket_fraction(lower: float, upper: float, buckets: list[tuple[float, float]]) -> float:
    bs0 = sorted(buckets, key=lambda b: b[0])
    if not math.isinf(bs0[-1][0]):
        return math.nan
    merged: list[list[float]] = []
    for ub, c in bs0:
        if merged and merged[-1][0] == ub:
            merged[-1][1] += c
        else:
            merged.append([ub, c])
    count = merged[-1][1]
    if count == 0 or math.isnan(lower) or math.isnan(upper):
        return math.nan
    if lower >= upper:
        return 0.0
    rank = lower_rank = upper_rank = 0.0
    lower_set = upper_set = False
    lower_bound = -math.inf if merged[0][0] <= 0 else 0.0
    for i, (ub, c) in enumerate(merged):
        if i > 0:
            lower_bound = merged[i - 1][0]

        def interp(v: float, lb: float = lower_bound, ub: float = ub, c: float = c,
                   rank: float = rank) -> float:
            if lb == -math.inf:
                return c
            return rank + (c - rank) * (v - lb) / (ub - lb)

        if not lower_set and lower_bound >= lower:
            lower_rank, lower_set = rank, True
        if not upper_set and lower_bound >= upper:
            upper_rank, upper_set = rank, True
        if lower_set and upper_set:
            break
        if not lower_set and lower_bound < lower < ub:
            lower_rank, lower_set = interp(lower), True
        if not upper_set and lower_bound < upper < ub:
            upper_rank, upper_set = interp(upper), True
        if lower_set and upper_set:
            break
        rank = c
    if not lower_set or lower_rank > count:
        lower_rank = count
    if not upper_set or upper_rank > count:
        upper_rank = count
    return (upper_rank - lower_rank) / count


def _parse_le(v: str) -> float | None:
    try:
        return float(v.strip()) if v.strip().lower() not in ("inf", "+inf") else math.inf
    except ValueError:
        return None


def _groups(vec: Vector, ev: Evaluator | None, e: Call | None, ctx: Context
            ) -> dict[tuple[tuple[str, str], ...], list[tuple[float, Series]]]:
    groups: dict[tuple[tuple[str, str], ...], list[tuple[float, Series]]] = {}
    for s in vec:
        le = _parse_le(s.labels["le"]) if "le" in s.labels else None
        if le is None:
            if ev is not None and e is not None:
                ctx.warnings.append(
                    'PromQL warning: bucket label "le" is missing or has a malformed value of '
                    f'"{s.labels.get("le", "")}" for metric name '
                    f'"{s.labels.get("__name__", "")}" {ev.pos_str(e.args[1])}')
            continue
        key = tuple(sorted((k, v) for k, v in s.labels.items() if k not in ("le", "__name__")))
        groups.setdefault(key, []).append((le, s))
    return groups


def histogram_quantile(ev: Evaluator, e: Call, q: FloatArray, vec: Vector,
                       ctx: Context) -> Vector:
    n = ctx.n
    out: Vector = []
    warned = False
    for key, members in _groups(vec, ev, e, ctx).items():
        vals = np.full(n, np.nan)
        pres = np.zeros(n, dtype=bool)
        for t in range(n):
            bs = [(le, float(s.values[t])) for le, s in members if s.present[t]]
            if not bs:
                continue
            qq = float(q[t])
            if (math.isnan(qq) or qq < 0 or qq > 1) and not warned:
                from ._aggregations import _gofmt

                ctx.warnings.append("PromQL warning: quantile value should be between 0 and "
                                    f"1, got {_gofmt(qq)} {ev.pos_str(e.args[0])}")
                warned = True
            v, forced = bucket_quantile(qq, bs)
            if forced:
                name = members[0][1].labels.get("__name__", "")
                ctx.infos.append("PromQL info: input to histogram_quantile needed to be fixed "
                                 "for monotonicity (see https://prometheus.io/docs/prometheus/"
                                 "latest/querying/functions/#histogram_quantile) for metric "
                                 f'name "{name}" {ev.pos_str(e.args[1])}')
            vals[t] = v
            pres[t] = True
        if pres.any():
            out.append(Series(dict(key), vals, pres, True))
    return out


def histogram_fraction(lo: FloatArray, hi: FloatArray, vec: Vector, ctx: Context) -> Vector:
    n = ctx.n
    out: Vector = []
    for key, members in _groups(vec, None, None, ctx).items():
        vals = np.full(n, np.nan)
        pres = np.zeros(n, dtype=bool)
        for t in range(n):
            bs = [(le, float(s.values[t])) for le, s in members if s.present[t]]
            if bs:
                vals[t] = bucket_fraction(float(lo[t]), float(hi[t]), bs)
                pres[t] = True
        if pres.any():
            out.append(Series(dict(key), vals, pres, True))
    return out
