"""Prometheus duration strings."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.config import format_duration, parse_duration, parse_duration_ms


@pytest.mark.parametrize(("text", "ms"), [
    ("0", 0), ("15s", 15_000), ("1m30s", 90_000), ("1h30m", 5_400_000), ("500ms", 500),
    ("1d", 86_400_000), ("2w", 1_209_600_000), ("1y", 31_536_000_000), ("1h0m1s", 3_601_000),
])
def test_valid_durations(text: str, ms: int) -> None:
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["", "1", "s", "30m1h", "1hh", "1.5h", "-1s", "1 h", "5x"])
def test_invalid_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration_ms(text)


def test_plain_seconds_and_numbers() -> None:
    assert parse_duration(15) == 15.0
    assert parse_duration("2.5") == 2.5
    assert parse_duration("1m") == 60.0
    for bad in (-1, float("nan"), float("inf"), True, None, "-2"):
        with pytest.raises(ValueError, match="duration"):
            parse_duration(bad)


@given(st.integers(min_value=0, max_value=10**12))
def test_format_then_parse_round_trips(ms: int) -> None:
    assert parse_duration_ms(format_duration(ms / 1000)) == ms


@given(st.text(max_size=12))
def test_arbitrary_text_never_raises_anything_but_value_error(text: str) -> None:
    with contextlib.suppress(ValueError):
        parse_duration(text)
