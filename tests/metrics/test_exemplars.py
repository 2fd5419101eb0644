"""Exemplar slots: the encoding, and combining several workers' slots at scrape time."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from watchkeeper.metrics import Registry, render_openmetrics, render_text
from watchkeeper.metrics._exemplars import SLOT_BYTES, Exemplar, decode, encode, read_runs
from watchkeeper.metrics._histogram import Histogram
from watchkeeper.metrics._multiprocess import ShardReader
from watchkeeper.metrics._values import ShardStore

trace_ids = st.text("0123456789abcdef", min_size=1, max_size=32)
floats = st.floats(allow_nan=False)
exemplars = st.tuples(trace_ids, floats, floats)


@given(exemplars)
def test_a_slot_reads_back_what_was_written(exemplar: Exemplar) -> None:
    slot = encode(exemplar)
    assert slot is not None
    assert len(slot) == SLOT_BYTES
    assert decode(slot, 0) == exemplar


@given(exemplars, st.integers(0, 52), st.integers(1, 255))
def test_any_changed_byte_is_detected(exemplar: Exemplar, at: int, flip: int) -> None:
    slot = bytearray(encode(exemplar) or b"")
    slot[at] ^= flip
    assert decode(bytes(slot), 0) is None


@given(exemplars, exemplars, st.integers(0, SLOT_BYTES), st.booleans())
def test_a_torn_slot_is_skipped_or_is_one_of_the_two_writes(
    old: Exemplar, new: Exemplar, cut: int, new_first: bool,
) -> None:
    a, b = encode(old) or b"", encode(new) or b""
    torn = b[:cut] + a[cut:] if new_first else a[:cut] + b[cut:]
    assert decode(torn, 0) in (None, old, new)


def test_empty_foreign_and_oversized_slots() -> None:
    assert decode(bytes(SLOT_BYTES), 0) is None  # never written
    assert decode(b"\x01" * 10, 0) is None  # short file
    assert encode(("a" * 33, 1.0, 2.0)) is None  # does not fit: never written
    assert encode(("", 1.0, 2.0)) is None
    # a well-formed slot whose id is not letters and digits cannot be rendered safely
    assert decode(encode(('x"}', 1.0, 2.0)) or b"", 0) is None


def _worker(directory: Path, name: str) -> tuple[Registry, Histogram, ShardStore]:
    registry = Registry()
    store = ShardStore(str(directory), name)
    registry.bind_store(store, keep_values=True)
    histogram = registry.histogram("lat_seconds", "L.", ("route",), buckets=[0.1, 1.0],
                                   unit="seconds")
    return registry, histogram, store


def _record(histogram: Histogram, route: str, value: float, trace_id: str, at: float) -> None:
    from bisect import bisect_left

    child = histogram.labels(route)
    child.observe(value)
    histogram.exemplars_of(child)[bisect_left(histogram.bounds, value)] = (trace_id, value, at)


def _exemplars(text: str) -> dict[tuple[str, str], tuple[str, float, float]]:
    """{(route, le): (trace_id, value, timestamp)} of every bucket carrying an exemplar,
    as prometheus_client's OpenMetrics parser (which validates the text) reads them."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            mark = sample.exemplar
            if mark is not None:
                at = mark.timestamp
                assert at is not None
                key = (sample.labels["route"], sample.labels["le"])
                out[key] = (mark.labels["trace_id"], mark.value, at.sec + at.nsec / 1e9)
    return out


def test_the_newest_exemplar_of_any_worker_wins_per_bucket(tmp_path: Path) -> None:
    _, a, _ = _worker(tmp_path, "101-a")
    _, b, store_b = _worker(tmp_path, "102-b")
    _record(a, "/x", 0.05, "a" * 32, 1000.0)
    _record(b, "/x", 0.07, "b" * 32, 1001.0)  # same bucket, newer
    _record(a, "/x", 0.5, "c" * 32, 1002.0)
    _record(b, "/x", 0.6, "d" * 32, 999.0)  # same bucket, older
    _record(b, "/y", 5.0, "e" * 32, 1003.0)
    reader = ShardReader(str(tmp_path))
    text = render_openmetrics(reader.snapshot())
    assert _exemplars(text) == {
        ("/x", "0.1"): ("b" * 32, 0.07, 1001.0),
        ("/x", "1.0"): ("c" * 32, 0.5, 1002.0),
        ("/y", "+Inf"): ("e" * 32, 5.0, 1003.0),
    }
    assert "trace_id" not in render_text(reader.snapshot())

    store_b.detach()  # b dies: its last exemplars still count, like its counts
    assert _exemplars(render_openmetrics(reader.snapshot()))[("/x", "0.1")][0] == "b" * 32
    _record(a, "/x", 0.01, "f" * 32, 1004.0)
    assert _exemplars(render_openmetrics(reader.snapshot()))[("/x", "0.1")][0] == "f" * 32


def test_a_corrupt_slot_is_skipped_and_the_rest_still_shows(tmp_path: Path) -> None:
    _, a, _ = _worker(tmp_path, "201-a")
    _, b, _ = _worker(tmp_path, "202-b")
    _record(a, "/x", 0.05, "a" * 32, 1000.0)
    _record(b, "/x", 0.05, "b" * 32, 2000.0)  # the newest, about to be corrupted
    _record(b, "/x", 0.5, "c" * 32, 2000.0)
    path = tmp_path / "202-b.exemplars"
    data = bytearray(path.read_bytes())
    data[8] ^= 0xFF  # the timestamp of bucket 0's slot
    with open(path, "r+b") as fh:
        fh.write(data[:SLOT_BYTES])
    text = render_openmetrics(ShardReader(str(tmp_path)).snapshot())
    assert _exemplars(text) == {("/x", "0.1"): ("a" * 32, 0.05, 1000.0),
                                ("/x", "1.0"): ("c" * 32, 0.5, 2000.0)}


def test_garbage_exemplar_files_and_records_never_break_a_scrape(tmp_path: Path) -> None:
    _, a, _ = _worker(tmp_path, "301-a")
    _record(a, "/x", 0.05, "a" * 32, 1000.0)
    (tmp_path / "302-x.keys").write_bytes(
        b'{"family":"lat_seconds","type":"histogram","labels":["route"],"buckets":[0.1,1.0]}\n'
        b'{"s":0,"n":4,"f":"lat_seconds","v":["/x"]}\n'
        b'{"x":0,"n":3,"e":0}\n{"x":"zz","n":3,"e":0}\n{"x":100000,"n":3,"e":0}\n{"x":1')
    (tmp_path / "302-x.values").write_bytes(bytes(4096 * 8))
    (tmp_path / "302-x.exemplars").write_bytes(os.urandom(SLOT_BYTES * 3 + 7))
    text = render_openmetrics(ShardReader(str(tmp_path)).snapshot())
    assert _exemplars(text) == {("/x", "0.1"): ("a" * 32, 0.05, 1000.0)}


def test_a_removed_series_takes_its_exemplars_along(tmp_path: Path) -> None:
    _, a, _ = _worker(tmp_path, "401-a")
    _record(a, "/x", 0.05, "a" * 32, 1000.0)
    reader = ShardReader(str(tmp_path))
    assert _exemplars(render_openmetrics(reader.snapshot()))
    a.remove("/x")
    assert not _exemplars(render_openmetrics(reader.snapshot()))
    _record(a, "/x", 0.5, "b" * 32, 1001.0)  # the same labels again: a fresh series
    assert _exemplars(render_openmetrics(reader.snapshot())) == {
        ("/x", "1.0"): ("b" * 32, 0.5, 1001.0)}


def test_moving_to_a_shard_keeps_exemplars_recorded_in_memory(tmp_path: Path) -> None:
    registry = Registry()
    histogram = registry.histogram("lat_seconds", "L.", ("route",), buckets=[0.1])
    _record(histogram, "/x", 0.05, "a" * 32, 1000.0)
    registry.bind_store(ShardStore(str(tmp_path), "501-a"), keep_values=True)
    text = render_openmetrics(ShardReader(str(tmp_path)).snapshot())
    assert _exemplars(text) == {("/x", "0.1"): ("a" * 32, 0.05, 1000.0)}
    # and the worker's own view of its slots agrees
    assert dict(histogram.exemplars_of(histogram.labels("/x")).items()) == {
        0: ("a" * 32, 0.05, 1000.0)}


def test_read_runs_reads_a_torn_slot_again(tmp_path: Path) -> None:
    path = tmp_path / "x.exemplars"
    good = encode(("a" * 32, 1.0, 2.0)) or b""
    path.write_bytes(good + good)
    assert read_runs(str(path), {7: (0, 2)}) == {7: {0: ("a" * 32, 1.0, 2.0),
                                                     1: ("a" * 32, 1.0, 2.0)}}
    path.write_bytes(good + good[:20] + b"\xff" + good[21:])
    assert read_runs(str(path), {7: (0, 2)}) == {7: {0: ("a" * 32, 1.0, 2.0)}}
    assert read_runs(str(tmp_path / "missing"), {7: (0, 2)}) == {}


def test_the_http_hook_follows_its_registry_into_a_worker_shard(tmp_path: Path) -> None:
    """At init in a worker (or after fork) the registry moves to a shard: the hook's
    cached series must write exemplars into the shard from then on."""
    import time

    from watchkeeper._http_types import RequestRecord
    from watchkeeper.config import MetricsSettings
    from watchkeeper.metrics import HttpServerHook

    def request(trace_id: str, duration: float) -> RequestRecord:
        record = RequestRecord("GET", "/a", "", "http", None, 0.0, time.time(), {})
        record.route, record.status, record.duration = "/a", 200, duration
        record.state["trace_id"] = trace_id
        return record

    registry = Registry()
    hook = HttpServerHook(registry, MetricsSettings(latency_buckets=[0.1, 1.0]))
    hook.on_response(request("a" * 32, 0.05))
    registry.bind_store(ShardStore(str(tmp_path), "601-a"), keep_values=True)
    hook.on_response(request("b" * 32, 0.5))
    text = render_openmetrics(ShardReader(str(tmp_path)).snapshot())
    assert {k: v[0] for k, v in _exemplars(text).items()} == {
        ("/a", "0.1"): "a" * 32, ("/a", "1.0"): "b" * 32}


_WRITER = """
import mmap, os, sys, time
from watchkeeper.metrics._exemplars import ShardExemplars
fd = os.open(sys.argv[1], os.O_RDWR)
sink = ShardExemplars(mmap.mmap(fd, 4096), 0, 1)
end = time.monotonic() + float(sys.argv[2])
marks = [("a" * 32, 1.0, 1.0), ("b" * 31, 2.0, 2.0)]
print("ready", flush=True)
n = 0
while time.monotonic() < end:
    sink[0] = marks[n & 1]
    n += 1
"""


def test_reads_racing_a_writer_process_never_show_a_mix(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "w.exemplars"
    path.write_bytes(bytes(4096))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    seen = set()
    with subprocess.Popen([sys.executable, "-c", _WRITER, str(path), "1.5"], env=env,
                          stdout=subprocess.PIPE) as writer:
        assert writer.stdout is not None
        assert writer.stdout.readline() == b"ready\n"
        while writer.poll() is None:
            marks = read_runs(str(path), {0: (0, 1)})
            seen.add(marks.get(0, {}).get(0))
    assert writer.returncode == 0
    assert seen <= {("a" * 32, 1.0, 1.0), ("b" * 31, 2.0, 2.0), None}
    assert seen & {("a" * 32, 1.0, 1.0), ("b" * 31, 2.0, 2.0)}
