"""Scrape semantics: target labels, exported_ clashes, report series, staleness, failures."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.exceptions import ScrapeError
from watchkeeper.scrape import Scraper, parse_exposition
from watchkeeper.tsdb import TSDB, Matcher, MatchType, is_stale_nan, make_labels

TARGET = {"job": "shop", "instance": "host-1"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _latest(db: TSDB, labels: dict[str, str]) -> list[tuple[int, float]]:
    wanted = make_labels(labels)
    matcher = Matcher(MatchType.EQUAL, "__name__", labels["__name__"])
    for series in db.select([matcher], 0, 1 << 62):
        if series.labels == wanted:
            return list(zip(series.timestamps.tolist(), series.values.tolist(), strict=True))
    return []


def _scraper(text: list[str], clock: Clock) -> tuple[TSDB, Scraper]:
    db = TSDB()

    def fetch() -> str:
        if text[0] == "FAIL":
            raise ConnectionError("refused")
        return text[0]

    return db, Scraper(db, fetch, TARGET, clock=clock)


def test_samples_get_target_labels_and_clashing_labels_become_exported() -> None:
    clock = Clock()
    db, scraper = _scraper(['jobs_total{job="resize",kind="img"} 3\n'], clock)
    result = scraper.scrape()
    assert result.up
    assert result.samples == 1
    stored = _latest(db, {"__name__": "jobs_total", "exported_job": "resize", "kind": "img",
                          **TARGET})
    assert stored == [(1_000_000, 3.0)]


def test_report_series_are_written_every_scrape() -> None:
    clock = Clock()
    db, scraper = _scraper(["a 1\nb 2\n"], clock)
    scraper.scrape()
    assert _latest(db, {"__name__": "up", **TARGET}) == [(1_000_000, 1.0)]
    assert _latest(db, {"__name__": "scrape_samples_scraped", **TARGET}) == [(1_000_000, 2.0)]
    assert _latest(db, {"__name__": "scrape_series_added", **TARGET}) == [(1_000_000, 2.0)]
    clock.now += 15
    scraper.scrape()
    assert _latest(db, {"__name__": "scrape_series_added", **TARGET})[-1] == (1_015_000, 0.0)


def test_vanished_series_get_a_staleness_marker_once() -> None:
    clock = Clock()
    text = ["a 1\nb 2\n"]
    db, scraper = _scraper(text, clock)
    scraper.scrape()
    text[0] = "a 1\n"
    clock.now += 15
    assert scraper.scrape().stale == 1
    clock.now += 15
    assert scraper.scrape().stale == 0
    points = _latest(db, {"__name__": "b", **TARGET})
    assert len(points) == 2
    assert points[1][0] == 1_015_000
    assert is_stale_nan(points[1][1])


def test_a_failed_scrape_is_up_0_and_marks_every_series_stale() -> None:
    clock = Clock()
    text = ["a 1\nb 2\n"]
    db, scraper = _scraper(text, clock)
    scraper.scrape()
    text[0] = "FAIL"
    clock.now += 15
    result = scraper.scrape()
    assert not result.up
    assert "refused" in result.error
    assert result.stale == 2
    assert _latest(db, {"__name__": "up", **TARGET})[-1] == (1_015_000, 0.0)
    assert is_stale_nan(_latest(db, {"__name__": "a", **TARGET})[-1][1])


def test_an_unparsable_exposition_is_a_failed_scrape_naming_the_problem() -> None:
    clock = Clock()
    _db, scraper = _scraper(["a{ 1\n"], clock)
    result = scraper.scrape()
    assert not result.up
    assert "ScrapeError" in result.error


def test_parse_exposition_reads_openmetrics_with_created_and_exemplars() -> None:
    text = ("# TYPE req counter\n"
            'req_total{a="x"} 4 # {trace_id="ab"} 1.0\n'
            'req_created{a="x"} 1700000000.0\n'
            "# EOF\n")
    samples = parse_exposition(text)
    assert [(s.name, s.labels, s.value) for s in samples] == [
        ("req_total", {"a": "x"}, 4.0), ("req_created", {"a": "x"}, 1.7e9)]


def test_parse_exposition_error_names_the_problem() -> None:
    with pytest.raises(ScrapeError, match=r"line 2: invalid label pair at 'a='"):
        parse_exposition("# TYPE x counter\nx_total{a=} 1\n# EOF\n")
    with pytest.raises(ScrapeError, match=r"line 1: invalid value 'one'"):
        parse_exposition("x_total one\n")
    with pytest.raises(ScrapeError, match=r"line 1: expected a value"):
        parse_exposition('x_total{a="1"}\n')
    with pytest.raises(ScrapeError, match=r"duplicate label 'a'"):
        parse_exposition('x{a="1",a="2"} 1\n')


def test_timestamps_are_milliseconds_in_text_and_seconds_in_openmetrics() -> None:
    text = parse_exposition('a{b="c d"} 1 1700000000123\n')
    assert text[0].timestamp == pytest.approx(1_700_000_000.123)
    om = parse_exposition("a 1 1700000000.5\n# EOF\n")
    assert om[0].timestamp == pytest.approx(1_700_000_000.5)


_metric_name = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,10}", fullmatch=True)


@given(rows=st.lists(st.tuples(st.dictionaries(_metric_name, st.text(max_size=12), max_size=3),
                               st.floats(allow_nan=False)), min_size=1, max_size=5))
def test_agrees_with_the_reference_text_parser(
        rows: list[tuple[dict[str, str], float]]) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    def esc(v: str) -> str:
        return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')

    lines = []
    for i, (labels, value) in enumerate(rows):
        body = ",".join(f'{k}="{esc(v)}"' for k, v in labels.items())
        lines.append(f"m{i}{{{body}}} {value!r}")
    text = "\n".join(lines) + "\n"
    ours = [(s.name, s.labels, s.value) for s in parse_exposition(text)]
    theirs = [(s.name, dict(s.labels), s.value)
              for f in text_string_to_metric_families(text) for s in f.samples]
    assert ours == theirs


_label_value = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
                       max_size=20)


@given(values=st.lists(_label_value, min_size=1, max_size=5, unique=True),
       number=st.floats(allow_nan=False))
def test_label_values_survive_escaping(values: list[str], number: float) -> None:
    from watchkeeper.metrics import Registry
    from watchkeeper.metrics._endpoint import render_registry

    registry = Registry()
    gauge = registry.gauge("g", "help", ("v",))
    for value in values:
        gauge.labels(value).set(number)
    for openmetrics in (False, True):
        samples = parse_exposition(render_registry(registry, openmetrics=openmetrics))
        got = {s.labels["v"]: s.value for s in samples if s.name == "g"}
        assert set(got) == set(values)
        assert all(math.isclose(v, number) or v == number for v in got.values())
