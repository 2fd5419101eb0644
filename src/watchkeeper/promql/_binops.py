"""Binary operators: scalar/scalar, vector/scalar, vector/vector with matching and fill."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ..exceptions import PromQLExecutionError
from ._ast import BinaryExpr, VectorMatching
from ._values import BoolArray, FloatArray, Scalar, Series, Vector, label_key

if TYPE_CHECKING:
    from ._eval import Context, Evaluator, Value

__all__ = ["apply_op", "eval_binary"]

COMPARISONS = frozenset({"==", "!=", "<=", "<", ">=", ">"})
ARITH = frozenset({"+", "-", "*", "/", "%", "^", "atan2"})
_SCHEMA = ("__name__", "__type__", "__unit__")


def apply_op(op: str, a: FloatArray, b: FloatArray) -> FloatArray:
    """Elementwise arithmetic, or for comparisons 1.0/0.0 for true/false."""
    with np.errstate(all="ignore"):
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return np.true_divide(a, b)
        if op == "%":
            return np.asarray(np.fmod(a, b), dtype=np.float64)
        if op == "^":
            return np.asarray(np.power(a, b), dtype=np.float64)
        if op == "atan2":
            return np.asarray(np.arctan2(a, b), dtype=np.float64)
        if op == "==":
            return np.equal(a, b).astype(np.float64)
        if op == "!=":
            return np.not_equal(a, b).astype(np.float64)
        if op == "<":
            return (a < b).astype(np.float64)
        if op == ">":
            return (a > b).astype(np.float64)
        if op == "<=":
            return (a <= b).astype(np.float64)
        if op == ">=":
            return (a >= b).astype(np.float64)
    raise PromQLExecutionError(f"operator {op!r} not allowed here")


def eval_binary(ev: Evaluator, e: BinaryExpr, ctx: Context) -> Value:
    lhs = ev.eval(e.lhs, ctx)
    rhs = ev.eval(e.rhs, ctx)
    op = e.op
    if isinstance(lhs, Scalar) and isinstance(rhs, Scalar):
        return Scalar(apply_op(op, lhs.values, rhs.values))
    if isinstance(lhs, Scalar) or isinstance(rhs, Scalar):
        return _vector_scalar(op, lhs, rhs, e.return_bool)
    assert isinstance(lhs, list)
    assert isinstance(rhs, list)
    m = e.matching or VectorMatching()
    if op in ("and", "or", "unless"):
        return _set_op(op, lhs, rhs, m, ctx.n)
    return _vector_vector(op, lhs, rhs, m, e.return_bool, ctx.n)


def _vector_scalar(op: str, lhs: Value, rhs: Value, return_bool: bool) -> Vector:
    swap = isinstance(lhs, Scalar)
    vec = rhs if swap else lhs
    sc = lhs if swap else rhs
    assert isinstance(vec, list)
    assert isinstance(sc, Scalar)
    out: Vector = []
    for s in vec:
        a, b = (sc.values, s.values) if swap else (s.values, sc.values)
        res = apply_op(op, a, b)
        present = s.present
        if op in COMPARISONS:
            if return_bool:
                vals = res
            else:
                present = present & (res == 1.0)
                vals = s.values
        else:
            vals = res
        if present.any():
            drop = s.drop_name or op in ARITH or return_bool
            out.append(Series(s.labels, vals, present, drop))
    return out


def _sig(labels: dict[str, str], m: VectorMatching) -> tuple[tuple[str, str], ...]:
    if m.on:
        return tuple((n, labels.get(n, "")) for n in sorted(set(m.labels)))
    skip = set(m.labels) | {"__name__"}
    return tuple(sorted((k, v) for k, v in labels.items() if k not in skip))


def _match_labels(labels: dict[str, str], m: VectorMatching) -> dict[str, str]:
    if m.on:
        return {k: v for k, v in labels.items() if k in m.labels}
    skip = set(m.labels) | {"__name__"}
    return {k: v for k, v in labels.items() if k not in skip}


def _set_op(op: str, lhs: Vector, rhs: Vector, m: VectorMatching, n: int) -> Vector:
    def presence(vec: Vector) -> dict[tuple[tuple[str, str], ...], BoolArray]:
        out: dict[tuple[tuple[str, str], ...], BoolArray] = {}
        for s in vec:
            k = _sig(s.labels, m)
            out[k] = out[k] | s.present if k in out else s.present.copy()
        return out

    none = np.zeros(n, dtype=bool)
    if op == "and":
        rp = presence(rhs)
        res = [Series(s.labels, s.values, s.present & rp.get(_sig(s.labels, m), none),
                      s.drop_name, s.ts) for s in lhs]
    elif op == "unless":
        rp = presence(rhs)
        res = [Series(s.labels, s.values, s.present & ~rp.get(_sig(s.labels, m), none),
                      s.drop_name, s.ts) for s in lhs]
    else:
        lp = presence(lhs)
        res = list(lhs) + [Series(s.labels, s.values,
                                  s.present & ~lp.get(_sig(s.labels, m), none), s.drop_name,
                                  s.ts) for s in rhs]
    res = [s for s in res if s.present.any()]
    if op == "or":
        from ._eval import finalize_keep_names

        # The same label set can come from either side at different steps.
        return finalize_keep_names(res)
    return res


def _result_labels(ls: dict[str, str], rs: dict[str, str], op: str, m: VectorMatching,
                   card: str) -> dict[str, str]:
    out = dict(ls)
    if op in ARITH:
        for k in _SCHEMA:
            out.pop(k, None)
    if card == "one-to-one":
        if m.on:
            out = {k: v for k, v in out.items() if k in m.labels}
        else:
            for k in m.labels:
                out.pop(k, None)
    for k in m.include:
        v = rs.get(k, "")
        if v:
            out[k] = v
        else:
            out.pop(k, None)
    return out


def _fmt(labels: dict[str, str]) -> str:
    """Go's ``labels.Labels.String()``: every label inside the braces."""
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return "{" + inner + "}"


def _vector_vector(op: str, lhs: Vector, rhs: Vector, m: VectorMatching, return_bool: bool,  # noqa: PLR0917
                   n: int) -> Vector:
    card = m.card
    fill_l, fill_r = m.fill_left, m.fill_right
    if card == "one-to-many":
        lhs, rhs = rhs, lhs
    swapped = card == "one-to-many"
    # Right side: per signature, which member is present at each step (-1: none).
    groups: dict[tuple[tuple[str, str], ...], list[int]] = {}
    for i, s in enumerate(rhs):
        groups.setdefault(_sig(s.labels, m), []).append(i)
    which: dict[tuple[tuple[str, str], ...], npt.NDArray[np.int64]] = {}
    for k, members in groups.items():
        w = np.full(n, -1, dtype=np.int64)
        cnt = np.zeros(n, dtype=np.int64)
        for i in members:
            cnt += rhs[i].present
            w = np.where(rhs[i].present, i, w)
        if (cnt > 1).any():
            step = int(np.argmax(cnt > 1))
            dups = sorted(_fmt(rhs[i].labels) for i in members if rhs[i].present[step])[:2]
            side = "left" if swapped else "right"
            raise PromQLExecutionError(
                f"found duplicate series for the match group {_fmt(dict(k))} on the {side} "
                f"hand-side of the operation: [{dups[0]}, {dups[1]}];many-to-many matching "
                "not allowed: matching labels must be unique on one side")
        which[k] = w
    matched = {k: np.zeros(n, dtype=np.int64) for k in groups}
    out: Vector = []

    def emit(lvals: FloatArray, rvals: FloatArray, mask: BoolArray, llab: dict[str, str],  # noqa: PLR0917
             rlab: dict[str, str], drop_in: bool) -> None:
        a, b = (rvals, lvals) if swapped else (lvals, rvals)
        res = apply_op(op, a, b)
        if op in COMPARISONS and not return_bool:
            keep = mask & (res == 1.0)
            vals = a
        else:
            keep = mask
            vals = res
        if keep.any():
            labels = _result_labels(llab, rlab, op, m, card)
            out.append(Series(labels, vals, keep, return_bool or (drop_in and op not in ARITH)))

    for ls in lhs:
        k = _sig(ls.labels, m)
        wk = which.get(k)
        if wk is not None:
            for i in groups[k]:
                mask = ls.present & (wk == i)
                if mask.any():
                    matched[k] += mask
                    emit(ls.values, rhs[i].values, mask, ls.labels, rhs[i].labels,
                         ls.drop_name)
        if fill_r is not None:
            mask = ls.present & (wk < 0) if wk is not None else ls.present
            if mask.any():
                emit(ls.values, np.full(n, fill_r), mask, ls.labels,
                     _match_labels(ls.labels, m), ls.drop_name)
    if card == "one-to-one":
        for cnt in matched.values():
            if (cnt > 1).any():
                raise PromQLExecutionError("multiple matches for labels: many-to-one matching "
                                           "must be explicit (group_left/group_right)")
    if fill_l is not None:
        for k, members in groups.items():
            for i in members:
                mask = rhs[i].present & (matched[k] == 0)
                if mask.any():
                    emit(np.full(n, fill_l), rhs[i].values, mask,
                         _match_labels(rhs[i].labels, m), rhs[i].labels, False)
    if card != "one-to-one":
        seen: dict[frozenset[tuple[str, str]], BoolArray] = {}
        for s in out:
            key = label_key(s.labels)
            prev = seen.get(key)
            if prev is not None and (prev & s.present).any():
                raise PromQLExecutionError("multiple matches for labels: grouping labels must "
                                           "ensure unique matches")
            seen[key] = s.present if prev is None else prev | s.present
    from ._eval import finalize_keep_names

    # Different (lhs, rhs) pairs can yield one result label set at different steps.
    return finalize_keep_names(out)
