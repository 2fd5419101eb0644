"""Metric families: semantics, labels, duplicates, cardinality guard."""

from __future__ import annotations

import threading

import pytest

import watchkeeper
from watchkeeper.exceptions import DuplicateMetricError, LabelError, MetricError
from watchkeeper.metrics import OVERFLOW_VALUE, Registry, render_registry


@pytest.fixture
def registry() -> Registry:
    return Registry()


def test_counter_counts_and_refuses_to_go_down(registry: Registry) -> None:
    orders = registry.counter("orders_total", "Orders.", ("channel",))
    orders.labels("web").inc()
    orders.labels(channel="web").inc(2.5)
    assert orders.labels("web").get() == 3.5
    with pytest.raises(ValueError, match="only go up"):
        orders.labels("web").inc(-1)
    assert orders.name == "orders"  # exposed as orders_total


def test_gauge_and_function_gauge(registry: Registry) -> None:
    temp = registry.gauge("temperature", "Temp.")
    temp.set(20)
    temp.inc(2)
    temp.dec(0.5)
    assert temp.get() == 21.5
    queue = registry.gauge("queue_depth", "Depth.")
    queue.set_function(lambda: 7)
    assert "queue_depth 7.0" in render_registry(registry)
    with temp.track_inprogress():
        assert temp.get() == 22.5
    assert temp.get() == 21.5


def test_histogram_buckets_are_cumulative_with_le_semantics(registry: Registry) -> None:
    latency = registry.histogram("latency_seconds", "L.", buckets=[0.1, 1.0])
    for v in (0.05, 0.1, 0.5, 1.0, 3.0):
        latency.observe(v)
    text = render_registry(registry)
    assert 'latency_seconds_bucket{le="0.1"} 2.0' in text  # 0.1 <= le 0.1
    assert 'latency_seconds_bucket{le="1.0"} 4.0' in text
    assert 'latency_seconds_bucket{le="+Inf"} 5.0' in text
    assert "latency_seconds_count 5.0" in text
    assert "latency_seconds_sum 4.65" in text


def test_timer_decorates_sync_and_async(registry: Registry) -> None:
    import asyncio

    latency = registry.histogram("op_seconds", "L.", buckets=[1.0])

    @latency.time()
    def work() -> int:
        return 1

    @latency.time()
    async def async_work() -> int:
        return 2

    assert work() == 1
    assert asyncio.run(async_work()) == 2
    with latency.time():
        pass
    assert "op_seconds_count 3.0" in render_registry(registry)


def test_label_errors_are_clear(registry: Registry) -> None:
    family = registry.counter("requests", "R.", ("method", "route"))
    with pytest.raises(LabelError, match=r"expected 2 label values \['method', 'route'\]"):
        family.labels("GET")
    with pytest.raises(LabelError, match="missing label 'route'"):
        family.labels(method="GET")
    with pytest.raises(LabelError, match=r"call \.labels"):
        family.inc()
    with pytest.raises(LabelError, match="reserved"):
        registry.histogram("h", "H.", ("le",), buckets=[1])
    with pytest.raises(LabelError, match="invalid label name"):
        registry.counter("c2", "C.", ("bad-name",))
    with pytest.raises(MetricError, match="invalid metric name"):
        registry.counter("9lives", "C.")
    with pytest.raises(MetricError, match="strictly increasing"):
        registry.histogram("h2", "H.", buckets=[2, 1])
    with pytest.raises(MetricError, match="unit"):
        registry.histogram("h3", "H.", buckets=[1], unit="seconds")


def test_same_definition_returns_the_same_family(registry: Registry) -> None:
    first = registry.counter("jobs_total", "Jobs.", ("queue",))
    assert registry.counter("jobs_total", "Jobs.", ("queue",)) is first
    assert registry.counter("jobs_total", "Other words.", ("queue",)) is first
    registry.histogram("lat_seconds", "L.", buckets=[1])
    with pytest.raises(DuplicateMetricError):
        registry.histogram("lat_seconds", "L.", buckets=[2])
    with pytest.raises(DuplicateMetricError, match="already registered as a counter"):
        registry.gauge("jobs", "Jobs.", ("queue",))
    with pytest.raises(DuplicateMetricError, match=r"labels \['queue'\]"):
        registry.counter("jobs_total", "Jobs.", ("queue", "kind"))


def test_clash_with_prometheus_client_metric_is_an_error() -> None:
    import prometheus_client

    theirs = prometheus_client.Counter("wk_clash_test_total", "Theirs.")
    try:
        with pytest.raises(DuplicateMetricError, match="prometheus_client"):
            watchkeeper.counter("wk_clash_test_total", "Ours.")
    finally:
        prometheus_client.REGISTRY.unregister(theirs)


def test_users_prometheus_client_metrics_appear_in_metrics() -> None:
    import prometheus_client

    theirs = prometheus_client.Gauge("wk_user_gauge", "User gauge.")
    theirs.set(42)
    try:
        text = render_registry(watchkeeper._runtime.registry())
        assert "wk_user_gauge 42.0" in text
        # prometheus_client's own process collector is replaced, not duplicated
        assert text.count("# TYPE process_cpu_seconds_total") <= 1
        om = render_registry(watchkeeper._runtime.registry(), openmetrics=True)
        assert "wk_user_gauge 42.0" in om
        assert om.endswith("# EOF\n")
        assert om.count("# EOF") == 1
    finally:
        prometheus_client.REGISTRY.unregister(theirs)


def test_cardinality_limit_folds_new_label_sets_into_one_overflow_series() -> None:
    registry = Registry(cardinality_limit=10)
    hits = registry.counter("hits_total", "Hits.", ("user",))
    for i in range(10_000):
        hits.labels(f"user-{i}").inc()
    children = list(hits.children())
    assert len(children) == 11  # 10 real + the overflow series
    overflow = hits.labels(OVERFLOW_VALUE)
    assert overflow.get() == 10_000 - 10
    text = render_registry(registry)
    assert f'watchkeeper_series_dropped_total{{metric="hits"}} {10_000 - 10}.0' in text


def test_helpers_apply_namespace_and_const_labels() -> None:
    watchkeeper.init(metrics={"namespace": "ebay_mcp_", "const_labels": {"team": "core"}})
    watchkeeper.counter("orders_total", "Orders.").inc()
    text = render_registry(watchkeeper._runtime.registry())
    assert 'ebay_mcp_orders_total{team="core"} 1.0' in text


def test_concurrent_increments_are_not_lost(registry: Registry) -> None:
    counter = registry.counter("spins_total", "S.")
    histogram = registry.histogram("spin_seconds", "S.", buckets=[1])

    def spin() -> None:
        for _ in range(20_000):
            counter.inc()
            histogram.observe(0.5)

    threads = [threading.Thread(target=spin) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counter.get() == 160_000
    assert "spin_seconds_count 160000.0" in render_registry(registry)


def test_remove_and_clear(registry: Registry) -> None:
    family = registry.gauge("pool", "P.", ("name",))
    family.labels("a").set(1)
    family.labels("b").set(2)
    family.remove("a")
    text = render_registry(registry)
    assert 'pool{name="a"}' not in text
    assert 'pool{name="b"} 2.0' in text
    family.clear()
    assert "pool{" not in render_registry(registry)
