"""Static type checks, with the messages Prometheus' parser gives."""

from __future__ import annotations

from ..exceptions import PromQLParseError, PromQLTypeError
from ._ast import (
    AggregateExpr,
    BinaryExpr,
    Call,
    DurationExpr,
    Expr,
    MatrixSelector,
    NumberLiteral,
    ParenExpr,
    StringLiteral,
    SubqueryExpr,
    UnaryExpr,
    ValueType,
    VectorSelector,
)
from ._lexer import line_col
from ._signatures import FUNCTIONS

__all__ = ["check", "check_selectors", "type_of"]

COMPARISONS = frozenset({"==", "!=", "<=", "<", ">=", ">"})
SET_OPS = frozenset({"and", "or", "unless"})
_ANCHORED_OK = ("changes", "delta", "increase", "rate", "resets")
_SMOOTHED_OK = ("delta", "increase", "rate")


def type_of(e: Expr) -> ValueType:
    """Static result type of an expression."""
    if isinstance(e, NumberLiteral | DurationExpr):
        return ValueType.SCALAR
    if isinstance(e, StringLiteral):
        return ValueType.STRING
    if isinstance(e, VectorSelector | AggregateExpr):
        return ValueType.VECTOR
    if isinstance(e, MatrixSelector | SubqueryExpr):
        return ValueType.MATRIX
    if isinstance(e, ParenExpr | UnaryExpr):
        return type_of(e.expr)
    if isinstance(e, BinaryExpr):
        if type_of(e.lhs) is ValueType.SCALAR and type_of(e.rhs) is ValueType.SCALAR:
            return ValueType.SCALAR
        return ValueType.VECTOR
    return FUNCTIONS[e.func][2]


def _fail(query: str, pos: int, msg: str) -> PromQLTypeError:
    line, col = line_col(query, pos)
    err = PromQLTypeError(f"{line}:{col}: parse error: {msg}")
    err.message = msg  # type: ignore[attr-defined]
    return err


def check(e: Expr, query: str) -> None:
    """Raise :class:`PromQLTypeError` on the first ill-typed node (depth first)."""
    if isinstance(e, ParenExpr):
        check(e.expr, query)
    elif isinstance(e, UnaryExpr):
        check(e.expr, query)
        if type_of(e.expr) not in (ValueType.SCALAR, ValueType.VECTOR):
            raise _fail(query, e.pos, "unary expression only allowed on expressions of type "
                        "scalar or instant vector, got " + _tn(type_of(e.expr)))
    elif isinstance(e, SubqueryExpr):
        check(e.expr, query)
        if type_of(e.expr) is not ValueType.VECTOR:
            raise _fail(query, e.pos, "subquery is only allowed on instant vector, got "
                        + _tn(type_of(e.expr)) + " instead")
    elif isinstance(e, AggregateExpr):
        check(e.expr, query)
        if e.param is not None:
            check(e.param, query)
        if type_of(e.expr) is not ValueType.VECTOR:
            raise _fail(query, e.pos, "expected type instant vector in aggregation "
                        f"expression, got {_tn(type_of(e.expr))}")
        if e.param is not None:
            want = ValueType.STRING if e.op == "count_values" else ValueType.SCALAR
            if type_of(e.param) is not want:
                raise _fail(query, e.pos, f"expected type {_tn(want)} in aggregation "
                            f"parameter, got {_tn(type_of(e.param))}")
    elif isinstance(e, Call):
        _check_call(e, query)
    elif isinstance(e, BinaryExpr):
        _check_binary(e, query)


def _tn(t: ValueType) -> str:
    return t.value


def _check_call(e: Call, query: str) -> None:
    args_t, variadic, _ = FUNCTIONS[e.func]
    n = len(e.args)
    if variadic == 0 and n != len(args_t):
        raise _fail(query, e.pos, f"expected {len(args_t)} argument(s) in call to "
                    f'"{e.func}", got {n}')
    if variadic != 0:
        lo = len(args_t) - 1
        if n < lo:
            raise _fail(query, e.pos, f"expected at least {lo} argument(s) in call to "
                        f'"{e.func}", got {n}')
        if variadic > 0 and n > lo + variadic:
            raise _fail(query, e.pos, f"expected at most {lo + variadic} argument(s) in "
                        f'call to "{e.func}", got {n}')
    for i, a in enumerate(e.args):
        check(a, query)
        want = args_t[min(i, len(args_t) - 1)]
        got = type_of(a)
        if got is not want:
            raise _fail(query, e.pos, f"expected type {_tn(want)} in call to function "
                        f'"{e.func}", got {_tn(got)}')
        if isinstance(a, MatrixSelector):
            if a.anchored and e.func not in _ANCHORED_OK:
                raise _fail(query, e.pos, "anchored modifier can only be used with: "
                            + ", ".join(_ANCHORED_OK) + f" - not with {e.func}")
            if a.smoothed and e.func not in _SMOOTHED_OK:
                raise _fail(query, e.pos, "smoothed modifier can only be used with: "
                            + ", ".join(_SMOOTHED_OK) + f" - not with {e.func}")


def _check_binary(e: BinaryExpr, query: str) -> None:
    check(e.lhs, query)
    check(e.rhs, query)
    lt, rt = type_of(e.lhs), type_of(e.rhs)
    if e.return_bool and e.op not in COMPARISONS:
        raise _fail(query, e.pos, "bool modifier can only be used on comparison operators")
    if e.op in COMPARISONS and not e.return_bool and lt is ValueType.SCALAR and \
            rt is ValueType.SCALAR:
        raise _fail(query, e.pos, "comparisons between scalars must use BOOL modifier")
    for t in (lt, rt):
        if t not in (ValueType.SCALAR, ValueType.VECTOR):
            raise _fail(query, e.pos, "binary expression must contain only scalar and "
                        "instant vector types")
    m = e.matching
    if e.op in SET_OPS:
        if lt is ValueType.SCALAR or rt is ValueType.SCALAR:
            raise _fail(query, e.pos, f'set operator "{e.op}" not allowed in binary scalar '
                        "expression")
        if m is not None and m.card in ("many-to-one", "one-to-many"):
            raise _fail(query, e.pos, f'no grouping allowed for "{e.op}" operation')
    if m is not None and (m.explicit or (m.card != "one-to-one" and e.op not in SET_OPS)) and (
            lt is not ValueType.VECTOR or rt is not ValueType.VECTOR):
        raise _fail(query, e.pos, "vector matching only allowed between instant vectors")
    if m is not None and m.on:
        for name in m.include:
            if name in m.labels:
                raise _fail(query, e.pos, f'label "{name}" must not occur in ON and GROUP '
                            "clause at once")


def check_selectors(e: Expr, query: str, info_arg: bool) -> None:
    """Selectors need a non-empty matcher, except info()'s label selector argument."""
    if isinstance(e, VectorSelector):
        if info_arg:
            if e.name is not None:
                line, col = line_col(query, e.pos)
                raise PromQLParseError("expected label selectors only, got vector selector "
                                       "instead", query, line, col)
            return
        if not any(not m.matches_empty() for m in e.matchers):
            line, col = line_col(query, e.pos)
            raise PromQLParseError("vector selector must contain at least one non-empty "
                                   "matcher", query, line, col)
        return
    if isinstance(e, Call):
        for i, a in enumerate(e.args):
            check_selectors(a, query, e.func == "info" and i == 1)
        return
    for name in ("expr", "lhs", "rhs", "param", "vs"):
        child = getattr(e, name, None)
        if child is not None and not isinstance(child, str | int | float):
            check_selectors(child, query, False)
