"""Engine behaviour not covered by the corpus: API, limits, staleness, extrapolation."""

from __future__ import annotations

import math

import pytest

from watchkeeper.exceptions import PromQLExecutionError
from watchkeeper.promql import Engine
from watchkeeper.tsdb import STALE_NAN, TSDB, make_labels


@pytest.fixture
def db() -> TSDB:
    db = TSDB()
    app = db.appender()
    for i in range(41):  # 10 minutes at 15 s
        app.append(make_labels({"__name__": "req_total", "job": "a"}), i * 15_000, i * 10.0)
        app.append(make_labels({"__name__": "req_total", "job": "b"}), i * 15_000, i * 20.0)
    app.append(make_labels({"__name__": "gone"}), 0, 1.0)
    app.append(make_labels({"__name__": "gone"}), 15_000, STALE_NAN)
    app.commit()
    return db


def test_instant_rate_matches_prometheus_extrapolation(db: TSDB) -> None:
    res = Engine(db).instant("rate(req_total[1m])", 600)
    assert res.type == "vector"
    got = {s.labels["job"]: s.v for s in res.vector}
    assert got == pytest.approx({"a": 10 / 15, "b": 20 / 15})


def test_range_query_returns_matrix(db: TSDB) -> None:
    res = Engine(db).range("sum(req_total)", 0, 600, 60)
    assert res.type == "matrix"
    assert [v for _, v in res.matrix[0].points][:3] == [0.0, 120.0, 240.0]


def test_staleness_marker_ends_series_before_lookback(db: TSDB) -> None:
    e = Engine(db)
    assert e.instant("gone", 10).vector
    assert not e.instant("gone", 20).vector


def test_scalar_and_string_results(db: TSDB) -> None:
    e = Engine(db)
    assert e.instant("1 + 2", 0).scalar == (0, 3.0)
    assert e.instant('"hi"', 0).string == (0, "hi")
    assert math.isnan(e.instant("scalar(req_total)", 0).scalar[1])  # type: ignore[index]


def test_max_samples_limit(db: TSDB) -> None:
    with pytest.raises(PromQLExecutionError, match="too many samples"):
        Engine(db, max_samples=10).range("req_total", 0, 600, 15)


def test_experimental_functions_need_flag(db: TSDB) -> None:
    from watchkeeper.exceptions import PromQLParseError

    with pytest.raises(PromQLParseError):
        Engine(db).instant("limitk(1, req_total)", 600)
    assert len(Engine(db, experimental=True).instant("limitk(1, req_total)", 600).vector) == 1


def test_duplicate_labelset_error(db: TSDB) -> None:
    with pytest.raises(PromQLExecutionError, match="same labelset"):
        Engine(db).instant('label_replace(req_total, "job", "x", "", "")', 600)


def test_xxh64_reference_vectors() -> None:
    from watchkeeper.promql._xxhash import xxh64

    assert xxh64(b"") == 0xEF46DB3751D8E999
    assert xxh64(b"abc") == 0x44BC2CF5AD770999
    assert xxh64(b"Nobody inspects the spammish repetition") == 0xFBCEA83C8A378BF1


@pytest.mark.parametrize("query", [
    "req_total[5m] anchored",
    "increase(req_total[5m] smoothed)",
    "req_total smoothed",
    "req_total + fill(0) req_total",
    "req_total offset step()",
    "mad_over_time(req_total[5m])",
])
def test_experimental_features_are_gated(db: TSDB, query: str) -> None:
    from watchkeeper.exceptions import PromQLParseError

    with pytest.raises(PromQLParseError, match="experimental"):
        Engine(db).instant(query, 600)
    Engine(db, experimental=True).instant(query, 600)


@pytest.mark.parametrize("query", [
    "floor(req_total / 0 - req_total / 0)", "ln(-req_total)", "sqrt(-req_total)",
    "stddev(req_total * Inf)", "acosh(req_total - 10)", "req_total % 0",
])
def test_ieee_edge_values_do_not_warn(db: TSDB, query: str) -> None:
    Engine(db).range(query, 0, 600, 60)  # warnings are errors in this suite


def _delta_db() -> TSDB:
    """A delta counter (each sample's ST is the previous sample's time), OTel style."""
    db = TSDB()
    app = db.appender()
    for i in range(2, 17):
        app.append(make_labels({"__name__": "delta_total"}), i * 60_000, 60.0,
                   st=(i - 1) * 60_000)
    app.commit()
    return db


def test_start_timestamps_are_opt_in() -> None:
    db = _delta_db()
    # Without the feature a delta series looks constant: no increase at all.
    assert [s.v for s in Engine(db).instant("increase(delta_total[5m])", 600).vector] == [0.0]
    eng = Engine(db, experimental=True, start_timestamps=True)
    assert [s.v for s in eng.instant("increase(delta_total[5m])", 600).vector] == [300.0]
    assert [s.v for s in eng.instant("irate(delta_total[5m])", 600).vector] == [1.0]
    assert [s.v for s in eng.instant("resets(delta_total[5m])", 600).vector] == [4.0]
    assert [s.v for s in eng.instant("start_timestamp(delta_total)", 600).vector] == [540.0]
    assert eng.instant("start_timestamp(delta_total * 1)", 600).vector == []


def test_start_time_overlap_is_a_positioned_warning() -> None:
    db = TSDB()
    app = db.appender()
    for i, v in enumerate([60.0, 120.0, 180.0], start=2):
        app.append(make_labels({"__name__": "c_total"}), i * 60_000, v, st=i * 60_000 - 120_000)
    app.commit()
    res = Engine(db, start_timestamps=True).instant("rate(c_total[3m])", 240)
    assert res.warnings == ['PromQL warning: sample has start time that overlaps with previous '
                            'sample timestamp for metric "c_total" (1:6)']
    assert Engine(db).instant("rate(c_total[3m])", 240).warnings == []
