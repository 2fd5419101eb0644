"""Benchmark: the in-process self-scrape that feeds alert rules.

One scrape = render the registry as OpenMetrics (what ``/metrics`` does anyway: the
baseline), parse it, and append every sample to the in-memory TSDB. For N series it
prints the baseline render time, the full scrape time and their ratio, plus the CPU share
of one core at the default 15 s scrape interval. Medians of interleaved repeats.

Run: ``PYTHONPATH=src python benchmarks/self_scrape.py [N_SERIES ...]``
"""

from __future__ import annotations

import statistics
import sys
import time

from watchkeeper.metrics import Registry
from watchkeeper.metrics._endpoint import render_registry
from watchkeeper.scrape import Scraper
from watchkeeper.tsdb import TSDB


def registry_with(n: int) -> Registry:
    registry = Registry()
    counter = registry.counter("http_requests_total", "requests", ("route", "status_code"))
    hist = registry.histogram("http_request_duration_seconds", "latency", ("route",),
                              buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
    routes = max(1, n // 14)  # a histogram child is 12 buckets + sum + count
    for i in range(routes):
        counter.labels(f"/r{i}", "200").inc(i)
        hist.labels(f"/r{i}").observe(0.01 * (i % 50))
    return registry


def main(sizes: list[int]) -> None:
    print(f"{'series':>8} {'render ms':>10} {'scrape ms':>10} {'ratio':>6} {'CPU @15s':>9}")
    for n in sizes:
        registry = registry_with(n)
        text = render_registry(registry, openmetrics=True)
        series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
        db = TSDB()
        clock = [time.time()]
        scraper = Scraper(db, lambda r=registry: render_registry(r, openmetrics=True),
                          {"job": "app", "instance": "bench"}, clock=lambda c=clock: c[0])
        renders, scrapes = [], []
        for _ in range(7):
            t0 = time.perf_counter()
            render_registry(registry, openmetrics=True)
            renders.append(time.perf_counter() - t0)
            clock[0] += 15
            t0 = time.perf_counter()
            scraper.scrape()
            scrapes.append(time.perf_counter() - t0)
        render, scrape = statistics.median(renders), statistics.median(scrapes)
        print(f"{series:>8} {render * 1e3:>10.1f} {scrape * 1e3:>10.1f} "
              f"{scrape / render:>6.1f} {scrape / 15 * 100:>8.2f}%")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000, 10_000])
