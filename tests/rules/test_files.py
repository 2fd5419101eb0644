"""Rule files: Prometheus format, seed shorthand, and ``rules check`` against real promtool."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from watchkeeper.exceptions import RuleFileError
from watchkeeper.rules import load_rule_files
from watchkeeper.rules._files import parse_rule_text

GOOD = """\
groups:
  - name: api
    interval: 30s
    limit: 10
    rules:
      - record: job:http_requests:rate5m
        expr: sum by (job) (rate(http_requests_total[5m]))
        labels: {team: web}
      - alert: HighErrors
        expr: job:http_requests:rate5m > 1
        for: 5m
        keep_firing_for: 1m
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.job }} at {{ $value | humanize }}"
"""

BAD = {
    "bad_expr.yml": "groups:\n  - name: g\n    rules:\n      - record: x\n        expr: 'up +'\n",
    "both.yml": "groups:\n  - name: g\n    rules:\n      - record: x\n        alert: y\n"
                "        expr: up\n",
    "neither.yml": "groups:\n  - name: g\n    rules:\n      - expr: up\n",
    "for_on_record.yml": "groups:\n  - name: g\n    rules:\n      - record: x\n        expr: up\n"
                         "        for: 5m\n",
    "bad_names.yml": "groups:\n  - name: g\n    rules:\n      - record: 'a-b'\n        expr: up\n"
                     "        labels: {'1x': v}\n",
    "dup_group.yml": "groups:\n  - name: g\n    rules: []\n  - name: g\n    rules: []\n",
    "unknown.yml": "groups:\n  - name: g\n    foo: 1\n    rules:\n      - record: x\n"
                   "        expr: up\n        bar: 2\n",
    "template.yml": "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
                    "        annotations: {s: '{{ nope }}'}\n",
    "empty_name.yml": "groups:\n  - rules:\n      - record: x\n        expr: up\n",
    "no_expr.yml": "groups:\n  - name: g\n    rules:\n      - alert: A\n",
    "duplicates.yml": "groups:\n  - name: g\n    rules:\n      - record: x\n        expr: up\n"
                      "      - record: x\n        expr: up\n",
    "limit_type.yml": "groups:\n  - name: g\n    limit: x\n    rules:\n      - alert: A\n"
                      "        expr: up\n",
    "labels_type.yml": "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
                       "        labels: [a]\n",
    "top_unknown.yml": "foo: 1\n",
    "empty.yml": "",
    "record_fields.yml": "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: up\n"
                         "        annotations: {a: b}\n        keep_firing_for: 1m\n",
}

# Where we differ from promtool on purpose (see the rules check report in the docs):
# - a bad duration names its line and column; promtool prints no position;
# - YAML syntax errors are worded by PyYAML, not go-yaml (same line, other words).


def _watchkeeper(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "watchkeeper.cli", *args],
                          capture_output=True, text=True, check=False)


def test_prometheus_format_loads_every_field(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(GOOD)
    [group] = load_rule_files([str(tmp_path / "*.yml")])
    assert (group.name, group.interval, group.limit) == ("api", 30.0, 10)
    rec, alert = group.rules
    assert rec.kind == "record"
    assert rec.labels == {"team": "web"}
    assert (alert.kind, alert.for_, alert.keep_firing_for) == ("alert", 300.0, 60.0)
    assert alert.annotations["summary"].startswith("{{ $labels.job }}")


def test_error_names_file_line_column(tmp_path: Path) -> None:
    path = tmp_path / "bad_expr.yml"
    path.write_text(BAD["bad_expr.yml"])
    with pytest.raises(RuleFileError) as info:
        load_rule_files([path])
    assert (info.value.line, info.value.column) == (5, 15)
    want = f'{path}: 5:15: group "g", rule 1, "x": could not parse expression'
    assert want in str(info.value)


def test_bad_duration_is_located_unlike_promtool() -> None:
    res = parse_rule_text("groups:\n  - name: g\n    rules:\n      - alert: A\n"
                          "        expr: up\n        for: abc\n", "d.yml")
    assert res.errors == ['6:14: not a valid duration string: "abc"']


def test_seed_shorthand_compiles_to_promql(tmp_path: Path) -> None:
    path = tmp_path / "seed.yml"
    path.write_text("""\
alerts:
  - name: HighErrorRate
    metric: sum(rate(errors_total[1m])) / sum(rate(requests_total[1m]))
    condition: gt
    threshold: 0.05
    duration: 2m
    severity: critical
  - name: LowDisk
    metric: disk_free_bytes
    condition: le
    threshold: 1e9
  - name: Off
    metric: up
    condition: eq
    threshold: 0
    enabled: false
""")
    [group] = load_rule_files([path])
    assert group.name == "seed"
    high, low = group.rules
    assert high.expr == "(sum(rate(errors_total[1m])) / sum(rate(requests_total[1m]))) > 0.05"
    assert (high.for_, dict(high.labels)) == (120.0, {"severity": "critical"})
    assert low.expr == "disk_free_bytes <= 1000000000"


def test_seed_shorthand_bad_condition_is_located() -> None:
    res = parse_rule_text("alerts:\n  - name: X\n    metric: up\n    condition: bigger\n"
                          "    threshold: 1\n", "s.yml")
    assert res.errors == ['4:16: group "s", rule 1, "X": condition must be one of gt, lt, ge, '
                          "le, eq, ne; got 'bigger'"]


def test_shorthand_inside_prometheus_group() -> None:
    res = parse_rule_text("groups:\n  - name: g\n    rules:\n      - alert: A\n"
                          "        metric: up\n        condition: lt\n        threshold: 1\n",
                          "f.yml")
    assert res.errors == []
    assert res.groups[0].rules[0].expr == "up < 1"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
@pytest.mark.parametrize("name", ["good.yml", *sorted(BAD)])
def test_check_matches_promtool(tmp_path: Path, name: str,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path(name).write_text(GOOD if name == "good.yml" else BAD[name])
    ours = _watchkeeper("rules", "check", name)
    theirs = subprocess.run(["promtool", "check", "rules", name], capture_output=True,
                            text=True, check=False)
    assert ours.returncode == theirs.returncode
    assert ours.stdout == theirs.stdout
    # Go map order is random: compare error lines as a set.
    assert sorted(ours.stderr.splitlines()) == sorted(theirs.stderr.splitlines())


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_check_matches_promtool_on_conformance_rule_files(monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / \
        "promtool-rules"
    if not corpus.is_dir():
        pytest.skip(f"conformance corpus not found at {corpus}")
    monkeypatch.chdir(corpus)
    files = ["rules.yml", "at-modifier.yml", "negative-offset.yml", "bad-rules-error.yml",
             "bad-rules-syntax.yml", "rules_extrafields.yml"]
    ours = _watchkeeper("rules", "check", *files)
    theirs = subprocess.run(["promtool", "check", "rules", *files], capture_output=True,
                            text=True, check=False)
    assert (ours.returncode, ours.stdout, ours.stderr) == \
        (theirs.returncode, theirs.stdout, theirs.stderr)


def test_public_api_is_pinned() -> None:
    from watchkeeper import rules

    assert rules.__all__ == ["ActiveAlert", "Alert", "AlertState", "Rule", "RuleFileError",
                             "RuleGroup", "RuleManager", "fingerprint", "load_rule_files"]
    for name in rules.__all__:
        assert getattr(rules, name) is not None
    from watchkeeper.notify import Alert

    assert Alert is rules.Alert
