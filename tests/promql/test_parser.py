"""Parser, printer and error reporting."""

from __future__ import annotations

import pytest

from watchkeeper import promql
from watchkeeper.exceptions import PromQLParseError, PromQLTypeError
from watchkeeper.promql import (
    AggregateExpr,
    BinaryExpr,
    MatrixSelector,
    NumberLiteral,
    SubqueryExpr,
    VectorSelector,
    format_expr,
    parse,
)

ROUND_TRIP = [
    'sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))',
    "histogram_quantile(0.95, sum(rate(db_query_seconds_bucket[5m])) by (table, le))",
    "avg_over_time(rate(x[5m])[1h:5m])",
    "a + b * c ^ d ^ e",
    "(a + b) * c",
    "-x ^ 2",
    "x offset -5m",
    "x @ 100 offset 1m",
    "x[5m] @ end()",
    "rate(x[5m:] @ start())",
    "a > bool on (job) group_left (team) b",
    "a and ignoring (x) b or c unless d",
    "count_values(\"v\", x)",
    "topk(3, x)",
    "0x1F + 1e-3 + Inf - NaN",
    '{"strange.name", a="b"}',
    "x[1h30m]",
    "changes(x[2m * (10 + 5)])",
    "x offset (-(step())) * 2",
    "label_replace(x, \"dst\", \"$1\", \"src\", \"(.*)\")",
    "a * on (i) group_right fill_left (1) b",
]


@pytest.mark.parametrize("query", ROUND_TRIP)
def test_parse_print_parse_round_trips(query: str) -> None:
    tree = parse(query)
    assert parse(format_expr(tree)) == tree


def test_precedence_and_associativity() -> None:
    e = parse("a - b - c")
    assert isinstance(e, BinaryExpr)
    assert isinstance(e.lhs, BinaryExpr)
    e = parse("a ^ b ^ c")
    assert isinstance(e, BinaryExpr)
    assert isinstance(e.rhs, BinaryExpr)
    e = parse("-2 ^ 2")
    assert format_expr(e) == "-2 ^ 2"
    assert isinstance(parse("-1"), NumberLiteral)


def test_selectors_and_modifiers() -> None:
    e = parse('foo{a="b"}[5m] offset 1m')
    assert isinstance(e, MatrixSelector)
    assert e.range == 300_000
    assert e.vs.offset == 60_000
    s = parse("foo[5m:30s]")
    assert isinstance(s, SubqueryExpr)
    assert s.step == 30_000
    a = parse("sum without (x) (foo)")
    assert isinstance(a, AggregateExpr)
    assert a.without
    assert a.grouping == ["x"]
    v = parse("foo @ 1700000000")
    assert isinstance(v, VectorSelector)
    assert v.at == 1_700_000_000


def test_parse_error_has_line_column_and_caret() -> None:
    with pytest.raises(PromQLParseError) as info:
        parse("sum(rate(x[5m])\n  +")
    err = info.value
    assert (err.line, err.column) == (2, 4)
    assert str(err).splitlines()[-1] == "   ^"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("rate(x)", 'expected type range vector in call to function "rate"'),
        ("1 > 2", "comparisons between scalars must use BOOL modifier"),
        ("x[5m] + 1", "binary expression must contain only scalar and instant vector"),
        ("sum(x[5m])", "expected type instant vector in aggregation expression"),
    ],
)
def test_type_errors_named_as_prometheus(query: str, message: str) -> None:
    with pytest.raises(PromQLTypeError, match=message):
        parse(query)


@pytest.mark.parametrize("query", ["{}", 'x{a=~"(?=b)"}', "foo(", "x[5m", "1 +", "x offset"])
def test_parse_errors(query: str) -> None:
    with pytest.raises(PromQLParseError):
        parse(query)


def test_public_api_is_pinned() -> None:
    assert set(promql.__all__) == {
        "AggregateExpr", "BinaryExpr", "Call", "DurationExpr", "Engine", "Expr",
        "MatrixSelector", "NumberLiteral", "ParenExpr", "QueryResult", "Sample",
        "SeriesResult", "StringLiteral", "SubqueryExpr", "UnaryExpr", "ValueType",
        "VectorMatching", "VectorSelector", "format_expr", "parse",
    }
