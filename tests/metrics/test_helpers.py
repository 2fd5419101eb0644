"""Application metric helpers: DB operations, pools, caches, queues, costs."""

from __future__ import annotations

import pytest

import watchkeeper
from tests._servers import value
from watchkeeper import _runtime
from watchkeeper.metrics import db_pool_status, render_registry


def test_helpers_record_outcomes() -> None:
    with watchkeeper.track_db_operation("select", "users"):
        pass
    with pytest.raises(KeyError), watchkeeper.track_db_operation("update", "users"):
        raise KeyError("x")
    with watchkeeper.track_message("orders", "consume"):
        pass
    with pytest.raises(RuntimeError), watchkeeper.track_message("orders", "consume"):
        raise RuntimeError("poison message")
    watchkeeper.cache_access("sessions", hit=True)
    watchkeeper.cache_access("sessions", hit=False)
    watchkeeper.cache_access("sessions", hit=True)
    watchkeeper.record_cost("ebay-api", 0.25, operation="search")
    watchkeeper.record_cost("ebay-api", 0.5, operation="search")
    db_pool_status("main", size=10, checked_out=3, overflow=1)
    text = render_registry(_runtime.registry())
    assert value(text, "db_operations_total", operation="select", status="ok") == 1
    assert value(text, "db_operations_total", operation="update", status="error") == 1
    assert value(text, "queue_messages_total", status="ok") == 1
    assert value(text, "queue_messages_total", status="error") == 1
    assert value(text, "queue_message_duration_seconds_count", queue="orders") == 2
    assert value(text, "cache_requests_total", result="hit") == 2
    assert value(text, "cache_requests_total", result="miss") == 1
    assert value(text, "cost_total", service="ebay-api") == 0.75
    assert value(text, "db_pool_connections", pool="main", state="idle") == 7
