"""Structured logging: setup, context (request/trace ids), redaction, formats, sinks,
non-blocking shipping and pattern mining, on top of stdlib ``logging`` so every library's
logs get the same treatment. ``configure()`` is called by ``watchkeeper.init()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._context import (
    ContextThreadPoolExecutor,
    bind,
    bound,
    bound_fields,
    clear_bound,
    request_id,
    set_trace_provider,
    span_id,
    trace_id,
    unbind,
)
from ._file import FileSink
from ._http_sinks import ElasticsearchSink, HttpJsonSink, LokiSink, OtlpLogSink
from ._interop import loguru_sink, merge_context, redact_event, to_pipeline
from ._logger import BridgeHandler, Logger, get_logger
from ._pipeline import HTTP, Entry, Pipeline, Sink
from ._redact import DEFAULT_SENSITIVE_KEYS, REDACTED, Redactor
from ._setup import configure, current_stats, flush, reset, shutdown
from ._shipper import PermanentError, Shipped, Shipper
from ._sinks import MemorySink, StreamSink
from ._socket_sinks import LogstashSink, SyslogSink
from ._testing import CapturedLogs, capture_logs

if TYPE_CHECKING:
    from ..config import Settings
    from ._request import RequestLogHook

__all__ = [
    "DEFAULT_SENSITIVE_KEYS",
    "HTTP",
    "REDACTED",
    "BridgeHandler",
    "CapturedLogs",
    "ContextThreadPoolExecutor",
    "ElasticsearchSink",
    "Entry",
    "FileSink",
    "HttpJsonSink",
    "Logger",
    "LogstashSink",
    "LokiSink",
    "MemorySink",
    "OtlpLogSink",
    "PermanentError",
    "Pipeline",
    "Redactor",
    "Shipped",
    "Shipper",
    "Sink",
    "StreamSink",
    "SyslogSink",
    "bind",
    "bound",
    "bound_fields",
    "capture_logs",
    "clear_bound",
    "configure",
    "flush",
    "get_logger",
    "loguru_sink",
    "merge_context",
    "patterns",
    "redact_event",
    "request_hook",
    "request_id",
    "reset",
    "set_trace_provider",
    "shutdown",
    "span_id",
    "to_pipeline",
    "trace_id",
    "unbind",
]


def patterns(limit: int = 50) -> list[dict[str, Any]]:
    """The most frequent message templates: template, count, first/last seen (epoch
    seconds), level mix and one (redacted) example. Empty when logging is not configured.

    Example:
        >>> for p in patterns(5):
        ...     print(p["count"], p["template"])
    """
    stats = current_stats()
    return stats.patterns(limit) if stats is not None else []


def request_hook(settings: Settings) -> RequestLogHook:
    """The request hook for the ASGI/WSGI middleware: request id in, access line out."""
    from ._request import RequestLogHook
    from ._setup import adopt_library_loggers

    # A server may have configured its own logging after init(); take its loggers back.
    adopt_library_loggers()
    return RequestLogHook(settings.logs)
