"""Metric primitives and /metrics rendering: watchkeeper vs prometheus_client, same run.

Hot-path operations are timed with timeit (best of interleaved repeats → median);
rendering uses 10k and 100k labelled counter series built identically in both
libraries. Ratios > 1 mean watchkeeper is faster.

    python benchmarks/metric_ops.py [--repeats 5] [--sizes 10000,100000]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "src"))

import prometheus_client
from prometheus_client import CollectorRegistry, generate_latest

from _harness import median, table
from watchkeeper.metrics import Registry, render_registry

BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0]


def ops() -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    ours = Registry()
    theirs = CollectorRegistry()
    wk_counter = ours.counter("req_total", "R.", ("method", "route", "status"))
    pc_counter = prometheus_client.Counter("req_total", "R.", ("method", "route", "status"),
                                           registry=theirs)
    wk_hist = ours.histogram("lat_seconds", "L.", ("route",), buckets=BUCKETS)
    pc_hist = prometheus_client.Histogram("lat_seconds", "L.", ("route",), buckets=BUCKETS,
                                          registry=theirs)
    wk_child = wk_counter.labels("GET", "/items/{id}", "200")
    pc_child = pc_counter.labels("GET", "/items/{id}", "200")
    wk_hchild = wk_hist.labels("/items/{id}")
    pc_hchild = pc_hist.labels("/items/{id}")
    return {
        "counter.labels(a,b,c).inc()": (
            lambda: wk_counter.labels("GET", "/items/{id}", "200").inc(),
            lambda: pc_counter.labels("GET", "/items/{id}", "200").inc()),
        "bound child .inc()": (wk_child.inc, pc_child.inc),
        "histogram.labels(a).observe()": (
            lambda: wk_hist.labels("/items/{id}").observe(0.3),
            lambda: pc_hist.labels("/items/{id}").observe(0.3)),
        "bound histogram .observe()": (lambda: wk_hchild.observe(0.3),
                                       lambda: pc_hchild.observe(0.3)),
    }


def time_op(func: Callable[[], object], number: int = 200_000) -> float:
    return timeit.timeit(func, number=number) / number * 1e6


def build(series: int) -> tuple[Registry, CollectorRegistry]:
    ours = Registry(cardinality_limit=series + 1)
    theirs = CollectorRegistry()
    wk = ours.counter("http_requests_total", "Requests.", ("method", "route", "status_code"))
    pc = prometheus_client.Counter("http_requests_total", "Requests.",
                                   ("method", "route", "status_code"), registry=theirs)
    for i in range(series):
        labels = ("GET", f"/route/{i // 10}", str(200 + i % 10))
        wk.labels(*labels).inc(i)
        pc.labels(*labels).inc(i)
    return ours, theirs


def time_render(func: Callable[[], object], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()

    rows = []
    results: dict[str, tuple[list[float], list[float]]] = {}
    operations = ops()
    for _ in range(args.repeats):
        for name, (wk, pc) in operations.items():
            pair = results.setdefault(name, ([], []))
            pair[0].append(time_op(wk))
            pair[1].append(time_op(pc))
    for name, (wk_times, pc_times) in results.items():
        wk_us, pc_us = median(wk_times), median(pc_times)
        rows.append([name, f"{wk_us:.3f} µs", f"{pc_us:.3f} µs", f"{pc_us / wk_us:.2f}"])
    print(table(["operation", "watchkeeper", "prometheus_client", "speed-up"], rows))
    print()

    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        ours, theirs = build(size)
        wk_ms = time_render(lambda ours=ours: render_registry(ours), args.repeats)
        os.environ.pop("PROMETHEUS_DISABLE_CREATED_SERIES", None)
        pc_ms = time_render(lambda theirs=theirs: generate_latest(theirs), args.repeats)
        prometheus_client.disable_created_metrics()
        pc_nocreated_ms = time_render(lambda theirs=theirs: generate_latest(theirs),
                                      args.repeats)
        prometheus_client.enable_created_metrics()
        wk_om = time_render(lambda ours=ours: render_registry(ours, openmetrics=True),
                            args.repeats)
        rows.append([f"{size:,} series", f"{wk_ms:.0f} ms", f"{wk_om:.0f} ms",
                     f"{pc_ms:.0f} ms", f"{pc_nocreated_ms:.0f} ms",
                     f"{pc_ms / wk_ms:.1f}x", f"{pc_nocreated_ms / wk_ms:.1f}x"])
    print(table(["render", "watchkeeper text", "watchkeeper OpenMetrics",
                 "generate_latest", "generate_latest (no _created)", "speed-up",
                 "speed-up vs no _created"], rows))


if __name__ == "__main__":
    main()
