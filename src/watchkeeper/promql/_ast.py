"""Expression tree of PromQL. Positions (``pos``) never take part in equality."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TypeAlias

from ..tsdb import Matcher

__all__ = [
    "AggregateExpr", "BinaryExpr", "Call", "DurationExpr", "Expr", "MatrixSelector",
    "NumberLiteral", "ParenExpr", "StringLiteral", "SubqueryExpr", "UnaryExpr",
    "ValueType", "VectorMatching", "VectorSelector",
]


class ValueType(enum.Enum):
    """Result types, with the names Prometheus uses in its error messages."""

    SCALAR = "scalar"
    VECTOR = "instant vector"
    MATRIX = "range vector"
    STRING = "string"


@dataclass(eq=True)
class NumberLiteral:
    value: float
    duration: bool = False
    pos: int = field(default=0, compare=False)


@dataclass(eq=True)
class StringLiteral:
    value: str
    pos: int = field(default=0, compare=False)


@dataclass(eq=True)
class DurationExpr:
    """Arithmetic on durations (``[5m+1m]``, ``step()``); evaluated in ms at query time."""

    op: str  # "+", "-", "*", "/", "%", "^", "neg", "step", "range", "min_of", "max_of", "num"
    lhs: DurationExpr | None = None
    rhs: DurationExpr | None = None
    value: float = 0.0  # seconds, for "num"
    paren: bool = False
    duration: bool = True
    pos: int = field(default=0, compare=False)


Duration: TypeAlias = "int | DurationExpr"  # plain ms, or an expression


@dataclass(eq=True)
class VectorSelector:
    name: str | None
    matchers: list[Matcher]
    offset: int | DurationExpr = 0
    at: float | None = None  # seconds
    at_mod: str | None = None  # "start" / "end"
    smoothed: bool = False  # experimental: interpolate between neighbouring samples
    pos: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(eq=True)
class MatrixSelector:
    vs: VectorSelector
    range: int | DurationExpr
    anchored: bool = False
    smoothed: bool = False
    pos: int = field(default=0, compare=False)


@dataclass(eq=True)
class SubqueryExpr:
    expr: Expr
    range: int | DurationExpr
    step: int | DurationExpr | None
    offset: int | DurationExpr = 0
    at: float | None = None
    at_mod: str | None = None
    pos: int = field(default=0, compare=False)


@dataclass(eq=True)
class ParenExpr:
    expr: Expr
    pos: int = field(default=0, compare=False)


@dataclass(eq=True)
class UnaryExpr:
    op: str
    expr: Expr
    pos: int = field(default=0, compare=False)


@dataclass(eq=True)
class VectorMatching:
    card: str = "one-to-one"  # "one-to-one", "many-to-one", "one-to-many", "many-to-many"
    labels: list[str] = field(default_factory=list)
    on: bool = False
    include: list[str] = field(default_factory=list)
    explicit: bool = False  # on()/ignoring() written out
    fill_left: float | None = None
    fill_right: float | None = None


@dataclass(eq=True)
class BinaryExpr:
    op: str
    lhs: Expr
    rhs: Expr
    matching: VectorMatching | None = None
    return_bool: bool = False
    pos: int = field(default=0, compare=False)


@dataclass(eq=True)
class Call:
    func: str
    args: list[Expr]
    pos: int = field(default=0, compare=False)


@dataclass(eq=True)
class AggregateExpr:
    op: str
    expr: Expr
    param: Expr | None = None
    grouping: list[str] = field(default_factory=list)
    without: bool = False
    by: bool = False  # "by" written out (``sum by () (x)`` differs from ``sum(x)`` only in print)
    pos: int = field(default=0, compare=False)


Expr: TypeAlias = (
    NumberLiteral | StringLiteral | VectorSelector | MatrixSelector | SubqueryExpr | ParenExpr
    | UnaryExpr | BinaryExpr | Call | AggregateExpr | DurationExpr
)
