"""SQLAlchemy: operation/table from statements, never parameters; pool gauges."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import watchkeeper
from tests._servers import value
from watchkeeper import _runtime, traces
from watchkeeper.integrations import instrument_sqlalchemy, statement_summary
from watchkeeper.metrics import render_registry
from watchkeeper.traces._db import sanitize_sql


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT * FROM users WHERE id = ?", ("select", "users")),
    ("select a from \"Orders\" o join items i on 1=1", ("select", "orders")),
    ("INSERT INTO audit.events (a) VALUES (?)", ("insert", "audit.events")),
    ("UPDATE accounts SET balance = 0", ("update", "accounts")),
    ("DELETE FROM sessions", ("delete", "sessions")),
    ("  \n  CREATE TABLE t (x int)", ("create", "t")),
    ("PRAGMA foreign_keys", ("other", "")),
])
def test_statement_summary(sql: str, expected: tuple[str, str]) -> None:
    assert statement_summary(sql) == expected


def test_engine_events_record_operations_and_errors(tmp_path: Path) -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    watchkeeper.init()
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}",
                                      poolclass=sqlalchemy.pool.QueuePool)
    instrument_sqlalchemy(engine, pool_name="main")
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("CREATE TABLE users (id int, secret text)"))
        conn.execute(sqlalchemy.text("INSERT INTO users VALUES (1, 'hunter2')"))
        conn.execute(sqlalchemy.text("SELECT * FROM users WHERE secret = :s"), {"s": "hunter2"})
        with pytest.raises(sqlalchemy.exc.OperationalError):
            conn.execute(sqlalchemy.text("SELECT * FROM missing_table"))
    text = render_registry(_runtime.registry())
    assert value(text, "db_operations_total", operation="select", table="users",
                 status="ok", system="sqlite") == 1
    assert value(text, "db_operations_total", operation="select", table="missing_table",
                 status="error") == 1
    assert value(text, "db_operations_total", operation="insert", table="users") == 1
    assert "hunter2" not in text
    assert value(text, "db_pool_connections", pool="main", state="checked_out") is not None


def _db_spans() -> list[Any]:
    return [s for s in traces.finished_spans() if "db.system" in (s.attributes or {})]


def test_a_span_per_statement_without_values(tmp_path: Path) -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    watchkeeper.init(traces={"exporters": ["memory"]})
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    instrument_sqlalchemy(engine)
    with watchkeeper.span("job") as job, engine.begin() as conn:
        conn.execute(sqlalchemy.text("CREATE TABLE users (id int, secret text)"))
        conn.execute(sqlalchemy.text("INSERT INTO users VALUES (42, 'hunter2')"))
        conn.execute(sqlalchemy.text("SELECT * FROM users WHERE secret = :s"), {"s": "pw-9"})
        with pytest.raises(sqlalchemy.exc.OperationalError):
            conn.execute(sqlalchemy.text("SELECT * FROM missing_table"))
    spans = {s.name: s for s in _db_spans()}
    assert set(spans) == {"CREATE users", "INSERT users", "SELECT users",
                          "SELECT missing_table"}
    select = spans["SELECT users"]
    assert select.kind.name == "CLIENT"
    assert select.parent is not None
    assert select.parent.span_id == job.get_span_context().span_id
    assert select.attributes["db.system"] == "sqlite"
    assert select.attributes["db.operation.name"] == "SELECT"
    assert select.attributes["db.collection.name"] == "users"
    assert select.attributes["db.query.summary"] == "SELECT users"
    assert spans["INSERT users"].attributes["db.query.text"] == \
        "INSERT INTO users VALUES (?, ?)"
    failed = spans["SELECT missing_table"]
    assert failed.status.status_code.name == "ERROR"
    assert failed.attributes["error.type"] == "OperationalError"
    exported = repr([dict(s.attributes or {}) for s in spans.values()])
    assert "hunter2" not in exported
    assert "pw-9" not in exported
    assert "42" not in exported


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT * FROM t1 WHERE a = 'it''s' AND b = -3.5e2", "SELECT * FROM t1 WHERE a = ? AND b = ?"),
    ("UPDATE col_2 SET x = 7 WHERE id IN (1, 2)", "UPDATE col_2 SET x = ? WHERE id IN (?, ?)"),
    ("SELECT $1, :name", "SELECT $1, :name"),
])
def test_sanitize_sql(sql: str, expected: str) -> None:
    assert sanitize_sql(sql) == expected


async def test_postgres_spans_carry_server_address(postgres: Any) -> None:
    pytest.importorskip("sqlalchemy")
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    watchkeeper.init(traces={"exporters": ["memory"]})
    dsn = postgres.dsn.replace("postgresql://", "postgresql+asyncpg://")
    engine = create_async_engine(dsn)
    instrument_sqlalchemy(engine)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TEMP TABLE orders (id int, note text)"))
            await conn.execute(text("INSERT INTO orders VALUES (7, 'card 4111')"))
            await conn.execute(text("SELECT note FROM orders WHERE id = :i"), {"i": 7})
    finally:
        await engine.dispose()
    spans = {s.name: s for s in _db_spans()}
    select = spans["SELECT orders"]
    assert select.attributes["db.system"] == "postgresql"
    assert select.attributes["server.address"] == "127.0.0.1"
    assert select.attributes["server.port"] == postgres.port
    assert spans["INSERT orders"].attributes["db.query.text"] == \
        "INSERT INTO orders VALUES (?, ?)"
    assert "4111" not in repr([dict(s.attributes or {}) for s in spans.values()])
