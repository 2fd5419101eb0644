from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from watchkeeper.exceptions import NotifyTemplateError
from watchkeeper.notify import Alert, NotifyContext, TemplateSet
from watchkeeper.notify._data import build_data
from watchkeeper.notify._template_funcs import go_float

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def data() -> Any:
    ctx = NotifyContext(NOW, "k", {"alertname": "A"}, "team.x", 60)
    return build_data(ctx, [
        Alert({"alertname": "A", "sev": "crit", "job": "api"}, {"summary": "s1"},
              starts_at=NOW),
        Alert({"alertname": "A", "sev": "warn", "job": "api"}, {"summary": "s2"},
              starts_at=NOW, ends_at=NOW),
    ])


@pytest.mark.parametrize(
    ("src", "want"),
    [
        ("{{ .CommonLabels.job }}", "api"),
        ("{{ .CommonLabels.missing }}", ""),
        ("{{ .Receiver }}", "team\\.x"),
        ("{{ .Status | toUpper }}", "FIRING"),
        ("{{ len .Alerts.Firing }}/{{ len .Alerts.Resolved }}", "1/1"),
        ("{{ range .Alerts }}{{ .Labels.sev }},{{ end }}", "crit,warn,"),
        ("{{ range $i, $a := .Alerts }}{{ $i }}={{ $a.Annotations.summary }} {{ end }}",
         "0=s1 1=s2 "),
        ("{{ range .Alerts.Resolved }}{{ .Status }}{{ else }}none{{ end }}", "resolved"),
        ("{{ if eq .Status \"resolved\" }}r{{ else if eq .Status \"firing\" }}f{{ end }}", "f"),
        ("{{ with .CommonLabels.job }}job={{ . }}{{ end }}", "job=api"),
        ("{{ with .CommonLabels.nope }}x{{ else }}empty{{ end }}", "empty"),
        ("{{ .CommonLabels.Remove .GroupLabels.Names | len }}", "1"),
        ("{{ .GroupLabels.SortedPairs.Values | join \",\" }}", "A"),
        ("{{ $x := 1 }}{{ $x = 2 }}{{ $x }}", "2"),
        ("{{- \"a\" }}  \n  {{- \"b\" -}}  c", "abc"),
        ("{{/* comment */}}x", "x"),
        ('{{ printf "%s-%d-%.1f-%v" "a" 3 2.25 true }}', "a-3-2.2-true"),
        ('{{ reReplaceAll "(a+)" "<$1>" "baaad" }}', "b<aaa>d"),
        ('{{ "hello world" | title }}', "Hello World"),
        ('{{ match "^a.c$" "abc" }}', "true"),
        ("{{ and 1 0 }} {{ or 0 \"\" \"x\" }} {{ not true }}", "0 x false"),
        ('{{ index .CommonLabels "job" }}', "api"),
        ('{{ define "t" }}[{{ . }}]{{ end }}{{ template "t" .Status }}', "[firing]"),
        ("{{ humanizeDuration 3725 }}", "1h 2m 5s"),
        ("{{ 1e6 }} {{ 0.5 }} {{ 123456.0 }}", "1e+06 0.5 123456"),
        ("{{ (index .Alerts 0).Labels.sev }}", "crit"),
    ],
)
def test_render(data: Any, src: str, want: str) -> None:
    assert TemplateSet().render(src, data) == want


@pytest.mark.parametrize(
    ("src", "problem"),
    [
        ("{{ nosuchfunc . }}", 'function "nosuchfunc" not defined'),
        ("{{ if . }}x", "unexpected EOF"),
        ("{{ end }}", "unexpected {{end}}"),
        ("line1\n{{ .A ", "unclosed action"),
        ('{{ template "missing" . }}', 'no such template "missing"'),
    ],
)
def test_errors(data: Any, src: str, problem: str) -> None:
    with pytest.raises(NotifyTemplateError, match=problem):
        TemplateSet().render(src, data)


def test_error_names_template_and_line(tmp_path: Any) -> None:
    path = tmp_path / "bad.tmpl"
    path.write_text('{{ define "x" }}\nok\n{{ bogus }}\n{{ end }}')
    with pytest.raises(NotifyTemplateError, match=r"template: bad.tmpl:3: function \"bogus\""):
        TemplateSet.from_globs([str(tmp_path / "*.tmpl")])


def test_custom_functions_for_other_stages() -> None:
    tset = TemplateSet(funcs={"humanize": lambda v: f"{float(v) / 1000:g}k"})
    assert tset.render("{{ $value := 1500 }}{{ humanize $value }}", {}) == "1.5k"


@pytest.mark.parametrize(
    ("value", "want"),
    [(1.0, "1"), (0.1, "0.1"), (1e21, "1e+21"), (123456789.0, "1.23456789e+08"),
     (0.0001, "0.0001"), (0.00001, "1e-05"), (-2.5, "-2.5"), (float("inf"), "+Inf")],
)
def test_go_float(value: float, want: str) -> None:
    assert go_float(value) == want


def test_html_mode_escapes_values_not_text_or_safehtml(data: Any) -> None:
    tset = TemplateSet()
    src = '<b>{{ "a<b & \'c\'" }}</b>{{ safeHtml "<i>ok</i>" }}{{ template "x" . }}' \
          '{{ define "x" }}{{ "+" }}{{ end }}'
    assert tset.render(src, data, html=True) == "<b>a&lt;b &amp; &#39;c&#39;</b><i>ok</i>&#43;"
    assert tset.render(src, data) == "<b>a<b & 'c'</b><i>ok</i>+"


def test_reuse_contract_for_rule_templates() -> None:
    """How the rules stage will use the engine: Prometheus prepends variable definitions
    and adds its own functions; an unknown function fails at parse time."""
    defs = "{{ $labels := .Labels }}{{ $value := .Value }}{{ $externalLabels := .External }}"
    tset = TemplateSet(funcs={"humanizePercentage": lambda v: f"{float(v) * 100:.3g}%"})
    text = defs + ("{{ $labels.job }} at {{ $value | humanizePercentage }} "
                   "({{ $externalLabels.dc }})")
    data = {"Labels": {"job": "api"}, "Value": 0.0712, "External": {"dc": "eu1"}}
    assert tset.render(text, data) == "api at 7.12% (eu1)"
    with pytest.raises(NotifyTemplateError, match='function "humanize" not defined'):
        TemplateSet().parse(defs + "{{ $value | humanize }}")
