"""Interop: structlog processors and a loguru sink that feed the same pipeline.

structlog users keep their ``structlog.get_logger()`` calls: put
:func:`merge_context` and :func:`redact_event` in their processor chain (same context and
redaction as watchkeeper), or end the chain with :func:`to_pipeline` to get exactly
watchkeeper's output and sinks. loguru users add :func:`loguru_sink`.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

from . import _context
from ._logger import state
from ._pipeline import ExcInfo, exc_info_now

__all__ = ["loguru_sink", "merge_context", "redact_event", "to_pipeline"]

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "warn": 30, "error": 40, "exception": 40,
           "critical": 50, "fatal": 50, "msg": 20, "http": 15}


def merge_context(
    logger: Any, method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: add request/trace ids and ``bind()`` fields (event keys win)."""
    for name, var in (("request_id", _context.request_id), ("trace_id", _context.trace_id),
                      ("span_id", _context.span_id)):
        value = var.get()
        if value is not None:
            event.setdefault(name, value)
    if _context.trace_id.get() is None and _context.providers.trace is not None:
        ids = _context.providers.trace()  # the current span of the tracing stage
        if ids is not None:
            event.setdefault("trace_id", ids[0])
            event.setdefault("span_id", ids[1])
    for key, value in _context.bound_fields().items():
        event.setdefault(key, value)
    return event


def redact_event(
    logger: Any, method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: apply the configured :class:`Redactor` to every key and value."""
    pipeline = state.pipeline
    red = pipeline.redactor if pipeline is not None else None
    if red is None:
        from ._redact import Redactor

        red = Redactor()
    redacted = red.redact_mapping(event)
    event.clear()
    event.update(redacted)
    return event


def to_pipeline(logger: Any, method: str, event: MutableMapping[str, Any]) -> str:
    """Final structlog processor: write the event through watchkeeper, return ``""``.

    Use with a logger factory that ignores empty strings, or raise-drop:
    ``structlog.configure(processors=[..., to_pipeline], logger_factory=...)``.
    """
    import structlog

    pipeline = state.pipeline
    if pipeline is not None:
        fields = dict(event)
        message = str(fields.pop("event", ""))
        level = _LEVELS.get(str(fields.pop("level", method)).lower(), 20)
        exc_info = fields.pop("exc_info", None)
        exc: ExcInfo | None = None
        if exc_info is True:
            exc = exc_info_now()
        elif isinstance(exc_info, BaseException):
            exc = (type(exc_info), exc_info, exc_info.__traceback__)
        elif isinstance(exc_info, tuple) and exc_info and exc_info[0] is not None:
            exc = exc_info
        name = str(fields.pop("logger", getattr(logger, "name", "structlog")))
        if logging.getLogger(name).isEnabledFor(level):
            pipeline.emit(level, name, message, fields,
                          exc_info=exc)
    raise structlog.DropEvent


def loguru_sink(message: Any) -> None:
    """A loguru sink: ``logger.add(watchkeeper.logs.loguru_sink)``.

    loguru's record (level, message, ``extra`` from ``bind()``, exception, origin) becomes
    a watchkeeper record with the same shape as every other line.
    """
    pipeline = state.pipeline
    if pipeline is None:
        return
    record = message.record
    level_no = int(record["level"].no)
    level = {5: 10, 25: 20}.get(level_no, level_no)  # TRACE -> DEBUG, SUCCESS -> INFO
    exc = record.get("exception")
    exc_info = None
    if exc is not None and exc.type is not None and exc.value is not None:
        exc_info = (exc.type, exc.value, exc.traceback)
    pipeline.emit(
        level, str(record["name"]), str(record["message"]), dict(record["extra"]),
        when=record["time"].timestamp(), exc_info=exc_info,
        origin=(str(record["module"]), str(record["function"]), int(record["line"])),
        level_text=None if level_no in (5, 25) else str(record["level"].name),
    )
