"""Aggregation operators, reduced per group over all steps at once."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..exceptions import PromQLExecutionError
from ._ast import AggregateExpr
from ._kahan import kahan_inc_vec
from ._values import Scalar, Series, Vector

if TYPE_CHECKING:
    from ._eval import Context, Evaluator

__all__ = ["eval_aggregate", "quantile"]


def quantile(q: float, values: list[float]) -> float:
    """Prometheus' interpolated quantile of a sample set (``quantile`` and friends)."""
    if not values or math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    vs = sorted(values, key=_nan_first)
    n = len(vs)
    rank = q * (n - 1)
    lower = max(0, math.floor(rank))
    upper = min(n - 1, lower + 1)
    weight = rank - math.floor(rank)
    return vs[lower] * (1 - weight) + vs[upper] * weight


def _nan_first(v: float) -> tuple[int, float]:
    return (0, 0.0) if math.isnan(v) else (1, v)


def _group_key(labels: dict[str, str], grouping: list[str], without: bool
               ) -> tuple[tuple[str, str], ...]:
    if without:
        skip = set(grouping) | {"__name__"}
        return tuple(sorted((k, v) for k, v in labels.items() if k not in skip))
    return tuple(sorted((k, labels[k]) for k in set(grouping) if labels.get(k, "")))


def eval_aggregate(ev: Evaluator, e: AggregateExpr, ctx: Context) -> Vector:
    param = None
    if e.param is not None:
        param = ev.eval(e.param, ctx)
    vec = ev.eval_vector(e.expr, ctx)
    n = ctx.n
    if e.op == "count_values":
        assert isinstance(param, str)
        return _count_values(param, vec, e, n)
    groups: dict[tuple[tuple[str, str], ...], list[Series]] = {}
    for s in vec:
        groups.setdefault(_group_key(s.labels, e.grouping, e.without), []).append(s)
    op = e.op
    if op in ("topk", "bottomk", "limitk", "limit_ratio"):
        assert isinstance(param, Scalar)
        return _select_k(ev, op, param.values, groups, n, e, ctx)
    out: Vector = []
    for key, members in groups.items():
        vals = np.stack([s.values for s in members])
        pres = np.stack([s.present for s in members])
        anyp = pres.any(axis=0)
        cnt = pres.sum(axis=0).astype(np.float64)
        drop = any(s.drop_name for s in members)
        labels = dict(key)
        if op == "sum":
            res = _ksum(vals, pres)
        elif op == "avg":
            res = _avg(vals, pres)
        elif op == "count":
            res = cnt
        elif op == "group":
            res = np.ones(n)
        elif op in ("min", "max"):
            res = _minmax(vals, pres, op == "max")
        elif op in ("stddev", "stdvar"):
            res = _var(vals, pres)
            if op == "stddev":
                res = np.sqrt(res)
        elif op == "quantile":
            assert isinstance(param, Scalar)
            res = np.full(n, np.nan)
            for t in np.nonzero(anyp)[0]:
                res[t] = quantile(float(param.values[t]), vals[pres[:, t], t].tolist())
            qs = param.values[anyp]
            if np.any(np.isnan(qs) | (qs < 0) | (qs > 1)):
                bad = float(qs[np.isnan(qs) | (qs < 0) | (qs > 1)][0])
                ctx.warnings.append("PromQL warning: quantile value should be between 0 and "
                                    f"1, got {_gofmt(bad)} {ev.pos_str(e.param)}"
                                    if e.param is not None else "")
        else:
            raise PromQLExecutionError(f"unknown aggregation {op}")
        if not (e.without or "__name__" in e.grouping):
            drop = False
        out.append(Series(labels, res, np.asarray(anyp, dtype=bool), drop))
    return out


def _gofmt(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(v) if v != int(v) else str(int(v))


def _ksum(vals: np.ndarray, pres: np.ndarray) -> np.ndarray:
    if vals.shape[1] <= 16 or vals.shape[0] > 4 * vals.shape[1]:
        return _column_sums(vals, pres)
    total = np.zeros(vals.shape[1])
    c = np.zeros(vals.shape[1])
    for i in range(vals.shape[0]):
        total, c = kahan_inc_vec(vals[i], total, c, pres[i])
    with np.errstate(invalid="ignore"):
        return np.where(np.isinf(total), total, total + c)


def _column_sums(vals: np.ndarray, pres: np.ndarray) -> np.ndarray:
    """Exactly rounded sums per step (fsum), which is what the compensated sum reaches;
    steps with Inf/NaN take numpy's sum, whose IEEE rules match."""
    out = np.zeros(vals.shape[1])
    masked = np.where(pres, vals, 0.0)
    finite = np.asarray(np.isfinite(masked).all(axis=0), dtype=bool)
    for t in range(vals.shape[1]):
        col = masked[:, t]
        if finite[t]:
            try:
                out[t] = math.fsum(col.tolist())
                continue
            except OverflowError:
                pass
        out[t] = _neumaier(col[pres[:, t]].tolist())
    return out


def _neumaier(values: list[float]) -> float:
    from ._kahan import kahan_inc

    total = c = 0.0
    for v in values:
        total, c = kahan_inc(v, total, c)
    return total if math.isinf(total) else total + c


def _avg(vals: np.ndarray, pres: np.ndarray) -> np.ndarray:
    if vals.shape[1] <= 16 or vals.shape[0] > 4 * vals.shape[1]:
        # Per step: exact sum / count when finite and not overflowing, else the
        # compensated incremental mean below, one column at a time.
        out = np.full(vals.shape[1], np.nan)
        for t in range(vals.shape[1]):
            col = vals[pres[:, t], t]
            if not len(col):
                continue
            if np.isfinite(col).all():
                try:
                    total = math.fsum(col.tolist())
                    if not math.isinf(total):
                        out[t] = total / len(col)
                        continue
                except OverflowError:
                    pass
            out[t] = _avg_rows(col[:, None], np.ones((len(col), 1), dtype=bool))[0]
        return out
    return _avg_rows(vals, pres)


def _avg_rows(vals: np.ndarray, pres: np.ndarray) -> np.ndarray:
    nsteps = vals.shape[1]
    total = np.zeros(nsteps)
    c = np.zeros(nsteps)
    count = np.zeros(nsteps)
    mean = np.zeros(nsteps)
    incremental = np.zeros(nsteps, dtype=bool)
    with np.errstate(all="ignore"):
        for i in range(vals.shape[0]):
            p = pres[i]
            f = vals[i]
            first = p & (count == 0)
            total = np.where(first, f, total)
            mean = np.where(first, f, mean)
            count = count + p
            rest = p & ~first
            if not rest.any():
                continue
            nt, nc = kahan_inc_vec(f, total, c, rest & ~incremental)
            switch = rest & ~incremental & np.isinf(nt)
            ok = rest & ~incremental & ~switch
            total = np.where(ok, nt, total)
            c = np.where(ok, nc, c)
            mean = np.where(switch, total / (count - 1), mean)
            c = np.where(switch, c / (count - 1), c)
            incremental = incremental | switch
            inc_now = rest & incremental
            q = (count - 1) / count
            nm, nc2 = kahan_inc_vec(f / count, q * mean, q * c, inc_now)
            mean = np.where(inc_now, nm, mean)
            c = np.where(inc_now, nc2, c)
        return np.where(incremental, mean + c, total / count + c / count)


def _minmax(vals: np.ndarray, pres: np.ndarray, is_max: bool) -> np.ndarray:
    # Prometheus replaces a NaN running value by any later value and never takes a NaN
    # over a number: exactly fmax/fmin (NaN only when every input is NaN).
    masked = np.where(pres, vals, np.nan)
    ufunc = np.fmax if is_max else np.fmin
    return np.asarray(ufunc.reduce(masked, axis=0), dtype=np.float64)


def _var(vals: np.ndarray, pres: np.ndarray) -> np.ndarray:
    nsteps = vals.shape[1]
    count = np.zeros(nsteps)
    mean = np.zeros(nsteps)
    m2 = np.zeros(nsteps)
    bad = np.zeros(nsteps, dtype=bool)
    with np.errstate(all="ignore"):
        for i in range(vals.shape[0]):
            p = pres[i]
            f = vals[i]
            bad |= p & (count == 0) & (np.isnan(f) | np.isinf(f))
            count = count + p
            delta = f - mean
            newmean = mean + delta / np.where(count == 0, 1, count)
            m2 = np.where(p, m2 + delta * (f - newmean), m2)
            mean = np.where(p, newmean, mean)
        res = m2 / count
    return np.where(bad, np.nan, res)


def _count_values(label: str, vec: Vector, e: AggregateExpr, n: int) -> Vector:
    from ._lexer import line_col  # noqa: F401 - keep import graph simple

    if not label or not _valid_label(label):
        raise PromQLExecutionError(f"invalid label name {_go_quote(label)}")
    acc: dict[tuple[tuple[str, str], ...], np.ndarray] = {}
    for s in vec:
        base = dict(_group_key(s.labels, e.grouping, e.without))
        for t in np.nonzero(s.present)[0]:
            labels = dict(base)
            labels[label] = _format_value(float(s.values[t]))
            key = tuple(sorted(labels.items()))
            arr = acc.get(key)
            if arr is None:
                arr = acc[key] = np.zeros(n)
            arr[t] += 1
    return [Series(dict(k), v, v > 0) for k, v in acc.items()]


def _go_quote(s: str) -> str:
    raw = s.encode("utf-8", "surrogateescape")
    out = []
    for b in raw:
        out.append(chr(b) if 0x20 <= b < 0x7F and chr(b) not in '"\\' else
                   ("\\" + chr(b) if chr(b) in '"\\' else f"\\x{b:02x}"))
    return '"' + "".join(out) + '"'


def _valid_label(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _format_value(v: float) -> str:
    """Go's ``strconv.FormatFloat(v, 'f', -1, 64)``."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    r = repr(v)
    if "e" in r or "E" in r:
        from decimal import Decimal

        r = format(Decimal(r), "f")
    if r.endswith(".0"):
        r = r[:-2]
    return r


def _select_k(ev: Evaluator, op: str, kv: np.ndarray,  # noqa: PLR0917
              groups: dict[tuple[tuple[str, str], ...], list[Series]], n: int,
              e: AggregateExpr, ctx: Context) -> Vector:
    members_all: list[Series] = [s for ms in groups.values() for s in ms]
    keep = {id(s): np.zeros(n, dtype=bool) for s in members_all}
    rank_order: dict[int, float] = {}
    any_present = np.zeros(n, dtype=bool)
    for s in members_all:
        any_present |= s.present
    if np.isnan(kv).any():
        raise PromQLExecutionError("Parameter value is NaN" if op != "limit_ratio"
                                   else "Ratio value is NaN")
    for t in np.nonzero(any_present)[0]:
        k = float(kv[t])
        if op == "limit_ratio":
            if k < -1 or k > 1:
                ctx.warnings.append(
                    "PromQL warning: ratio value should be between -1 and 1, got "
                    f"{_gofmt(k)} {ev.pos_str(e.param) if e.param is not None else ''}")
                k = max(-1.0, min(1.0, k))
        elif abs(k) >= 2**63:
            raise PromQLExecutionError(
                f"Scalar value {_gofmt(k)} overflows int64")
        for ms in groups.values():
            cur = [s for s in ms if s.present[t]]
            if not cur:
                continue
            if op == "limit_ratio":
                chosen = [s for s in cur if _ratio_keep(s.labels, k)]
            else:
                kk = int(k)
                if kk < 1:
                    continue
                if op == "limitk":
                    chosen = cur[:kk]
                else:
                    desc = op == "topk"

                    def sk(s: Series, t: int = int(t), desc: bool = desc
                           ) -> tuple[int, float]:
                        v = float(s.values[t])
                        if math.isnan(v):
                            return (1, 0.0)
                        return (0, -v if desc else v)

                    chosen = sorted(cur, key=sk)[:kk]
            for r, s in enumerate(chosen):
                keep[id(s)][t] = True
                rank_order[id(s)] = min(rank_order.get(id(s), r), r)
    picked: list[tuple[Series, np.ndarray]] = []
    for s in members_all:
        m = keep[id(s)]
        if m.any():
            picked.append((s, m))
    res: Vector = []
    if op in ("topk", "bottomk") and n == 1:
        picked.sort(key=lambda sm: _sort_val(sm, op))
    for s, m in picked:
        res.append(Series(s.labels, s.values, m, s.drop_name, s.ts))
    return res


def _sort_val(sm: tuple[Series, np.ndarray], op: str) -> tuple[int, float]:
    v = float(sm[0].values[0])
    if math.isnan(v):
        return (1, 0.0)
    return (0, -v if op == "topk" else v)


def _ratio_keep(labels: dict[str, str], ratio: float) -> bool:
    """Deterministic sampling by Prometheus' label-set hash, as limit_ratio does."""
    from ._xxhash import labels_hash

    frac = labels_hash(labels) / float(2**64 - 1)
    if ratio >= 0:
        return frac < ratio
    return frac >= 1 + ratio
