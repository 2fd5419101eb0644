from __future__ import annotations

from watchkeeper import logs


def test_public_api_is_pinned() -> None:
    assert sorted(logs.__all__) == sorted([
        "DEFAULT_SENSITIVE_KEYS", "HTTP", "REDACTED", "BridgeHandler", "CapturedLogs",
        "ContextThreadPoolExecutor", "ElasticsearchSink", "Entry", "FileSink",
        "HttpJsonSink", "Logger", "LogstashSink", "LokiSink", "MemorySink", "OtlpLogSink",
        "PermanentError", "Pipeline", "Redactor", "Shipped", "Shipper", "Sink", "StreamSink",
        "SyslogSink", "bind", "bound", "bound_fields", "capture_logs", "clear_bound",
        "configure", "flush", "get_logger", "loguru_sink", "merge_context", "patterns",
        "redact_event", "request_hook", "request_id", "reset", "set_trace_provider",
        "shutdown", "span_id",
        "to_pipeline", "trace_id", "unbind",
    ])
    for name in logs.__all__:
        assert hasattr(logs, name), name


def test_capture_logs_helper_without_configure() -> None:
    with logs.capture_logs() as captured:
        logs.get_logger("app").info("paid", order_id=1, password="hunter2")
    (rec,) = captured.find(message="paid")
    assert rec["order_id"] == 1
    assert rec["password"] == "[REDACTED]"
