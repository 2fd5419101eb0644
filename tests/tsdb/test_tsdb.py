"""Unit tests of the metric history store: index, matchers, order rules, persistence."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from watchkeeper import tsdb
from watchkeeper.exceptions import (
    DuplicateSampleError,
    InvalidMatcherError,
    OutOfOrderSampleError,
)
from watchkeeper.tsdb import STALE_NAN, TSDB, Matcher, is_stale_nan, make_labels, stale_mask


def _lb(**kw: str) -> tsdb.Labels:
    return make_labels(kw)


def test_public_api_is_pinned() -> None:
    assert set(tsdb.__all__) == {
        "STALE_NAN", "STALE_NAN_BITS", "TSDB", "Appender", "Block", "FsyncPolicy",
        "HeadAppender", "Labels", "MatchType", "Matcher", "Querier", "SeriesData", "Stats",
        "Storage", "format_labels", "is_stale_nan", "make_labels", "stale_mask",
    }


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("=", "a", {"a"}),
        ("!=", "a", {"b", "ab", ""}),
        ("=~", "a.*", {"a", "ab"}),
        ("=~", "b|", {"b", ""}),
        ("!~", "a.*", {"b", ""}),
        ("=~", "(?i)A", {"a"}),
    ],
)
def test_matchers_are_anchored_and_handle_missing_labels(op: str, value: str,
                                                          expected: set[str]) -> None:
    db = TSDB()
    app = db.appender()
    for v in ["a", "b", "ab"]:
        app.append(_lb(__name__="m", x=v), 0, 1.0)
    app.append(_lb(__name__="m"), 0, 1.0)
    app.commit()
    got = {dict(s.labels).get("x", "") for s in db.select(
        [Matcher.parse_op("=", "__name__", "m"), Matcher.parse_op(op, "x", value)], 0, 10)}
    assert got == expected


@pytest.mark.parametrize("rx", ["(?=a)", "(?!a)", "(?<=a)b", "(a)\\1", "a++", "(?>a)"])
def test_regexes_re2_rejects_are_rejected(rx: str) -> None:
    with pytest.raises(InvalidMatcherError):
        Matcher.parse_op("=~", "x", rx)


def test_re2_syntax_translated() -> None:
    assert Matcher.parse_op("=~", "x", ".*((?i)DUC).*").matches("production")
    assert Matcher.parse_op("=~", "x", "[[:digit:]]+").matches("123")
    assert Matcher.parse_op("=~", "x", "a.b").matches("a\nb")  # (?s) like Prometheus


def test_out_of_order_and_duplicates_are_counted() -> None:
    db = TSDB()
    app = db.appender()
    app.append(_lb(__name__="m"), 1000, 1.0)
    app.commit()
    app = db.appender()
    with pytest.raises(OutOfOrderSampleError):
        app.append(_lb(__name__="m"), 999, 1.0)
    with pytest.raises(DuplicateSampleError):
        app.append(_lb(__name__="m"), 1000, 2.0)
    app.append(_lb(__name__="m"), 1000, 1.0)  # same value: silently ignored
    app.commit()
    assert db.stats.out_of_order_rejected == 1
    assert db.stats.duplicate_rejected == 1
    assert db.head_samples() == 1


def test_stale_marker_is_bit_exact() -> None:
    assert is_stale_nan(STALE_NAN)
    assert not is_stale_nan(math.nan)
    db = TSDB()
    app = db.appender()
    app.append(_lb(__name__="m"), 0, 1.0)
    app.append(_lb(__name__="m"), 1, STALE_NAN)
    app.append(_lb(__name__="m"), 2, math.nan)
    app.commit()
    vals = db.select([Matcher.parse_op("=", "__name__", "m")], 0, 10)[0].values
    assert stale_mask(vals).tolist() == [False, True, False]


def test_restart_replays_wal_and_blocks(tmp_path: Path) -> None:
    db = TSDB(tmp_path, block_range_ms=60_000)
    app = db.appender()
    for i in range(1000):
        app.append(_lb(__name__="m", job="a"), i * 1000, float(i))
    app.commit()
    # The head spanned more than 1.5 block ranges: the commit cut blocks by itself.
    assert db.blocks()
    assert db.head_samples() < 1000
    app = db.appender()
    app.append(_lb(__name__="m", job="a"), 1_000_000, 5.0)
    app.commit()
    db.close()
    db2 = TSDB(tmp_path)
    sd = db2.select([Matcher.parse_op("=", "job", "a")], 0, 10**9)
    assert len(sd) == 1
    assert len(sd[0].timestamps) == 1001
    assert sd[0].values[-1] == 5.0
    assert np.all(np.diff(sd[0].timestamps) > 0)
    assert db2.label_values("job") == ["a"]
    db2.close()


def test_torn_wal_tail_is_cut(tmp_path: Path) -> None:
    db = TSDB(tmp_path)
    app = db.appender()
    app.append(_lb(__name__="m"), 0, 1.0)
    app.commit()
    db.close()
    with open(tmp_path / "wal", "ab") as fh:
        fh.write(b"\x02\xff\xff\x00")
    with TSDB(tmp_path) as db2:
        assert db2.head_samples() == 1


def test_retention_by_time_and_size(tmp_path: Path) -> None:
    db = TSDB(tmp_path, retention_ms=10_000, block_range_ms=1000)
    app = db.appender()
    for i in range(100):
        app.append(_lb(__name__="m"), i * 1000, float(i))
    app.commit()
    db.compact()
    db.apply_retention()
    sd = db.select([Matcher.parse_op("=", "__name__", "m")], 0, 10**9)[0]
    assert sd.timestamps[0] >= 89_000
    db.retention_bytes = 1
    db.apply_retention()
    assert db.blocks() == []
    db.close()


def test_blocks_compress_regular_data(tmp_path: Path) -> None:
    db = TSDB(tmp_path)
    app = db.appender()
    rng = np.random.default_rng(1)
    for s in range(50):
        v = 0.0
        for i in range(480):
            v += float(rng.integers(0, 10))
            app.append(_lb(__name__="m", s=str(s)), i * 15_000, v)
    app.commit()
    path = db.compact(all_data=True)
    assert path is not None
    size = sum(f.stat().st_size for f in path.iterdir())
    db.close()
    assert size / (50 * 480) < 4.0


def test_rollback_restores_the_order_guard() -> None:
    db = TSDB()
    app = db.appender()
    app.append(_lb(__name__="m"), 1000, 1.0)
    app.commit()
    app = db.appender()
    app.append(_lb(__name__="m"), 5000, 5.0)
    app.append(_lb(__name__="new"), 5000, 5.0)
    app.rollback()
    app = db.appender()
    app.append(_lb(__name__="m"), 2000, 2.0)  # accepted: the 5000 sample never happened
    app.commit()
    sd = db.select([Matcher.parse_op("=~", "__name__", ".+")], 0, 10**9)
    assert [(d.labels, d.timestamps.tolist()) for d in sd] == [(_lb(__name__="m"),
                                                                [1000, 2000])]
    assert db.label_values("__name__") == ["m"]


def test_racing_appenders_keep_series_ordered() -> None:
    db = TSDB()
    a, b = db.appender(), db.appender()
    a.append(_lb(__name__="m"), 2000, 2.0)
    b.append(_lb(__name__="m"), 3000, 3.0)  # checked against a's pending 2000
    b.commit()
    a.commit()  # too late: 2000 is now older than the series; counted, as at commit upstream
    sd = db.select([Matcher.parse_op("=", "__name__", "m")], 0, 10**9)
    assert sd[0].timestamps.tolist() == [3000]
    assert db.stats.out_of_order_rejected == 1
    c, d = db.appender(), db.appender()
    c.append(_lb(__name__="x"), 1000, 1.0)
    d.append(_lb(__name__="x"), 1000, 1.0)  # both create the same new series
    c.commit()
    d.commit()
    sd = db.select([Matcher.parse_op("=", "__name__", "x")], 0, 10**9)
    assert len(sd) == 1
    assert sd[0].timestamps.tolist() == [1000]


def test_many_scrapes_are_sealed_into_series_in_order() -> None:
    db = TSDB()
    labels = [_lb(__name__="m", i=str(i)) for i in range(50)]
    for k in range(300):
        app = db.appender()
        for j, lb in enumerate(labels):
            app.append(lb, k * 1000, float(k * j))
        app.commit()
        if k == 150:
            db.select([Matcher.parse_op("=", "i", "3")], 0, 10**9)  # seals mid-way
    sd = db.select([Matcher.parse_op("=", "i", "7")], 0, 10**9)[0]
    assert sd.timestamps.tolist() == [k * 1000 for k in range(300)]
    assert sd.values.tolist() == [float(k * 7) for k in range(300)]
    assert db.head_samples() == 50 * 300


def test_start_timestamps_survive_wal_replay_and_blocks(tmp_path: Path) -> None:
    db = TSDB(tmp_path)
    app = db.appender()
    app.append(_lb(__name__="plain"), 1000, 1.0)
    for i in range(1, 6):
        app.append(_lb(__name__="delta"), i * 60_000, 60.0, st=(i - 1) * 60_000 if i > 1 else 0)
    app.commit()
    db.close()
    expected = [0, 60_000, 120_000, 180_000, 240_000]
    with TSDB(tmp_path) as db2:
        by_name = {d.labels[0][1]: d for d in
                   db2.select([Matcher.parse_op("=~", "__name__", ".+")], 0, 10**9)}
        assert by_name["plain"].start_timestamps is None
        sts = by_name["delta"].start_timestamps
        assert sts is not None
        assert sts.tolist() == expected
        db2.compact(all_data=True)
        assert db2.head_samples() == 0
        sd = db2.select([Matcher.parse_op("=", "__name__", "delta")], 0, 10**9)[0]
        assert sd.start_timestamps is not None
        assert sd.start_timestamps.tolist() == expected
