"""The two front doors: the native structured logger and the stdlib bridge handler.

The native logger skips ``LogRecord``, the handler lock and the caller search of stdlib
``logging``; it asks the stdlib logger of the same name only whether the level is
enabled, so levels are configured in one place for both.
"""

from __future__ import annotations

import logging
import sys
from itertools import islice
from typing import Any

from ._pipeline import HTTP, ExcInfo, Pipeline, exc_info_now

__all__ = ["BridgeHandler", "Logger", "get_logger", "state"]


class _State:
    """The installed pipeline; set by ``configure()``, cleared by ``reset()``."""

    __slots__ = ("pipeline",)

    def __init__(self) -> None:
        self.pipeline: Pipeline | None = None


state = _State()

_ExcArg = bool | BaseException | ExcInfo | None


def _exc(arg: _ExcArg) -> ExcInfo | None:
    if arg is None or arg is False:
        return None
    if arg is True:
        return exc_info_now()
    if isinstance(arg, BaseException):
        return type(arg), arg, arg.__traceback__
    return arg


class Logger:
    """A structured logger: ``log.info("paid", order_id=1, amount=9.5)``.

    Keyword arguments become fields of the record; ``exc_info=True`` (or an exception)
    attaches the exception. Records go through the same redaction and sinks as stdlib
    records. Obtain one with :func:`watchkeeper.logs.get_logger`.

    Each level method calls the pipeline itself (the common case: configured, no
    exception): one Python frame less per line than going through ``_write``.
    """

    __slots__ = ("_std", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._std = logging.getLogger(name)

    def is_enabled_for(self, level: int) -> bool:
        return self._std.isEnabledFor(level)

    def log(self, level: int, message: str, /, *, exc_info: _ExcArg = None, **fields: Any) -> None:
        if self._std.isEnabledFor(level):
            self._write(level, message, fields, None if exc_info is None else _exc(exc_info))

    def debug(self, message: str, /, *, exc_info: _ExcArg = None, **fields: Any) -> None:
        if self._std.isEnabledFor(10):
            pipeline = state.pipeline
            if pipeline is None or exc_info is not None:
                self._write(10, message, fields, None if exc_info is None else _exc(exc_info))
                return
            try:
                pipeline._emit(10, self.name, message, fields, None, None,
                               sys._getframe(1) if pipeline.caller else None, None, None, None)
            except Exception:
                pipeline.failed("logs.pipeline")

    def http(self, message: str, /, *, exc_info: _ExcArg = None, **fields: Any) -> None:
        if self._std.isEnabledFor(HTTP):
            pipeline = state.pipeline
            if pipeline is None or exc_info is not None:
                self._write(HTTP, message, fields, None if exc_info is None else _exc(exc_info))
                return
            try:
                pipeline._emit(HTTP, self.name, message, fields, None, None,
                               sys._getframe(1) if pipeline.caller else None, None, None, None)
            except Exception:
                pipeline.failed("logs.pipeline")

    def info(self, message: str, /, *, exc_info: _ExcArg = None, **fields: Any) -> None:
        if self._std.isEnabledFor(20):
            pipeline = state.pipeline
            if pipeline is None or exc_info is not None:
                self._write(20, message, fields, None if exc_info is None else _exc(exc_info))
                return
            try:
                pipeline._emit(20, self.name, message, fields, None, None,
                               sys._getframe(1) if pipeline.caller else None, None, None, None)
            except Exception:
                pipeline.failed("logs.pipeline")

    def warning(self, message: str, /, *, exc_info: _ExcArg = None, **fields: Any) -> None:
        if self._std.isEnabledFor(30):
            pipeline = state.pipeline
            if pipeline is None or exc_info is not None:
                self._write(30, message, fields, None if exc_info is None else _exc(exc_info))
                return
            try:
                pipeline._emit(30, self.name, message, fields, None, None,
                               sys._getframe(1) if pipeline.caller else None, None, None, None)
            except Exception:
                pipeline.failed("logs.pipeline")

    def error(self, message: str, /, *, exc_info: _ExcArg = None, **fields: Any) -> None:
        if self._std.isEnabledFor(40):
            pipeline = state.pipeline
            if pipeline is None or exc_info is not None:
                self._write(40, message, fields, None if exc_info is None else _exc(exc_info))
                return
            try:
                pipeline._emit(40, self.name, message, fields, None, None,
                               sys._getframe(1) if pipeline.caller else None, None, None, None)
            except Exception:
                pipeline.failed("logs.pipeline")

    def exception(self, message: str, /, *, exc_info: _ExcArg = True, **fields: Any) -> None:
        if self._std.isEnabledFor(40):
            self._write(40, message, fields, None if exc_info is None else _exc(exc_info))

    def critical(self, message: str, /, *, exc_info: _ExcArg = None, **fields: Any) -> None:
        if self._std.isEnabledFor(50):
            pipeline = state.pipeline
            if pipeline is None or exc_info is not None:
                self._write(50, message, fields, None if exc_info is None else _exc(exc_info))
                return
            try:
                pipeline._emit(50, self.name, message, fields, None, None,
                               sys._getframe(1) if pipeline.caller else None, None, None, None)
            except Exception:
                pipeline.failed("logs.pipeline")

    def _write(self, level: int, message: str, fields: dict[str, Any],
               exc_info: ExcInfo | None) -> None:
        pipeline = state.pipeline
        if pipeline is None:
            # Not configured: behave like a plain stdlib logger rather than lose the line.
            text = f"{message} {fields}" if fields else message
            self._std.log(level, "%s", text, exc_info=exc_info, stacklevel=3)
            return
        frame = sys._getframe(2) if pipeline.caller else None
        try:
            pipeline._emit(level, self.name, message, fields, None, exc_info, frame, None,
                           None, None)
        except Exception:
            pipeline.failed("logs.pipeline")


_loggers: dict[str, Logger] = {}


def get_logger(name: str | None = None) -> Logger:
    """The structured logger called ``name`` (the caller's module name if omitted)."""
    if name is None:
        name = sys._getframe(1).f_globals.get("__name__", "root")
    logger = _loggers.get(name)
    if logger is None:
        logger = _loggers.setdefault(name, Logger(name))
    return logger


# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__
) | {"message", "asctime", "taskName", "color_message"}
# ``extra=`` keys are set after __init__'s attributes, so they are at the end of __dict__.
_N_STD = len(logging.LogRecord("", 0, "", 0, "", None, None).__dict__)


class BridgeHandler(logging.Handler):
    """Root handler that feeds every stdlib record (the app's and every library's) into
    the pipeline: the formatted message, ``extra=`` fields, exception and origin."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)

    def handle(self, record: logging.LogRecord) -> bool:
        # No handler lock: the pipeline and its sinks are thread-safe on their own, and
        # the lock is a measurable share of the stdlib's per-record cost.
        if self.filters and not self.filter(record):
            return False
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        pipeline = state.pipeline
        if pipeline is None:
            return
        try:
            message = record.getMessage()
        except Exception:
            message = f"{record.msg!r} % {record.args!r} (bad log arguments)"
        attrs = record.__dict__
        fields: dict[str, Any] | None = None
        if len(attrs) > _N_STD:
            fields = {k: attrs[k] for k in islice(attrs, _N_STD, None) if k not in _STD_ATTRS}
        exc = record.exc_info
        exc_info = exc if exc and exc[0] is not None and exc[1] is not None else None
        if exc_info is None and record.exc_text:
            fields = {**(fields or {}), "exc_text": record.exc_text}
        if record.stack_info:
            fields = {**(fields or {}), "stack": record.stack_info}
        try:
            pipeline._emit(
                record.levelno, record.name, message, fields, record.created, exc_info,
                None, (record.module, record.funcName, record.lineno),
                record.msg if isinstance(record.msg, str) else None, record.levelname,
            )
        except Exception:
            pipeline.failed("logs.pipeline")
