"""The pytest helpers users call: promtool files and the fluent RuleTest."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchkeeper.rules.testing import RuleTest, assert_rule_tests, run_rule_tests

RULES = """\
groups:
  - name: g
    rules:
      - alert: InstanceDown
        expr: up == 0
        for: 5m
        labels: {severity: page}
        annotations:
          summary: "{{ $labels.instance }} down"
      - record: job:up:sum
        expr: sum by (job) (up)
"""

TEST = """\
rule_files: [rules.yml]
tests:
  - interval: 1m
    input_series:
      - series: 'up{job="api", instance="a:1"}'
        values: '1 1 0x10'
    alert_rule_test:
      - eval_time: 8m
        alertname: InstanceDown
        exp_alerts:
          - exp_labels: {job: api, instance: "a:1", severity: page}
            exp_annotations: {summary: "a:1 down"}
"""


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    (tmp_path / "rules.yml").write_text(RULES)
    return tmp_path


def test_promtool_file_helpers(rules: Path) -> None:
    (rules / "t.yml").write_text(TEST)
    assert_rule_tests(rules / "t.yml")
    assert run_rule_tests(rules / "t.yml").passed == 1
    (rules / "bad.yml").write_text(TEST.replace("8m", "3m"))
    with pytest.raises(AssertionError, match="alertname: InstanceDown, time: 3m"):
        assert_rule_tests(rules / "bad.yml")


def test_fluent_rule_test(rules: Path) -> None:
    t = RuleTest(rules / "rules.yml", interval="1m")
    t.series('up{job="api", instance="a:1"}', "1 1 0x10")
    t.expect_alerts("InstanceDown", at="3m")
    t.expect_alerts("InstanceDown", {"job": "api", "instance": "a:1", "severity": "page"},
                    at="8m", annotations={"summary": "a:1 down"})
    t.expect_samples("job:up:sum", at="8m", samples=[({"__name__": "job:up:sum",
                                                        "job": "api"}, 0)])
    t.expect_samples("count(up == 0)", at="8m", value=1)
    t.run()


def test_fluent_rule_test_reports_like_promtool(rules: Path) -> None:
    t = RuleTest(rules / "rules.yml")
    t.series('up{job="api", instance="a:1"}', "0x10")
    t.expect_alerts("InstanceDown", at="6m")
    with pytest.raises(AssertionError) as info:
        t.run()
    assert 'Labels:{alertname="InstanceDown", instance="a:1", job="api", severity="page"}' \
        in str(info.value)
