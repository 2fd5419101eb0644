"""Differential test: the same backfilled data in real Prometheus and in watchkeeper.

Debian ships Prometheus 2.42 (closed range windows); the data never sits on a window
edge (samples at +7.3 s), so 2.x and 3.x semantics agree and results must match.
"""

from __future__ import annotations

import math
import shutil

import httpx
import pytest

from watchkeeper.promql import Engine
from watchkeeper.promql._exposition import load_exposition

from ._prometheus import T0, prometheus_over, write_openmetrics

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("prometheus") is None or shutil.which("promtool") is None,
                       reason="prometheus/promtool binaries not installed "
                              "(Debian package 'prometheus')"),
]

QUERIES = [
    # The alert-rule shapes.
    "rate(http_requests_total[5m])",
    'sum by (job) (rate(http_requests_total{code="500"}[5m])) / '
    "sum by (job) (rate(http_requests_total[5m]))",
    "histogram_quantile(0.95, sum(rate(db_query_seconds_bucket[5m])) by (table, le))",
    "avg_over_time(rate(http_requests_total[5m])[1h:5m])",
    # Coverage of the rest.
    "increase(http_requests_total[10m])",
    "irate(http_requests_total[2m])",
    "delta(memory_bytes[10m])",
    "deriv(memory_bytes[10m])",
    "predict_linear(memory_bytes[30m], 3600)",
    "max_over_time(memory_bytes[17m])",
    "quantile_over_time(0.9, memory_bytes[30m])",
    "stddev_over_time(memory_bytes[30m])",
    "changes(http_requests_total[30m])",
    "resets(http_requests_total[2h])",
    "topk(3, memory_bytes)",
    "quantile by (job) (0.5, memory_bytes)",
    "count_values(\"code\", count by (code) (http_requests_total))",
    "memory_bytes > on (job, instance) group_left memory_bytes * 0.99",
    "sum without (instance) (memory_bytes) - avg without (instance) (memory_bytes)",
    "rate(db_query_seconds_sum[5m]) / rate(db_query_seconds_count[5m])",
    "absent(nonexistent_metric)",
    "label_replace(memory_bytes, \"inst\", \"$1\", \"instance\", \"i(.*)\")",
    "memory_bytes offset 13m",
    "sum(rate(http_requests_total[5m] offset 1h))",
    "sum_over_time(memory_bytes[7m])",
    "count_over_time(http_requests_total[3m])",
    "last_over_time(memory_bytes[2m])",
    "absent_over_time(memory_bytes[1m])",
    "clamp(memory_bytes, 1.5e6, 2.5e6)",
    "round(memory_bytes, 1000)",
    "timestamp(memory_bytes)",
    "-memory_bytes + on (job, instance) memory_bytes * 2",
    "bottomk(2, memory_bytes) by (job)",
    "stdvar by (job) (memory_bytes)",
    "group by (code) (http_requests_total)",
    "http_requests_total unless on (code) http_requests_total{code=\"500\"}",
    "scalar(sum(memory_bytes)) / count(memory_bytes)",
    "vector(time()) - on () group_right timestamp(memory_bytes)",
    "histogram_quantile(0.5, rate(db_query_seconds_bucket[10m]))",
    "avg_over_time(memory_bytes[20m:1m])",
]


def _close(a: float, b: float) -> bool:
    if math.isnan(a) and math.isnan(b):
        return True
    if a == b:
        return True
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b))


def _prom_value(v: str) -> float:
    return float(v.replace("+Inf", "inf").replace("-Inf", "-inf"))


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    work = tmp_path_factory.mktemp("diff")
    data = work / "data.om"
    write_openmetrics(data)
    db = load_exposition(data)
    with prometheus_over(data, work) as url:
        yield url, Engine(db)


@pytest.mark.parametrize("query", QUERIES)
def test_instant_queries_agree(setup, query: str) -> None:  # type: ignore[no-untyped-def]
    url, engine = setup
    # Windows never reach back to the first sample: 2.42 clamps extrapolation to zero
    # before the threshold check, 3.x after it (a deliberate upstream change).
    for t in (T0 + 4345, T0 + 5400 + 31, T0 + 7013):
        r = httpx.get(f"{url}/api/v1/query", params={"query": query, "time": str(t)})
        body = r.json()
        assert body["status"] == "success", body
        prom = {tuple(sorted(s["metric"].items())): _prom_value(s["value"][1])
                for s in body["data"]["result"]}
        ours = {tuple(sorted(s.labels.items())): s.v for s in engine.instant(query, t).vector}
        assert set(prom) == set(ours), (query, t)
        for k, v in prom.items():
            assert _close(ours[k], v), (query, t, k, ours[k], v)


@pytest.mark.parametrize("query", QUERIES)
def test_range_queries_agree(setup, query: str) -> None:  # type: ignore[no-untyped-def]
    url, engine = setup
    # Steps keep t mod 300 != 0 so [..:5m] subquery grids never sit on a window edge.
    start, end, step = T0 + 4213, T0 + 7000, 300
    r = httpx.get(f"{url}/api/v1/query_range",
                  params={"query": query, "start": start, "end": end, "step": step})
    body = r.json()
    assert body["status"] == "success", body
    prom = {tuple(sorted(s["metric"].items())): [(round(float(t) * 1000), _prom_value(v))
                                                  for t, v in s["values"]]
            for s in body["data"]["result"]}
    ours = {tuple(sorted(s.labels.items())): s.points
            for s in engine.range(query, start, end, step).matrix}
    assert set(prom) == set(ours), query
    for k, pts in prom.items():
        assert [t for t, _ in pts] == [t for t, _ in ours[k]], (query, k)
        for (_, a), (_, b) in zip(pts, ours[k], strict=True):
            assert _close(b, a), (query, k, a, b)
