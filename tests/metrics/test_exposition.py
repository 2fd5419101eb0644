"""Exposition: both formats parse, escape correctly, and pass promtool."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse
from prometheus_client.parser import text_string_to_metric_families as text_parse

from watchkeeper.metrics import Registry, render_registry


def _populated() -> Registry:
    registry = Registry(const_labels={"service": "shop"})
    registry.counter("orders_total", "Orders placed.\nSecond line \\ slash.",
                     ("channel",)).labels('we"b\\\n').inc(3)
    registry.gauge("temperature_celsius", "Temp.", unit="celsius").set(-1.5)
    latency = registry.histogram("latency_seconds", "L.", ("route",), buckets=[0.1, 1.0],
                                 unit="seconds")
    latency.labels("/a").observe(0.5)
    registry.gauge("weird", "W.", ("k",)).labels("x").set(float("inf"))
    registry.gauge("nan_gauge", "N.").set(float("nan"))
    return registry


def test_text_format_round_trips_through_the_reference_parser() -> None:
    families = {f.name: f for f in text_parse(render_registry(_populated()))}
    orders = families["orders"].samples[0]
    assert orders.labels == {"service": "shop", "channel": 'we"b\\\n'}
    assert orders.value == 3
    assert families["orders"].documentation == "Orders placed.\nSecond line \\ slash."
    assert families["weird"].samples[0].value == float("inf")
    buckets = [s for s in families["latency_seconds"].samples if s.name.endswith("_bucket")]
    assert [s.labels["le"] for s in buckets] == ["0.1", "1.0", "+Inf"]


def test_openmetrics_format_round_trips_through_the_reference_parser() -> None:
    text = render_registry(_populated(), openmetrics=True)
    assert text.endswith("# EOF\n")
    families = {f.name: f for f in om_parse(text)}
    assert families["orders"].type == "counter"
    assert families["latency_seconds"].unit == "seconds"
    assert families["temperature_celsius"].unit == "celsius"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
@pytest.mark.parametrize("openmetrics", [False, True], ids=["text-0.0.4", "openmetrics-1.0"])
def test_promtool_accepts_both_formats(openmetrics: bool) -> None:
    import watchkeeper
    from watchkeeper import _runtime

    watchkeeper.init()
    registry = _runtime.registry()
    from watchkeeper.metrics import HttpServerHook

    HttpServerHook(registry, _runtime.settings().metrics)
    text = render_registry(registry, openmetrics=openmetrics)
    result = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), check=False,
                            capture_output=True, timeout=30)
    # promtool exits non-zero for lint findings too; only parse errors are failures.
    output = (result.stdout + result.stderr).decode()
    assert "error while linting" not in output, output
    assert "parse" not in output.lower(), output


label_values = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(label_values, min_size=1, max_size=5, unique=True),
       help_text=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30))
def test_any_label_value_and_help_survive_both_formats(values: list[str], help_text: str) -> None:
    registry = Registry()
    family = registry.counter("fuzz_total", help_text, ("v",))
    for i, v in enumerate(values):
        family.labels(v).inc(i + 1)
    for parse, om in ((text_parse, False), (om_parse, True)):
        parsed = {f.name: f for f in parse(render_registry(registry, openmetrics=om))}
        got = {s.labels["v"]: s.value for s in parsed["fuzz"].samples
               if s.name == "fuzz_total"}
        assert got == {v: float(i + 1) for i, v in enumerate(values)}
