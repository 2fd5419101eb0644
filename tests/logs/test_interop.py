from __future__ import annotations

from typing import Any

import pytest

from watchkeeper import logs


def test_structlog_through_the_pipeline(captured: Any) -> None:
    structlog = pytest.importorskip("structlog")
    structlog.configure(
        processors=[structlog.processors.add_log_level, logs.merge_context, logs.to_pipeline],
        logger_factory=structlog.ReturnLoggerFactory(),
    )
    try:
        logs.bind(tenant="acme")
        log = structlog.get_logger("shop")
        log.info("paid", order_id=3, api_key="k-secret-1")
        log.debug("hidden")
    finally:
        structlog.reset_defaults()
    (rec,) = captured.records
    assert rec["message"] == "paid"
    assert rec["level"] == "INFO"
    assert rec["order_id"] == 3
    assert rec["tenant"] == "acme"
    assert rec["api_key"] == "[REDACTED]"


def test_structlog_processors_alone(captured: Any) -> None:
    structlog = pytest.importorskip("structlog")
    structlog.configure(
        processors=[logs.merge_context, logs.redact_event,
                    structlog.processors.JSONRenderer()],
        logger_factory=structlog.ReturnLoggerFactory(),
    )
    try:
        logs.request_id.set("rid-9")
        out = structlog.get_logger().info("x", password="pw", note="Bearer abcdefgh1234")
    finally:
        structlog.reset_defaults()
        logs.request_id.set(None)
    assert '"request_id": "rid-9"' in out
    assert "pw" not in out.replace("password", "")
    assert "abcdefgh1234" not in out


def test_loguru_sink(captured: Any) -> None:
    loguru = pytest.importorskip("loguru")
    logger = loguru.logger
    logger.remove()
    sink_id = logger.add(logs.loguru_sink, level="DEBUG")
    try:
        logger.bind(user="ann", token="t-secret").warning("careful")
        try:
            raise ValueError("bad")
        except ValueError:
            logger.exception("failed")
        logger.success("done")
    finally:
        logger.remove(sink_id)
    warn, failed, done = captured.records
    assert warn["level"] == "WARNING"
    assert warn["user"] == "ann"
    assert warn["token"] == "[REDACTED]"
    assert warn["function"] == "test_loguru_sink"
    assert failed["exception"]["type"] == "ValueError"
    assert done["level"] == "INFO"
