"""Duration expressions (``[5m+1m]``, ``offset -step()``): folding and evaluation."""

from __future__ import annotations

import math

from ._ast import DurationExpr

__all__ = ["as_dexpr", "const_seconds", "fold", "parse_duration_expr_ms"]


def parse_duration_expr_ms(d: int | DurationExpr, step_ms: int = 0, range_ms: int = 0) -> int:
    """Evaluate a duration expression to ms (``step()``/``range()`` from the query)."""
    if isinstance(d, int):
        return d
    return round(_eval_dur(d, step_ms, range_ms) * 1000)


def _eval_dur(d: DurationExpr, step_ms: int, range_ms: int) -> float:
    op = d.op
    if op == "num":
        return d.value
    if op == "step":
        return step_ms / 1000
    if op == "range":
        return range_ms / 1000
    assert d.rhs is not None
    r = _eval_dur(d.rhs, step_ms, range_ms)
    if op == "neg":
        return -r
    if op == "pos":
        return r
    assert d.lhs is not None
    left = _eval_dur(d.lhs, step_ms, range_ms)
    if op == "+":
        return left + r
    if op == "-":
        return left - r
    if op == "*":
        return left * r
    if op == "/":
        return left / r if r else math.inf
    if op == "%":
        return math.fmod(left, r) if r else math.nan
    if op == "^":
        return float(left**r)
    if op == "min_of":
        return min(left, r)
    return max(left, r)


def const_seconds(d: int | DurationExpr) -> float | None:
    if isinstance(d, int):
        return d / 1000
    return None


def as_dexpr(d: int | DurationExpr) -> DurationExpr:
    return DurationExpr("num", value=d / 1000) if isinstance(d, int) else d


def fold(d: DurationExpr) -> int | DurationExpr:
    """Collapse constant sub-expressions so plain ``[5m]`` stays an int."""
    try:
        ms = parse_duration_expr_ms(d) if not _has_dynamic(d) else None
    except (OverflowError, ZeroDivisionError):
        return d
    if ms is None:
        return d
    return ms


def _has_dynamic(d: DurationExpr | None) -> bool:
    if d is None:
        return False
    if d.op in ("step", "range"):
        return True
    return _has_dynamic(d.lhs) or _has_dynamic(d.rhs)
