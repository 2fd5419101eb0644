from __future__ import annotations

import logging
from typing import Any

import pytest

from watchkeeper import logs
from watchkeeper.logs._patterns import LogStats, metrics_refresher


def test_drain3_mines_templates(captured: Any) -> None:
    pytest.importorskip("drain3")
    log = logs.get_logger("app")
    for i in range(50):
        log.info(f"user {i} logged in from 10.0.0.{i}")
    for i in range(20):
        log.error(f"payment {i} failed: card declined")
    logging.getLogger("lib").warning("retrying %s in %d s", "job", 5)
    found = logs.patterns(10)
    assert found[0]["template"] == "user <*> logged in from <*>"
    assert found[0]["count"] == 50
    assert found[0]["levels"] == {"INFO": 50}
    assert found[0]["first_seen"] <= found[0]["last_seen"]
    assert found[0]["example"].startswith("user ")
    payment = next(p for p in found if p["template"].startswith("payment"))
    assert payment["count"] == 20
    assert payment["levels"] == {"ERROR": 20}
    # stdlib records are mined from their format string
    assert any(p["template"] == "retrying %s in %d s" for p in found)


def test_examples_are_redacted(captured: Any) -> None:
    logs.get_logger("app").info("login with password=hunter2xyz ok")
    text = str(logs.patterns())
    assert "hunter2xyz" not in text


def test_exact_engine_without_drain3_and_bounded_memory() -> None:
    stats = LogStats(engine="exact", max_clusters=3, mine=True, interval=60)
    for i in range(10):
        stats.observe(20, f"message {i % 5}", float(i))
    found = stats.patterns()
    stats.stop()
    assert len(found) == 3
    assert stats.unmined == 4
    assert stats.engine == "exact"


def test_message_counts_and_error_ratio(registry: Any) -> None:
    stats = LogStats(mine=False)
    refresh = metrics_refresher(stats, registry)
    for level in (20, 20, 20, 40):
        stats.observe(level, "m", 0.0)
    refresh()
    total = registry.families["watchkeeper_log_messages_total"]
    assert total.children[("INFO",)].value == 3
    assert total.children[("ERROR",)].value == 1
    assert registry.families["watchkeeper_log_error_ratio"].children[()].value == 0.25
    stats.observe(20, "m", 0.0)
    refresh()
    assert total.children[("INFO",)].value == 4
    assert registry.families["watchkeeper_log_error_ratio"].children[()].value == 0.0


def test_configure_registers_the_refresher(captured: Any, registry: Any) -> None:
    logs.get_logger("app").warning("w")
    registry.refresh()
    total = registry.families["watchkeeper_log_messages_total"]
    assert total.children[("WARNING",)].value == 1
