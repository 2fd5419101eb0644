"""Classic-bucket ``histogram_quantile`` and ``histogram_fraction`` (``le`` series)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ._values import FloatArray, Series, Vector

if TYPE_CHECKING:
    from ._ast import Call, Expr
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


def _groups(vec: Vector, ev: Evaluator, arg: Expr, ctx: Context
            ) -> dict[tuple[tuple[str, str], ...], list[tuple[float, Series]]]:
    groups: dict[tuple[tuple[str, str], ...], list[tuple[float, Series]]] = {}
    for s in vec:
        le = _parse_le(s.labels["le"]) if "le" in s.labels else None
        if le is None:
            ctx.warnings.append(
                'PromQL warning: bucket label "le" is missing or has a malformed value of '
                f'"{s.labels.get("le", "")}" for metric name '
                f'"{s.labels.get("__name__", "")}" {ev.pos_str(arg)}')
            continue
        # The name stays in the key: delayed name removal reports collisions at the end.
        key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
        groups.setdefault(key, []).append((le, s))
    return groups


def _warn_q(ev: Evaluator, q: float, arg: Expr, ctx: Context) -> None:
    if math.isnan(q) or q < 0 or q > 1:
        from ._aggregations import _gofmt

        ctx.warnings.append("PromQL warning: quantile value should be between 0 and 1, got "
                            f"{_gofmt(q)} {ev.pos_str(arg)}")


def om_float(v: float) -> str:
    """OpenMetrics float text: ``0.0``, ``0.25``, ``1.0e+10``, ``+Inf``."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    r = repr(v)
    if "." not in r and "e" not in r and "inf" not in r:
        r += ".0"
    return r


def histogram_quantiles(ev: Evaluator, qs: list[tuple[float, Expr]], label: str, vec: Vector,  # noqa: PLR0917
                        arg: Expr, ctx: Context) -> Vector:
    """Classic-bucket quantiles, one output series per quantile (label ``label``)."""
    n = ctx.n
    out: Vector = []
    for q, qarg in qs:
        _warn_q(ev, q, qarg, ctx)
    groups = _groups(vec, ev, arg, ctx)
    for q, _ in qs:
        for key, members in groups.items():
            vals = np.full(n, np.nan)
            pres = np.zeros(n, dtype=bool)
            for t in range(n):
                bs = [(le, float(s.values[t])) for le, s in members if s.present[t]]
                if not bs:
                    continue
                v, forced = bucket_quantile(q, bs)
                if forced:
                    _monotonic_info(ev, members, arg, ctx)
                vals[t] = v
                pres[t] = True
            if pres.any():
                labels = dict(key)
                labels[label] = om_float(q)
                out.append(Series(labels, vals, pres, True))
    return out


def _monotonic_info(ev: Evaluator, members: list[tuple[float, Series]], arg: Expr,
                    ctx: Context) -> None:
    name = members[0][1].labels.get("__name__", "")
    suffix = f' for metric name "{name}"' if name else ""
    ctx.infos.append("PromQL info: input to histogram_quantile needed to be fixed for "
                     "monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/"
                     f"functions/#histogram_quantile){suffix} {ev.pos_str(arg)}")


def histogram_quantile(ev: Evaluator, e: Call, q: FloatArray, vec: Vector,
                       ctx: Context) -> Vector:
    n = ctx.n
    out: Vector = []
    for qq in np.unique(q):
        _warn_q(ev, float(qq), e.args[0], ctx)
    for key, members in _groups(vec, ev, e.args[1], ctx).items():
        vals = np.full(n, np.nan)
        pres = np.zeros(n, dtype=bool)
        for t in range(n):
            bs = [(le, float(s.values[t])) for le, s in members if s.present[t]]
            if not bs:
                continue
            v, forced = bucket_quantile(float(q[t]), bs)
            if forced:
                _monotonic_info(ev, members, e.args[1], ctx)
            vals[t] = v
            pres[t] = True
        if pres.any():
            out.append(Series(dict(key), vals, pres, True))
    return out


def histogram_fraction(ev: Evaluator, e: Call, lo: FloatArray, hi: FloatArray, vec: Vector,  # noqa: PLR0917
                       ctx: Context) -> Vector:
    n = ctx.n
    out: Vector = []
    for key, members in _groups(vec, ev, e.args[2], ctx).items():
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
