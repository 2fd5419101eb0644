"""PromQL: lexer, parser, AST printer and a numpy-vectorised evaluator.

Owns query semantics identical to Prometheus 3.x (lookback, staleness, extrapolation,
left-open windows) and the runner for Prometheus' test-script conformance corpus.
"""

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
    VectorMatching,
    VectorSelector,
)
from ._engine import Engine, QueryResult, Sample, SeriesResult
from ._parser import parse
from ._printer import format_expr

__all__ = [
    "AggregateExpr",
    "BinaryExpr",
    "Call",
    "DurationExpr",
    "Engine",
    "Expr",
    "MatrixSelector",
    "NumberLiteral",
    "ParenExpr",
    "QueryResult",
    "Sample",
    "SeriesResult",
    "StringLiteral",
    "SubqueryExpr",
    "UnaryExpr",
    "ValueType",
    "VectorMatching",
    "VectorSelector",
    "format_expr",
    "parse",
]
