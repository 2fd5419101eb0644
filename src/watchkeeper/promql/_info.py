"""The experimental ``info()`` function: enrich series with labels of info metrics."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from ..exceptions import PromQLExecutionError
from ..tsdb import Matcher, MatchType, stale_mask
from ._ast import Call, DurationExpr, Expr, SubqueryExpr, VectorSelector
from ._values import Series, Vector, label_key

if TYPE_CHECKING:
    from ._eval import Context, Evaluator

__all__ = ["eval_info"]

_IDENTIFYING = ("instance", "job")


def _anchor(expr: Expr) -> tuple[float | None, list[int | DurationExpr]]:
    """@ time and offsets governing the first selector of ``expr`` (with subqueries)."""
    path: list[Expr] = []

    def find(e: Expr) -> VectorSelector | None:
        if isinstance(e, VectorSelector):
            return e
        path.append(e)
        for name in ("expr", "lhs", "rhs", "param", "vs"):
            c = getattr(e, name, None)
            if c is not None and not isinstance(c, str | int | float):
                r = find(c)
                if r is not None:
                    return r
        for a in getattr(e, "args", []) or []:
            r = find(a)
            if r is not None:
                return r
        path.pop()
        return None

    vs = find(expr)
    if vs is None:
        return None, []
    at = vs.at
    offsets: list[int | DurationExpr] = [vs.offset]
    for node in reversed(path):
        if at is not None:
            break
        if isinstance(node, SubqueryExpr):
            offsets.append(node.offset)
            at = node.at
    return at, offsets


def _effective_names(ms: list[Matcher]) -> list[Matcher]:
    if any(m.type in (MatchType.EQUAL, MatchType.REGEX) for m in ms):
        return ms
    if ms:
        return [Matcher(MatchType.REGEX, "__name__", ".+_info"), *ms]
    return [Matcher(MatchType.EQUAL, "__name__", "target_info")]


def eval_info(ev: Evaluator, e: Call, ctx: Context) -> Vector:
    at, offsets = _anchor(e.args[0])
    base = ev.eval_vector(e.args[0], ctx)
    data_matchers: dict[str, list[Matcher]] = {}
    name_matchers: list[Matcher] = []
    if len(e.args) > 1:
        sel = e.args[1]
        assert isinstance(sel, VectorSelector)
        for m in sel.matchers:
            data_matchers.setdefault(m.name, []).append(m)
            if m.name == "__name__":
                name_matchers.append(m)
    effective = _effective_names(name_matchers)
    ignore = [all(m.matches(s.labels.get("__name__", "")) for m in effective) for s in base]
    ids: dict[str, set[str]] = {}
    for s, ig in zip(base, ignore, strict=True):
        if ig:
            continue
        for lbl in _IDENTIFYING:
            v = s.labels.get(lbl, "")
            if v:
                ids.setdefault(lbl, set()).add(v)
    data_only = {k: v for k, v in data_matchers.items() if k != "__name__"}
    info: list[tuple[dict[str, str], np.ndarray, np.ndarray]] = []
    if ids:
        sel_m = [Matcher(MatchType.REGEX, k, "|".join(re.escape(x) for x in sorted(v)))
                 for k, v in ids.items()]
        sel_m += [m for ms in data_only.values() for m in ms]
        sel_m += _effective_names([m for m in name_matchers])
        off = sum(ev.dur(o, ctx) for o in offsets)
        eff = (np.full(ctx.n, round(at * 1000)) if at is not None else ctx.times) - off
        lb = ctx.lookback
        for sd in ev.select(sel_m, int(eff.min()) - lb + 1, int(eff.max())):
            ts, vals = sd.timestamps, sd.values
            idx = np.searchsorted(ts, eff, "right") - 1
            ok = idx >= 0
            idxc = np.where(ok, idx, 0)
            ok &= ts[idxc] > eff - lb
            ok &= ~stale_mask(vals[idxc])
            if ok.any():
                info.append((dict(sd.labels), ts[idxc], ok))
    info_names = sorted({lb.get("__name__", "") for lb, _, _ in info})
    out: dict[frozenset[tuple[str, str]], Series] = {}
    for t in range(ctx.n):
        by_sig: dict[tuple[str, ...], tuple[dict[str, str], int]] = {}
        for labels, origt, ok in info:
            if not ok[t]:
                continue
            sig = (labels.get("__name__", ""), *[labels.get(x, "") for x in _IDENTIFYING])
            prev = by_sig.get(sig)
            ot = int(origt[t])
            if prev is None or prev[1] < ot:
                by_sig[sig] = (labels, ot)
            elif prev[1] == ot:
                raise PromQLExecutionError("found duplicate series for info metric")
        for s, ig in zip(base, ignore, strict=True):
            if not s.present[t]:
                continue
            if ig:
                _put(out, s.labels, s, t)
                continue
            added: dict[str, str] = {}
            seen = False
            for name in info_names:
                sig = (name, *[s.labels.get(x, "") for x in _IDENTIFYING])
                hit = by_sig.get(sig)
                if hit is None:
                    continue
                seen = True
                for k, v in hit[0].items():
                    if k == "__name__":
                        continue
                    if data_only and k not in data_only:
                        continue
                    if added.get(k, v) != v:
                        raise PromQLExecutionError(f"conflicting label: {k}")
                    if k in s.labels:
                        continue
                    added[k] = v
            if not seen and not all(m.matches("") for ms in data_only.values() for m in ms):
                continue
            _put(out, {**s.labels, **added}, s, t)
    return list(out.values())


def _put(out: dict[frozenset[tuple[str, str]], Series], labels: dict[str, str], s: Series,
         t: int) -> None:
    key = label_key(labels)
    cur = out.get(key)
    if cur is None:
        n = len(s.values)
        cur = out[key] = Series(labels, np.full(n, np.nan), np.zeros(n, dtype=bool),
                                s.drop_name)
    if cur.present[t]:
        raise PromQLExecutionError("vector cannot contain metrics with the same labelset")
    cur.values[t] = s.values[t]
    cur.present[t] = True
