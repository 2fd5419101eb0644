"""SQLAlchemy: operation/table from statements, never parameters; pool gauges."""

from __future__ import annotations

from pathlib import Path

import pytest

import watchkeeper
from tests._servers import value
from watchkeeper import _runtime
from watchkeeper.integrations import instrument_sqlalchemy, statement_summary
from watchkeeper.metrics import render_registry


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
