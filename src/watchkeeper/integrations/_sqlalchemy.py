"""SQLAlchemy: database operation metrics and spans from engine events, table from the
statement.

The operation and table are read from the SQL text with one cheap regex; parameters are
never looked at.
"""

from __future__ import annotations

import re
from time import perf_counter
from typing import Any

from ..metrics import db_pool_status, record_db_operation
from ..traces._db import end_db_span, start_db_span

__all__ = ["instrument_sqlalchemy", "statement_summary"]

_STATEMENT = re.compile(
    r"^\s*(?:WITH\b.*?\)\s*)?(?P<op>SELECT|INSERT|UPDATE|DELETE|MERGE|CREATE|DROP|ALTER|"
    r"TRUNCATE|BEGIN|COMMIT|ROLLBACK)\b"
    r"(?:.*?\b(?:FROM|INTO|UPDATE|TABLE|JOIN)\s+(?P<table>[\"`\[]?[\w.]+[\"`\]]?))?",
    re.IGNORECASE | re.DOTALL,
)
_START_KEY = "_watchkeeper_start"


def statement_summary(statement: str) -> tuple[str, str]:
    """(operation, table) of a SQL statement, lower-case; ``("other", "")`` if unknown."""
    match = _STATEMENT.match(statement[:2000])
    if match is None:
        return "other", ""
    operation = match.group("op").lower()
    table = (match.group("table") or "").strip("\"`[]").lower()
    if operation == "update" and not table:
        rest = statement[match.end("op"):].split(None, 1)
        table = rest[0].strip("\"`[]").lower() if rest else ""
    return operation, table


def instrument_sqlalchemy(engine: Any, *, pool_name: str | None = None) -> None:
    """Listen to ``engine``'s cursor events (sync or async engine) and report its pool."""
    from sqlalchemy import event

    sync_engine = getattr(engine, "sync_engine", engine)
    system = sync_engine.dialect.name
    name = pool_name or sync_engine.url.database or system
    address, port = sync_engine.url.host, sync_engine.url.port

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        operation, table = statement_summary(statement)
        span = start_db_span(system, statement, operation, table,
                             address=address, port=port)
        conn.info.setdefault(_START_KEY, []).append((perf_counter(), operation, table, span))

    @event.listens_for(sync_engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        starts = conn.info.get(_START_KEY)
        if not starts:
            return
        started, operation, table, span = starts.pop()
        record_db_operation(operation, table, perf_counter() - started, "ok", system)
        end_db_span(span)

    @event.listens_for(sync_engine, "handle_error")
    def _error(context: Any) -> None:
        starts = context.connection.info.get(_START_KEY) if context.connection else None
        if not starts:
            return
        started, operation, table, span = starts.pop()
        record_db_operation(operation, table, perf_counter() - started, "error", system)
        end_db_span(span, context.original_exception)

    pool = sync_engine.pool

    def report_pool(*_: Any) -> None:
        size = getattr(pool, "size", None)
        checked_out = getattr(pool, "checkedout", None)
        if callable(size) and callable(checked_out):
            overflow = getattr(pool, "overflow", lambda: 0)()
            db_pool_status(name, size=size(), checked_out=checked_out(),
                           overflow=max(0, overflow))

    event.listen(pool, "checkout", report_pool)
    event.listen(pool, "checkin", report_pool)
