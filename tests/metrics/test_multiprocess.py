"""Combining worker shards, in one process: two registries stand in for two workers."""

from __future__ import annotations

from pathlib import Path

from tests._servers import samples, value
from watchkeeper.metrics import Registry, render_text
from watchkeeper.metrics._multiprocess import ShardReader
from watchkeeper.metrics._values import ShardStore


def _worker(directory: Path, name: str) -> tuple[Registry, ShardStore]:
    registry = Registry()
    store = ShardStore(str(directory), name)
    registry.bind_store(store, keep_values=True)
    return registry, store


def _scrape(directory: Path) -> str:
    return render_text(ShardReader(str(directory)).snapshot())


def test_counters_and_histograms_sum_and_gauges_follow_their_mode(tmp_path: Path) -> None:
    (a, _), (b, store_b) = _worker(tmp_path, "101-a"), _worker(tmp_path, "102-b")
    for registry, n in ((a, 3), (b, 4)):
        registry.counter("jobs_total", "J.", ("queue",)).labels("q").inc(n)
        registry.histogram("job_seconds", "J.", buckets=[1.0]).observe(n / 10)
        registry.gauge("busy", "B.").set(n)
        registry.gauge("peak", "P.", mode="max").set(n)
        registry.gauge("floor", "F.", mode="min").set(n)
        registry.gauge("rss", "R.", mode="per_worker").set(n * 100)
    text = _scrape(tmp_path)
    assert value(text, "jobs_total", queue="q") == 7
    assert value(text, "job_seconds_count") == 2
    assert value(text, "busy") == 7
    assert value(text, "peak") == 4
    assert value(text, "floor") == 3
    assert {dict(k)["pid"]: v for k, v in samples(text, "rss").items()} == {
        "101": 300, "102": 400}

    store_b.detach()  # worker b dies: its lock goes with its descriptors
    text = _scrape(tmp_path)
    assert value(text, "jobs_total", queue="q") == 7  # its counts still count
    assert value(text, "busy") == 3  # its gauges are gone
    assert {dict(k)["pid"] for k in samples(text, "rss")} == {"101"}


def test_series_created_later_and_removed_series(tmp_path: Path) -> None:
    a, _ = _worker(tmp_path, "201-a")
    reader = ShardReader(str(tmp_path))
    gauge = a.gauge("pool", "P.", ("pool_name",))
    gauge.labels("x").set(1)
    assert value(render_text(reader.snapshot()), "pool", pool_name="x") == 1
    gauge.labels("y").set(2)  # appended after the reader cached the key file
    gauge.remove("x")
    text = render_text(reader.snapshot())
    assert value(text, "pool", pool_name="y") == 2
    assert value(text, "pool", pool_name="x") is None


def test_torn_and_garbage_key_records_are_skipped(tmp_path: Path) -> None:
    a, _ = _worker(tmp_path, "301-a")
    a.counter("ok_total", "O.").inc(5)
    (tmp_path / "302-x.keys").write_bytes(b'{"family":"zz","type":"counter","labels":[]}\n'
                                          b'not json\n{"s":0,"n":1,"f":"zz","v":[]}\n{"s":9')
    (tmp_path / "302-x.values").write_bytes(b"\x01\x02\x03")
    text = _scrape(tmp_path)
    assert value(text, "ok_total") == 5


def test_sweep_removes_only_old_directories_without_live_workers(tmp_path: Path) -> None:
    import os
    import time

    from watchkeeper.metrics._multiprocess import sweep_stale

    old_dead, old_live, recent_dead, ours = (tmp_path / n for n in ("1-1", "2-2", "3-3", "4-4"))
    for directory in (old_dead, old_live, recent_dead, ours):
        directory.mkdir()
    (old_dead / "9-x.keys").write_bytes(b"")
    (recent_dead / "9-y.keys").write_bytes(b"")
    _, live_store = _worker(old_live, "10-z")
    two_hours_ago = time.time() - 7200
    for path in (old_dead, old_dead / "9-x.keys", old_live, *old_live.iterdir()):
        os.utime(path, (two_hours_ago, two_hours_ago))
    removed = sweep_stale(str(tmp_path), keep=str(ours))
    assert removed == [str(old_dead)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2-2", "3-3", "4-4"]
    live_store.detach()
