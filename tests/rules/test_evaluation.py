"""Rule evaluation semantics: states, keep_firing_for, write-back, staleness, limits, offsets."""

from __future__ import annotations

import math

import pytest

from watchkeeper.exceptions import RuleTemplateError
from watchkeeper.promql import Engine
from watchkeeper.rules import AlertState, Rule, RuleGroup
from watchkeeper.rules._group import GroupEvaluator
from watchkeeper.rules._query import engine_query_func
from watchkeeper.rules._templates import check_template, expand
from watchkeeper.tsdb import TSDB, is_stale_nan, make_labels


def _db(series: dict[str, list[float | None]], step: float = 60.0) -> TSDB:
    db = TSDB()
    app = db.appender()
    for text, values in series.items():
        name, _, rest = text.partition("{")
        labels = {"__name__": name}
        for pair in filter(None, rest.rstrip("}").split(",")):
            k, _, v = pair.partition("=")
            labels[k] = v.strip('"')
        for i, v in enumerate(values):
            if v is not None:
                app.append(make_labels(labels), round(i * step * 1000), v)
    app.commit()
    return db


def _group(*rules: Rule, **kw: object) -> RuleGroup:
    return RuleGroup("g", "f.yml", tuple(rules), **kw)  # type: ignore[arg-type]


def _values(db: TSDB, expr: str, t: float) -> dict[tuple[tuple[str, str], ...], float]:
    res = Engine(db).instant(expr, t)
    return {tuple(sorted(s.labels.items())): s.v for s in res.vector}


def test_pending_then_firing_then_resolved_with_keep_firing_for() -> None:
    db = _db({'x{i="1"}': [1, 1, 1, 0, 0, 0, 0, 0]})
    ev = GroupEvaluator(_group(Rule("alert", "X", "x > 0", for_=60, keep_firing_for=120)),
                        interval=60)
    query = engine_query_func(Engine(db))
    seen = []
    for m in range(8):
        ev.evaluate(m * 60.0, query, db)
        rule = ev.alerting_rules()[0]
        seen.append(str(rule.state()))
    # pending at 0m, firing at 1m (for 1m); expression false from 3m; kept firing for 2m
    assert seen == ["pending", "firing", "firing", "firing", "firing", "inactive",
                    "inactive", "inactive"]
    [alert] = rule.active.values()
    assert (alert.active_at, alert.fired_at, alert.resolved_at) == (0.0, 60.0, 300.0)


def test_alerts_series_written_and_marked_stale() -> None:
    db = _db({'x{i="1"}': [1, 1, 0, 0]})
    ev = GroupEvaluator(_group(Rule("alert", "X", "x > 0", labels={"sev": "page"})),
                        interval=60, external_labels={"env": "prod"})
    query = engine_query_func(Engine(db))
    for m in range(4):
        ev.evaluate(m * 60.0, query, db)
    alerts = _values(db, "ALERTS", 60)
    assert alerts == {(("__name__", "ALERTS"), ("alertname", "X"), ("alertstate", "firing"),
                       ("i", "1"), ("sev", "page")): 1.0}
    for_state = _values(db, "ALERTS_FOR_STATE", 60)
    assert list(for_state.values()) == [0.0]
    assert _values(db, "ALERTS", 120) == {}  # a stale marker ends the series at once


def test_recording_rule_writes_back_with_group_and_rule_labels() -> None:
    db = _db({'x{i="1"}': [1, 2], 'x{i="2"}': [3, 4]})
    ev = GroupEvaluator(_group(Rule("record", "x:sum", "sum(x)", labels={"team": "a"}),
                               labels={"team": "g", "region": "eu"}), interval=60)
    query = engine_query_func(Engine(db))
    ev.evaluate(60.0, query, db)
    assert _values(db, "x:sum", 60) == {(("__name__", "x:sum"), ("region", "eu"),
                                         ("team", "a")): 6.0}


def test_recording_rule_stale_marker_when_series_vanishes() -> None:
    db = _db({'x{i="1"}': [1, None, None, None, None, None, None, None]})
    ev = GroupEvaluator(_group(Rule("record", "y", "x")), interval=60)
    query = engine_query_func(Engine(db))
    for m in range(7):
        ev.evaluate(m * 60.0, query, db)
    from watchkeeper.tsdb import Matcher, MatchType

    [series] = db.select([Matcher(MatchType.EQUAL, "__name__", "y")], 0, 10**9)
    values = [float(v) for v in series.values]
    assert values[:5] == [1.0] * 5
    assert is_stale_nan(values[5])


def test_duplicate_output_series_is_an_error_like_prometheus() -> None:
    db = _db({"a": [1], "b": [2]})
    ev = GroupEvaluator(_group(Rule("record", "r", '{__name__=~"a|b"}'),
                               Rule("alert", "A", '{__name__=~"a|b"}')), interval=60)
    ev.evaluate(0.0, engine_query_func(Engine(db)), db)
    rec, alert = ev.rules
    assert str(rec.last_error) == ("vector contains metrics with the same labelset after "
                                   "applying rule labels")
    assert str(alert.last_error) == ("vector contains metrics with the same labelset after "
                                     "applying alert labels")


def test_group_limit() -> None:
    db = _db({'x{i="1"}': [1], 'x{i="2"}': [1], 'x{i="3"}': [1]})
    ev = GroupEvaluator(_group(Rule("record", "r", "x"), Rule("alert", "A", "x"), limit=2),
                        interval=60)
    ev.evaluate(0.0, engine_query_func(Engine(db)), db)
    assert [str(r.last_error) for r in ev.rules] == ["exceeded limit of 2 with 3 series",
                                                     "exceeded limit of 2 with 3 alerts"]
    assert ev.alerting_rules()[0].active == {}


def test_query_offset_shifts_query_and_sample_time() -> None:
    db = _db({"x": [1, 2, 3]})
    ev = GroupEvaluator(_group(Rule("record", "y", "x"), query_offset=60.0), interval=60)
    ev.evaluate(120.0, engine_query_func(Engine(db)), db)
    res = Engine(db).instant("timestamp(y)", 120)
    assert [(s.v) for s in res.vector] == [60.0]
    assert _values(db, "y", 60) == {(("__name__", "y"),): 2.0}


@pytest.mark.parametrize(("template", "value", "want"), [
    ("{{ $value | humanize }}", 1234567.0, "1.235M"),
    ("{{ $value | humanize }}", 0.00123, "1.23m"),
    ("{{ $value | humanize }}", 0.0, "0"),
    ("{{ $value | humanize1024 }}", 1048576.0, "1Mi"),
    ("{{ $value | humanizeDuration }}", 3661.0, "1h 1m 1s"),
    ("{{ $value | humanizeDuration }}", 0.1234, "123.4ms"),
    ("{{ $value | humanizeDuration }}", 90061.0, "1d 1h 1m 1s"),
    ("{{ $value | humanizePercentage }}", 0.1234, "12.34%"),
    ("{{ $value | humanizeTimestamp }}", 1435065584.128, "2015-06-23 13:19:44.128 +0000 UTC"),
    ("{{ $value | humanize }}", math.inf, "+Inf"),
    ("{{ $value }}", 0.1, "0.1"),
    ("{{ $labels.job | toUpper }} {{ $externalLabels.env }}", 1.0, "API prod"),
    ('{{ reReplaceAll "(a+)" "<$1>" "xaay" }}', 1.0, "x<aa>y"),
    ('{{ printf "%.1f" $value }}', 2.25, "2.2"),
    ('{{ "1m30s" | parseDuration }}', 1.0, "90"),
    ("{{ title \"hello world\" }}", 1.0, "Hello World"),
    ('{{ $x := args 1 "b" }}{{ $x.arg1 }}', 1.0, "b"),
    ("{{ externalURL }}{{ pathPrefix }}", 1.0, "http://h:9/p/p"),
    ('{{ with query "vector(3)" }}{{ . | first | value }}{{ end }}', 1.0, "3"),
    ('{{ range query "vector(3)" }}{{ .Value }}{{ end }}', 1.0, "3"),
    ("{{ 1.5 | toTime }}", 1.0, "1970-01-01 00:00:01.5 +0000 UTC"),
    ("{{ first 1 }}", 1.0, "<error expanding template: "),
    ('{{ define "x" }}hi {{ . }}{{ end }}{{ tmpl "x" 3 }}', 1.0, "hi 3"),
    ('{{ range query "label_replace(vector(1), \\"a\\", \\"z\\", \\"\\", \\"\\")" }}'
     '{{ label "a" . }}{{ end }}', 1.0, "z"),
    ('{{ range sortByLabel "a" (query "label_replace(vector(1), \\"a\\", \\"z\\", \\"\\", '
     '\\"\\") or label_replace(vector(2), \\"a\\", \\"b\\", \\"\\", \\"\\")") }}'
     "{{ .Value }}{{ end }}", 1.0, "21"),
    ('{{ if match "^a" $labels.job }}yes{{ else }}no{{ end }} {{ "X" | toLower }}', 1.0, "yes x"),
    ('{{ "<b>" | safeHtml }}', 1.0, "<b>"),
    ("{{ 512 | humanize1024 }}", 1.0, "512"),
    ('{{ graphLink "up" }}', 1.0, "/graph?g0.expr=up&g0.tab=0"),
])
def test_prometheus_template_functions(template: str, value: float, want: str) -> None:
    db = TSDB()
    query = engine_query_func(Engine(db))
    from watchkeeper.rules._templates import QuerySample

    def tquery(expr: str, t: float) -> list[QuerySample]:
        return [QuerySample(s.labels, s.v) for s in query(expr, t)]

    got = expand(template, "__alert_X", labels={"job": "api"}, value=value,
                 external_labels={"env": "prod"}, external_url="http://h:9/p", query=tquery)
    assert got.startswith(want) if want.endswith(": ") else got == want


def test_unknown_template_function_fails_at_load() -> None:
    with pytest.raises(RuleTemplateError, match='function "humanise" not defined'):
        check_template("{{ $value | humanise }}", "__alert_X")


def test_alert_state_order() -> None:
    assert AlertState.FIRING > AlertState.PENDING > AlertState.INACTIVE
