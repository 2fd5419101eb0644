"""Unit-test alerting and recording rules from pytest, with promtool's semantics.

Two ways in:

1. Run promtool-format unit-test files (the same files ``promtool test rules`` and
   ``watchkeeper rules test`` run)::

       from watchkeeper.rules.testing import assert_rule_tests

       def test_alert_rules():
           assert_rule_tests("tests/rules/alerts_test.yml")   # AssertionError on failure

   ``run_rule_tests(path)`` returns the outcome (``passed``, ``failed``, ``errors``)
   instead of raising.

2. Build the test in Python::

       from watchkeeper.rules.testing import RuleTest

       def test_instance_down():
           t = RuleTest("rules/*.yml", interval="1m")
           t.series('up{job="api", instance="a:1"}', "1 1 0x10")
           t.expect_alerts("InstanceDown", at="3m")            # none yet (for: 5m)
           t.expect_alerts("InstanceDown",
                           {"job": "api", "instance": "a:1", "severity": "page"},
                           at="8m", annotations={"summary": "a:1 down"})
           t.expect_samples("count(up == 0)", at="8m", value=1)
           t.run()

   Series use promtool's notation (``0+10x100``, ``_``, ``stale``, ``1x3``); times are
   Prometheus durations after the start (0). ``run()`` raises ``AssertionError`` with
   promtool's exp/got report.
"""

from __future__ import annotations

import glob as globlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..config._duration import parse_duration
from ._testfile import (
    AlertCase,
    ExpAlert,
    ExprCase,
    ExpSample,
    InputSeries,
    TestFile,
    TestFileError,
    TestGroup,
)
from ._unittest import FileOutcome, _GroupRun, quiet_rule_log, run_test_file

__all__ = ["FileOutcome", "RuleTest", "assert_rule_tests", "run_rule_tests"]


def run_rule_tests(path: str | Path, *, run: Sequence[str] = (),
                   ignore_unknown_fields: bool = False) -> FileOutcome:
    """Run one promtool unit-test file; ``run`` selects test groups by name regex."""
    return run_test_file(path, run=run, ignore_unknown_fields=ignore_unknown_fields)


def assert_rule_tests(*paths: str | Path, run: Sequence[str] = ()) -> None:
    """Run unit-test files; raise ``AssertionError`` listing every failure."""
    problems = []
    for path in paths:
        res = run_test_file(path, run=run)
        if res.errors:
            problems.append(f"{path}:\n" + "\n".join(res.errors))
    if problems:
        raise AssertionError("rule unit tests failed:\n" + "\n".join(problems))


def _seconds(value: str | float) -> float:
    return parse_duration(value)


def _metric_text(labels: Mapping[str, str]) -> str:
    name = labels.get("__name__", "")
    rest = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{rest}}}"


class RuleTest:
    """One promtool test group built in Python (see the module docstring)."""

    __test__ = False  # not a pytest class

    def __init__(self, *rule_files: str | Path, interval: str | float = "1m",
                 evaluation_interval: str | float | None = None,
                 external_labels: Mapping[str, str] | None = None, external_url: str = "",
                 fuzzy_compare: bool = False) -> None:
        files: list[str] = []
        for pattern in rule_files:
            matches = sorted(globlib.glob(str(pattern)))
            if not matches:
                raise FileNotFoundError(f"no rule file matches {pattern}")
            files.extend(matches)
        self.rule_files = files
        self.group = TestGroup(interval=_seconds(interval),
                               external_labels=dict(external_labels or {}),
                               external_url=external_url)
        self.file = TestFile(rule_files=files, fuzzy_compare=fuzzy_compare,
                             evaluation_interval=_seconds(evaluation_interval
                                                          if evaluation_interval is not None
                                                          else interval))
        self.file.tests = [self.group]

    def series(self, series: str, values: str) -> RuleTest:
        """Add an input series, e.g. ``series('up{job="a"}', "1 1 0x10")``."""
        self.group.input_series.append(InputSeries(series, values, 0))
        return self

    def expect_alerts(self, alertname: str, *alerts: Mapping[str, str], at: str | float,
                      annotations: Mapping[str, str] | Sequence[Mapping[str, str]] | None = None,
                      ) -> RuleTest:
        """Expect exactly these firing alerts (labels without ``alertname``) at ``at``.

        ``annotations`` is one mapping (for a single alert) or one per alert.
        """
        notes: list[Mapping[str, str]]
        if annotations is None:
            notes = [{} for _ in alerts]
        elif isinstance(annotations, Mapping):
            notes = [annotations]
        else:
            notes = list(annotations)
        if len(notes) != len(alerts):
            raise ValueError("give one annotations mapping per expected alert")
        exp = [ExpAlert(dict(lb), dict(an)) for lb, an in zip(alerts, notes, strict=True)]
        self.group.alert_rule_test.append(AlertCase(_seconds(at), alertname, exp))
        return self

    def expect_samples(self, expr: str, *, at: str | float, value: float | None = None,
                       samples: Sequence[tuple[Mapping[str, str], float]] = ()) -> RuleTest:
        """Expect ``expr`` at ``at`` to return ``samples`` (labels, value) — or, with
        ``value=``, one sample without labels (a scalar or an aggregated vector)."""
        exp = [ExpSample(_metric_text(lb) if lb else "", v) for lb, v in samples]
        if value is not None:
            exp.append(ExpSample("", value))
        self.group.promql_expr_test.append(ExprCase(expr, _seconds(at), exp))
        return self

    def errors(self) -> list[str]:
        """Run and return promtool's error texts (empty when everything matched)."""
        try:
            with quiet_rule_log():
                return _GroupRun(self.file, self.group, self.rule_files,
                                 self.file.evaluation_interval, False).run()
        except TestFileError as exc:
            return [str(exc)]

    def run(self) -> None:
        """Run; raise ``AssertionError`` with promtool's report when anything differs."""
        errs = self.errors()
        if errs:
            raise AssertionError("rule test failed:\n" + "\n".join(errs))
