"""Metrics: families and their values, process/runtime collectors, HTTP metrics, exposition.

Values live in pages of doubles (in memory, or in per-worker shard files under pre-fork
servers), and the exposition writers read them without re-formatting labels.
"""

from ._counter import Counter, CounterChild
from ._endpoint import metrics_endpoint, render_registry
from ._exposition import (
    OPENMETRICS_CONTENT_TYPE,
    TEXT_CONTENT_TYPE,
    render_openmetrics,
    render_text,
)
from ._family import OVERFLOW_VALUE
from ._foreign import foreign_name_owner
from ._gauge import Gauge, GaugeChild, GaugeMode
from ._helpers import (
    cache_access,
    db_pool_status,
    record_cost,
    record_db_operation,
    track_db_operation,
    track_message,
)
from ._histogram import Histogram, HistogramChild
from ._host import HostCollector
from ._http_server import HttpServerHook
from ._loop_lag import start_loop_lag_monitor
from ._names import method_label
from ._process import ProcessCollector
from ._registry import Registry
from ._workers import aggregation, bind_workers, unbind_workers, watch_forks

__all__ = [
    "OPENMETRICS_CONTENT_TYPE",
    "OVERFLOW_VALUE",
    "TEXT_CONTENT_TYPE",
    "Counter",
    "CounterChild",
    "Gauge",
    "GaugeChild",
    "GaugeMode",
    "Histogram",
    "HistogramChild",
    "HostCollector",
    "HttpServerHook",
    "ProcessCollector",
    "Registry",
    "aggregation",
    "bind_workers",
    "cache_access",
    "db_pool_status",
    "foreign_name_owner",
    "method_label",
    "metrics_endpoint",
    "record_cost",
    "record_db_operation",
    "render_openmetrics",
    "render_registry",
    "render_text",
    "start_loop_lag_monitor",
    "track_db_operation",
    "track_message",
    "unbind_workers",
    "watch_forks",
]
