"""Hypothesis: arbitrary input raises only PromQLParseError/PromQLTypeError; printing
generated expressions round-trips."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchkeeper.exceptions import PromQLParseError, PromQLTypeError
from watchkeeper.promql import format_expr, parse

TOKENS = ["sum", "rate", "(", ")", "[", "]", "{", "}", "5m", "1", "0x1f", "x", "y", "+", "-",
          "*", "/", "^", "==", "bool", "by", "on", "offset", "@", ",", ":", '"a"', "=", "=~",
          "!~", "and", "or", "Inf", "NaN", "group_left", "without", "topk", "start()", "1h30m"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60))
def test_random_text_raises_only_promql_errors(text: str) -> None:
    with contextlib.suppress(PromQLParseError, PromQLTypeError):
        parse(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=12))
def test_token_soup_raises_only_promql_errors(tokens: list[str]) -> None:
    with contextlib.suppress(PromQLParseError, PromQLTypeError):
        parse(" ".join(tokens))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_random_bytes(data: bytes) -> None:
    with contextlib.suppress(PromQLParseError, PromQLTypeError):
        parse(data.decode("utf-8", "replace"))


name = st.sampled_from(["x", "y", "http_requests_total"])
selector = st.builds(lambda n, lb: f'{n}{{job="{lb}"}}' if lb else n, name,
                     st.sampled_from(["", "api", "a\\\"b"]))
duration = st.sampled_from(["5m", "1h", "30s", "1h30m"])


def _exprs() -> st.SearchStrategy[str]:
    leaf = st.one_of(selector, st.integers(0, 100).map(str),
                     st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr))
    vec = st.one_of(
        selector,
        st.builds(lambda s, d: f"rate({s}[{d}])", selector, duration),
        st.builds(lambda s, d: f"avg_over_time({s}[{d}:1m])", selector, duration),
    )

    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.builds(lambda a, op, b: f"({a}) {op} ({b})", children,
                      st.sampled_from(["+", "-", "*", "/", "^", "%", "atan2"]), children),
            st.builds(lambda a, op, b: f"{a} {op} {b}", vec,
                      st.sampled_from(["and", "or", "unless", "> bool", "+ on(job)"]), vec),
            st.builds(lambda agg, a: f"{agg} by (job) ({a})",
                      st.sampled_from(["sum", "avg", "max", "count"]), vec),
            st.builds(lambda a: f"-({a})", children),
            st.builds(lambda a: f"abs({a})", vec),
        )

    return st.recursive(st.one_of(leaf, vec), extend, max_leaves=6)


@settings(max_examples=300, deadline=None)
@given(_exprs())
def test_generated_expressions_round_trip(text: str) -> None:
    try:
        tree = parse(text)
    except (PromQLParseError, PromQLTypeError):
        return
    printed = format_expr(tree)
    assert parse(printed) == tree, printed
