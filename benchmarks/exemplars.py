"""Exemplars: per-request cost of the HTTP metrics hook and scrape cost, same run.

The hook's ``on_response`` is timed with and without a sampled trace id, with values in
memory (one process) and in a worker shard (pre-fork: exemplars go to mmapped,
checksummed slots). prometheus_client's ``Histogram.observe`` with and without an
exemplar is the peer reference (its multiprocess mode has no exemplars at all). The
scrape reads two worker shards of ``--series`` duration series, with every bucket
carrying an exemplar or none (unchanged since the last scrape, so decoded slots come
from the reader's cache, or all rewritten), and renders OpenMetrics. Interleaved repeats (order
reversed every round), medians of best-of-3.

    python benchmarks/exemplars.py [--repeats 7] [--series 300]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "src"))

import prometheus_client
from prometheus_client import CollectorRegistry

from _harness import median, table
from watchkeeper._http_types import RequestRecord
from watchkeeper.config import MetricsSettings
from watchkeeper.metrics import HttpServerHook, Registry, render_openmetrics
from watchkeeper.metrics._multiprocess import ShardReader
from watchkeeper.metrics._snapshot import snapshot_registry
from watchkeeper.metrics._values import ShardStore

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SETTINGS = MetricsSettings()


def record(route: str, duration: float, traced: bool) -> RequestRecord:
    rec = RequestRecord("GET", route, "", "http", None, 0.0, time.time(), {})
    rec.route, rec.status, rec.duration = route, 200, duration
    rec.request_bytes, rec.response_bytes = 0, 512
    if traced:
        rec.state["trace_id"] = TRACE_ID
    return rec


def hook(directory: str | None, name: str) -> HttpServerHook:
    registry = Registry()
    if directory is not None:
        registry.bind_store(ShardStore(directory, name), keep_values=True)
    return HttpServerHook(registry, SETTINGS)


def per_request(tmp: str) -> dict[str, Callable[[], object]]:
    memory, shard = hook(None, ""), hook(tmp, "1-bench")
    bare, traced = record("/items/{id}", 0.03, False), record("/items/{id}", 0.03, True)
    registry = CollectorRegistry()
    peer = prometheus_client.Histogram("lat_seconds", "L.", ("route",), registry=registry,
                                       buckets=SETTINGS.latency_buckets).labels("/items/{id}")
    exemplar = {"trace_id": TRACE_ID}
    return {
        "hook, one process, no exemplar": lambda: memory.on_response(bare),
        "hook, one process, exemplar": lambda: memory.on_response(traced),
        "hook, worker shard, no exemplar": lambda: shard.on_response(bare),
        "hook, worker shard, exemplar": lambda: shard.on_response(traced),
        "prometheus_client observe()": lambda: peer.observe(0.03),
        "prometheus_client observe(exemplar)": lambda: peer.observe(0.03, exemplar),
    }


def workers(directory: str, series: int, traced: bool) -> Callable[[], None]:
    """Two workers' shards; each series gets requests in every latency bucket. Returns
    a function sending all those requests again (rewriting every exemplar slot)."""
    hooks = [hook(directory, f"{n}-w") for n in (1, 2)]
    durations = [b * 0.9 for b in SETTINGS.latency_buckets] + [60.0]

    def load() -> None:
        for i in range(series):
            for n, worker in enumerate(hooks):
                for duration in durations[n::2]:
                    worker.on_response(record(f"/route/{i}", duration, traced))

    load()
    return load


def time_op(func: Callable[[], object], number: int = 50_000) -> float:
    """Best of three runs (the least disturbed by other processes), in µs per call."""
    return min(timeit.repeat(func, number=number, repeat=3)) / number * 1e6


def time_once(func: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    func()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--series", type=int, default=300)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "hook").mkdir()
        ops = per_request(str(Path(tmp, "hook")))
        times: dict[str, list[float]] = {name: [] for name in ops}
        for func in ops.values():  # warm-up: first-touch pages, caches, allocations
            timeit.timeit(func, number=100_000)
        for round_ in range(args.repeats):
            order = list(ops) if round_ % 2 == 0 else list(ops)[::-1]  # interleaved A/B
            for name in order:
                times[name].append(time_op(ops[name]))
        base = {"one process": median(times["hook, one process, no exemplar"]),
                "worker shard": median(times["hook, worker shard, no exemplar"]),
                "prometheus_client": median(times["prometheus_client observe()"])}
        rows = []
        for name, samples in times.items():
            us = median(samples)
            ref = next(v for k, v in base.items() if k in name)
            rows.append([name, f"{us:.3f} µs", f"{us - ref:+.3f} µs", f"{us / ref:.2f}x"])
        print(table(["per request", "median", "vs same without exemplar", "ratio"], rows))
        print()

        scrapes: dict[str, list[float]] = {}
        readers = {}
        for label, traced in (("no exemplars", False), ("every bucket", True)):
            directory = Path(tmp, label.replace(" ", "-"))
            directory.mkdir()
            reload = workers(str(directory), args.series, traced)
            readers[label] = ShardReader(str(directory))
        single = hook(None, "")
        for i in range(args.series):
            for duration in [b * 0.9 for b in SETTINGS.latency_buckets]:
                single.on_response(record(f"/route/{i}", duration, True))
        one_process = single._registry
        for _ in range(args.repeats):
            for label, reader in readers.items():
                scrapes.setdefault(f"2 worker shards, {label}", []).append(
                    time_once(lambda reader=reader: render_openmetrics(reader.snapshot())))
            reload()  # every slot rewritten since the last scrape: nothing cached
            scrapes.setdefault("2 worker shards, every bucket, all rewritten", []).append(
                time_once(lambda: render_openmetrics(readers["every bucket"].snapshot())))
            scrapes.setdefault("one process, every bucket", []).append(time_once(
                lambda: render_openmetrics(snapshot_registry(one_process))))
        bare = median(scrapes["2 worker shards, no exemplars"])
        rows = [[name, f"{median(samples):.2f} ms", f"{median(samples) / bare:.2f}x"]
                for name, samples in scrapes.items()]
        print(table([f"OpenMetrics scrape, {args.series} duration series x "
                     f"{len(SETTINGS.latency_buckets) + 1} buckets", "median",
                     "vs shards without exemplars"], rows))


if __name__ == "__main__":
    main()
