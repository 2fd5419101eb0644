"""Database CLIENT spans, called from the SQLAlchemy engine events beside the DB metrics.

Named and annotated as OpenTelemetry's database conventions ask (``SELECT users``,
``db.system``, ``db.operation.name``, ``db.collection.name``); the statement text is kept
only with every literal replaced by ``?`` and bound parameters are never read.
"""

from __future__ import annotations

import re
from typing import Any

from ._setup import current

__all__ = ["end_db_span", "sanitize_sql", "start_db_span"]

# Quoted strings, then numbers not part of an identifier (t1, col_2 stay).
_LITERALS = re.compile(r"'(?:[^']|'')*'|(?<![\w$.])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?\b",
                       re.IGNORECASE)
_MAX_TEXT = 2000


def sanitize_sql(statement: str) -> str:
    """The statement with every string and number literal replaced by ``?``."""
    return _LITERALS.sub("?", statement[:_MAX_TEXT])


def start_db_span(system: str, statement: str, operation: str, table: str, *,
                  address: str | None, port: int | None) -> Any:
    """A started CLIENT span for one statement; None when tracing is off."""
    state = current()
    if state is None:
        return None
    from opentelemetry.trace import SpanKind

    summary = f"{operation.upper()} {table}" if table else operation.upper()
    attributes: dict[str, Any] = {
        "db.system": system,
        "db.system.name": system,
        "db.operation.name": operation.upper(),
        "db.query.summary": summary,
        "db.query.text": sanitize_sql(statement),
    }
    if table:
        attributes["db.collection.name"] = table
    if address:
        attributes["server.address"] = address
    if port:
        attributes["server.port"] = port
    return state.tracer.start_span(summary, kind=SpanKind.CLIENT, attributes=attributes)


def end_db_span(span: Any, exc: BaseException | None = None) -> None:
    if span is None:
        return
    if exc is not None and span.is_recording():
        from opentelemetry.trace import Status, StatusCode

        kind = type(exc).__qualname__
        span.record_exception(exc)
        span.set_attribute("error.type", kind)
        span.set_status(Status(StatusCode.ERROR, kind))
    span.end()
