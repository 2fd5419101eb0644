"""promtool's rule unit-test file format, read strictly (unknown fields are errors).

Fields and types as ``cmd/promtool/unittest.go`` declares them; positions for errors.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime

import yaml

from ..config._duration import parse_duration_ms
from ._yaml import compose, pos

__all__ = [
    "AlertCase",
    "ExprCase",
    "InputSeries",
    "TestFile",
    "TestFileError",
    "TestGroup",
    "parse_test_file",
]


class TestFileError(Exception):
    """A unit-test file that cannot be read (promtool's wording)."""

    __test__ = False  # not a pytest class


@dataclass
class InputSeries:
    series: str
    values: str
    line: int


@dataclass
class ExpAlert:
    labels: dict[str, str]
    annotations: dict[str, str]


@dataclass
class AlertCase:
    eval_time: float
    alertname: str
    exp_alerts: list[ExpAlert]


@dataclass
class ExpSample:
    labels: str
    value: float
    histogram: str = ""


@dataclass
class ExprCase:
    expr: str
    eval_time: float
    exp_samples: list[ExpSample]


@dataclass
class TestGroup:
    __test__ = False

    interval: float = 0.0
    input_series: list[InputSeries] = field(default_factory=list)
    alert_rule_test: list[AlertCase] = field(default_factory=list)
    promql_expr_test: list[ExprCase] = field(default_factory=list)
    external_labels: dict[str, str] = field(default_factory=dict)
    external_url: str = ""
    name: str = ""
    start_timestamp: float | None = None


@dataclass
class TestFile:
    __test__ = False

    rule_files: list[str] = field(default_factory=list)
    evaluation_interval: float = 0.0
    group_eval_order: list[str] = field(default_factory=list)
    tests: list[TestGroup] = field(default_factory=list)
    fuzzy_compare: bool = False


class _Reader:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def fields(self, node: yaml.Node | None, allowed: tuple[str, ...],
               typename: str) -> dict[str, yaml.Node]:
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")):
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.bad(node, typename)
            return {}
        out = {}
        for k, v in node.value:
            key = str(k.value)
            if key not in allowed:
                self.errors.append(f"line {pos(k)[0]}: field {key} not found in type {typename}")
                continue
            if key in out:
                self.errors.append(f'line {pos(k)[0]}: field {key} already set in type {typename}')
            out[key] = v
        return out

    def bad(self, node: yaml.Node, want: str) -> None:
        tag = node.tag.rsplit(":", 1)[-1]
        shown = f" `{node.value}`" if isinstance(node, yaml.ScalarNode) else ""
        self.errors.append(f"line {pos(node)[0]}: cannot unmarshal !!{tag}{shown} into {want}")

    def string(self, node: yaml.Node | None) -> str:
        if node is None:
            return ""
        if not isinstance(node, yaml.ScalarNode):
            self.bad(node, "string")
            return ""
        return "" if node.tag.endswith(":null") else str(node.value)

    def duration(self, node: yaml.Node | None) -> float:
        text = self.string(node)
        if not text:
            return 0.0
        try:
            return parse_duration_ms(text) / 1000.0
        except ValueError as exc:
            raise TestFileError(f'not a valid duration string: "{text}"') from exc

    def number(self, node: yaml.Node | None) -> float:
        text = self.string(node).strip()
        if not text:
            return 0.0
        low = text.lower()
        if low in (".inf", "+.inf"):
            return math.inf
        if low == "-.inf":
            return -math.inf
        if low == ".nan":
            return math.nan
        try:
            return float(text.replace("_", ""))
        except ValueError:
            assert node is not None
            self.bad(node, "float64")
            return 0.0

    def boolean(self, node: yaml.Node | None) -> bool:
        text = self.string(node).lower()
        if text in ("true", "yes", "on"):
            return True
        if text in ("", "false", "no", "off"):
            return False
        assert node is not None
        self.bad(node, "bool")
        return False

    def items(self, node: yaml.Node | None, want: str) -> list[yaml.Node]:
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")):
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.bad(node, want)
            return []
        return list(node.value)

    def str_map(self, node: yaml.Node | None) -> dict[str, str]:
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")):
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.bad(node, "map[string]string")
            return {}
        return {str(k.value): self.string(v) for k, v in node.value}


def _timestamp(text: str) -> float:
    """promtool's ``parseTime``: unix seconds (with fraction) or RFC 3339."""
    try:
        return float(text)
    except ValueError:
        pass
    if re.fullmatch(r"\d{4}-\d\d-\d\dT.*", text):
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")) \
            .timestamp()
    raise TestFileError(f"cannot parse {text!r} to a valid timestamp")


def _group(r: _Reader, node: yaml.Node) -> TestGroup:
    f = r.fields(node, ("interval", "input_series", "alert_rule_test", "promql_expr_test",
                        "external_labels", "external_url", "name", "start_timestamp"),
                 "main.testGroup")
    tg = TestGroup(interval=r.duration(f.get("interval")), name=r.string(f.get("name")),
                   external_labels=r.str_map(f.get("external_labels")),
                   external_url=r.string(f.get("external_url")))
    if "start_timestamp" in f:
        tg.start_timestamp = _timestamp(r.string(f["start_timestamp"]))
    for item in r.items(f.get("input_series"), "[]main.series"):
        sf = r.fields(item, ("series", "values"), "main.series")
        tg.input_series.append(InputSeries(r.string(sf.get("series")),
                                           r.string(sf.get("values")), pos(item)[0]))
    for item in r.items(f.get("alert_rule_test"), "[]main.alertTestCase"):
        af = r.fields(item, ("eval_time", "alertname", "exp_alerts"), "main.alertTestCase")
        exp = []
        for a in r.items(af.get("exp_alerts"), "[]main.alert"):
            ef = r.fields(a, ("exp_labels", "exp_annotations"), "main.alert")
            exp.append(ExpAlert(r.str_map(ef.get("exp_labels")),
                                r.str_map(ef.get("exp_annotations"))))
        tg.alert_rule_test.append(AlertCase(r.duration(af.get("eval_time")),
                                            r.string(af.get("alertname")), exp))
    for item in r.items(f.get("promql_expr_test"), "[]main.promqlTestCase"):
        pf = r.fields(item, ("expr", "eval_time", "exp_samples"), "main.promqlTestCase")
        samples = []
        for s in r.items(pf.get("exp_samples"), "[]main.sample"):
            xf = r.fields(s, ("labels", "value", "histogram"), "main.sample")
            samples.append(ExpSample(r.string(xf.get("labels")), r.number(xf.get("value")),
                                     r.string(xf.get("histogram"))))
        tg.promql_expr_test.append(ExprCase(r.string(pf.get("expr")),
                                            r.duration(pf.get("eval_time")), samples))
    return tg


def parse_test_file(text: str) -> TestFile:
    """Parse a unit-test file; raises TestFileError with promtool's yaml error wording."""
    try:
        root = compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise TestFileError(f"yaml: line {line}: {getattr(exc, 'problem', exc)}") from exc
    r = _Reader()
    f = r.fields(root, ("rule_files", "evaluation_interval", "group_eval_order", "tests",
                        "fuzzy_compare"), "main.unitTestFile")
    tf = TestFile(rule_files=[r.string(n) for n in r.items(f.get("rule_files"), "[]string")],
                  evaluation_interval=r.duration(f.get("evaluation_interval")),
                  group_eval_order=[r.string(n) for n in
                                    r.items(f.get("group_eval_order"), "[]string")],
                  fuzzy_compare=r.boolean(f.get("fuzzy_compare")))
    tf.tests = [_group(r, n) for n in r.items(f.get("tests"), "[]main.testGroup")]
    if r.errors:
        raise TestFileError("yaml: unmarshal errors:\n  " + "\n  ".join(r.errors))
    return tf
