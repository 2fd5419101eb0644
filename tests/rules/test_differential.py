"""Alert state machine and series against real promtool: same unit-test file, same output.

Hypothesis writes rule files (``for``, ``keep_firing_for``, recording rules, templates)
and input series with gaps and staleness; every test expects nothing, so both tools print
what they *got* — the firing alerts and the ALERTS / ALERTS_FOR_STATE / recorded series at
each minute — and we compare their stdout, stderr and exit code byte for byte.

Input samples are 61 s apart, the first at 61 s, so no sample sits exactly 5 m before an
evaluation: promtool
2.42 has Prometheus 2's closed lookback window, our engine Prometheus 3's left-open one.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.skipif(shutil.which("promtool") is None,
                                reason="promtool not installed")

_POINT = st.sampled_from(["0", "1", "2", "_", "stale"])


def _files(values: list[list[str]], hold: int, keep: int, minutes: int) -> tuple[str, str]:
    rules = f"""\
groups:
  - name: g
    rules:
      - alert: High
        expr: x > 0
        for: {hold}m
        keep_firing_for: {keep}m
        labels:
          severity: "{{{{ if gt $value 1.0 }}}}page{{{{ else }}}}ticket{{{{ end }}}}"
        annotations:
          summary: "{{{{ $labels.i }}}} is {{{{ $value | humanize }}}}"
          total: '{{{{ with query "sum(x)" }}}}{{{{ . | first | value | printf "%.2f" }}}}\
{{{{ end }}}}'
      - record: x:sum
        expr: sum(x)
"""
    series = "".join(f"      - series: 'x{{i=\"{n}\"}}'\n        values: '_ {' '.join(v)}'\n"
                     for n, v in enumerate(values))
    checks = "".join(f"      - eval_time: {m}m\n        alertname: High\n        exp_alerts: []\n"
                     for m in range(minutes))
    exprs = "".join(f"      - expr: '{{__name__=~\"ALERTS.*|x:sum\"}}'\n        eval_time: {m}m\n"
                    "        exp_samples: []\n" for m in range(minutes))
    test = f"""\
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 61s
    input_series:
{series}    alert_rule_test:
{checks}    promql_expr_test:
{exprs}"""
    return rules, test


def _run(cmd: list[str], cwd: str) -> tuple[int, str, str]:
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    return p.returncode, p.stdout, p.stderr


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(st.lists(_POINT, min_size=3, max_size=10), min_size=1, max_size=2),
       hold=st.integers(0, 3), keep=st.integers(0, 3))
def test_same_output_as_promtool(values: list[list[str]], hold: int, keep: int) -> None:
    minutes = max(len(v) for v in values) + 4
    rules, test = _files(values, hold, keep, minutes)
    with tempfile.TemporaryDirectory() as d:
        Path(d, "rules.yml").write_text(rules)
        Path(d, "t.yml").write_text(test)
        theirs = _run(["promtool", "test", "rules", "t.yml"], d)
        ours = _run([sys.executable, "-m", "watchkeeper.cli", "rules", "test", "t.yml"], d)
    code, out, err = ours
    # our one addition: the final "N passed, N failed" line
    head, last = out.rstrip("\n").rsplit("\n", 1)
    assert last == ("1 passed, 0 failed" if theirs[0] == 0 else "0 passed, 1 failed")
    assert (code, head + "\n", err) == theirs


_NUMBER = st.sampled_from(["0", "1", "-2", "1.5", "0.1", "-1.5e1", "3"])
_ITEM = st.one_of(
    _NUMBER, st.just("_"), st.just("stale"),
    st.builds(lambda n: f"_x{n}", st.integers(1, 3)),
    st.builds(lambda a, op, b, n: f"{a}{op}{b.lstrip('-')}x{n}", _NUMBER,
              st.sampled_from(["+", "-"]), _NUMBER, st.integers(0, 3)),
    st.builds(lambda a, n: f"{a}x{n}", _NUMBER, st.integers(0, 3)))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(st.lists(_ITEM, min_size=1, max_size=4), min_size=1, max_size=3))
def test_series_notation_loads_like_promtool(items: list[list[str]]) -> None:
    lines = ["tests:", "  - interval: 61s", "    input_series:"]
    for n, values in enumerate(items):
        lines.append(f"      - series: 's{n}'\n        values: '_ {' '.join(values)}'")
    lines.append("    promql_expr_test:")
    for m in range(14):
        lines.append(f"      - expr: '{{__name__=~\"s.*\"}}'\n        eval_time: {m * 61 + 1}s\n"
                     "        exp_samples: []")
    with tempfile.TemporaryDirectory() as d:
        Path(d, "t.yml").write_text("\n".join(lines) + "\n")
        theirs = _run(["promtool", "test", "rules", "t.yml"], d)
        ours = _run([sys.executable, "-m", "watchkeeper.cli", "rules", "test", "t.yml"], d)
    assert (ours[0], ours[2]) == (theirs[0], theirs[2])
