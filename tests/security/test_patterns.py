"""Patterns run in linear time or are refused at load (ReDoS)."""

from __future__ import annotations

import re
import time

import pytest

from watchkeeper.exceptions import PatternRejectedError
from watchkeeper.security import SHIPPED_RULES, Inspector, compile_pattern, re2_available
from watchkeeper.security._rules import Rule

ENGINES = ["re", pytest.param("re2", marks=pytest.mark.skipif(
    not re2_available(), reason="google-re2 is not installed"))]


@pytest.mark.parametrize("pattern", [
    r"(a+)+$", r"(a|aa)*b", r"(\w+\s?)*$", r"(.*a){12}", r"^(([a-z])+.)+[A-Z]([a-z])+$",
    r"(a)\1", r"(?=a)a", r"(?<!x)y", r"union.*select", r"\s+x", r"a{1,}",
])
def test_backtracking_shapes_are_rejected_under_re(pattern: str) -> None:
    with pytest.raises(PatternRejectedError) as info:
        compile_pattern("user.rule", pattern, "re")
    assert "user.rule" in str(info.value)


@pytest.mark.skipif(not re2_available(), reason="google-re2 is not installed")
def test_re2_accepts_the_seed_patterns_and_refuses_backreferences() -> None:
    for pattern in (r"union.*select", r"drop.*table", r"<script.*>", r"\.\./\.\./"):
        compiled = compile_pattern("seed", pattern, "re2")
        assert compiled.engine == "re2"
    assert compile_pattern("seed", r"union.*select", "re2").search("1 union all select 2")
    with pytest.raises(PatternRejectedError):
        compile_pattern("bad", r"(a)\1", "re2")
    with pytest.raises(PatternRejectedError):
        compile_pattern("bad", r"(?=a)", "re2")


def test_bounded_patterns_pass_under_re() -> None:
    compiled = compile_pattern("ok", r"union.{0,100}select|<script\b", "re")
    assert compiled.search("x union all select y")


def _adversarial_inputs() -> dict[str, str]:
    """100 kB inputs crafted against the shapes the rules contain."""
    n = 100_000
    return {
        "quotes": ("' or " * (n // 5))[:n],
        "unions": ("union " * (n // 6))[:n],
        "tags": ("<a " * (n // 3))[:n],
        "dots": ("../" * (n // 3))[:n] + "x",
        "spaces": " " * n,
        "semicolons": ("; " * (n // 2))[:n],
        "braces": ("{{" * (n // 2))[:n],
        "digits": ("1 or " * (n // 5))[:n],
        "words": ("a" * n),
        "mixed": ("'\"<>;|&`$(){}[]../\\%=" * (n // 20))[:n],
    }


def _timed(search: object, text: str) -> float:
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        search(text)  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.skipif(not re2_available(), reason="google-re2 is not installed")
def test_every_shipped_pattern_is_linear_on_adversarial_100kb_re2() -> None:
    """Under re2 (the engine used when installed), each rule on each 100 kB adversarial
    input stays within 50x the time of a baseline regex that does work at every position
    (``[xy][0-9]{1,8}q``) on the same input in the same run, plus 10 ms. A catastrophic
    pattern takes seconds to hours on these inputs; the worst shipped one is ~10x."""
    baseline_pattern = re.compile(r"[xy][0-9]{1,8}q")
    for name, text in _adversarial_inputs().items():
        baseline = _timed(baseline_pattern.search, text)
        for rule in SHIPPED_RULES:
            compiled = compile_pattern(rule.id, rule.pattern, "re2")
            elapsed = _timed(compiled.search, text)
            budget = 50 * baseline + 0.01
            assert elapsed < budget, f"{rule.id} on {name}: {elapsed:.4f}s > {budget:.4f}s"


def test_every_shipped_pattern_scales_linearly_under_re() -> None:
    """Under the stdlib fallback the shape rules make each search O(n * bound): growing the
    adversarial input (2k to 16k) 8x grows the time ~8-12x (cache effects); 32x + 10 ms is allowed,
    where a quadratic pattern would take 64x. The
    constant is larger than re2's, which is why the inspector also caps every input at
    ``max_inspect_chars`` under ``re`` (bodies included)."""
    for name, text in _adversarial_inputs().items():
        small, large = text[:2048], text[:16384]
        for rule in SHIPPED_RULES:
            compiled = compile_pattern(rule.id, rule.pattern, "re")
            t_small = _timed(compiled.search, small)
            t_large = _timed(compiled.search, large)
            assert t_large < 32 * t_small + 0.01, (
                f"{rule.id} on {name}: {t_small:.4f}s at 4k, {t_large:.4f}s at 32k")


@pytest.mark.parametrize("engine", ENGINES)
def test_inspector_cost_is_bounded_by_the_input_budget(engine: str) -> None:
    inspector = Inspector(SHIPPED_RULES, engine, max_chars=8192)  # type: ignore[arg-type]
    start = time.perf_counter()
    for text in _adversarial_inputs().values():
        inspector.inspect("query", "q=" + text)
        inspector.inspect("header:user-agent", text)
    assert time.perf_counter() - start < 5.0


def test_custom_rule_rejected_at_load_names_the_rule() -> None:
    with pytest.raises(PatternRejectedError) as info:
        Inspector([Rule("custom.slow", "custom", "high", r"(x+x+)+y")], "re")
    assert info.value.rule_id == "custom.slow"
