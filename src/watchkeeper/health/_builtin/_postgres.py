"""PostgreSQL: connect and ``SELECT 1`` with asyncpg, or psycopg (3, async) if that is what
is installed. A fresh connection each run: a probe must see what a new client would."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Awaitable, Callable
from typing import Any

from ...exceptions import HealthCheckConfigError
from .._redact import dsn_secrets, redact

__all__ = ["postgres_check"]


def postgres_check(
    dsn: str, *, driver: str | None = None
) -> Callable[[], Awaitable[tuple[bool, str]]]:
    """Pass when ``SELECT 1`` succeeds on a new connection to ``dsn``.

    Args:
        dsn: ``postgresql://user:password@host:port/db``; the password never appears in
            messages, even inside driver errors.
        driver: ``"asyncpg"`` or ``"psycopg"``; default: whichever is installed.
    """
    if not dsn:
        raise HealthCheckConfigError("postgres check: dsn is required")
    chosen = driver or next(
        (name for name in ("asyncpg", "psycopg") if importlib.util.find_spec(name)), None)
    if chosen not in ("asyncpg", "psycopg"):
        raise HealthCheckConfigError(
            "postgres check needs asyncpg or psycopg: pip install 'watchkeeper[postgres]'"
            if chosen is None else f"postgres check: unknown driver {chosen!r}")
    if importlib.util.find_spec(chosen) is None:
        raise HealthCheckConfigError(f"postgres check: driver {chosen!r} is not installed")
    secrets = dsn_secrets(dsn)
    shown = redact(dsn, secrets)
    query = _asyncpg_select if chosen == "asyncpg" else _psycopg_select

    async def postgres() -> tuple[bool, str]:
        try:
            value = await query(dsn)
        except Exception as exc:
            return False, redact(f"{shown}: {type(exc).__name__}: {exc}", secrets)
        if value != 1:
            return False, f"{shown}: SELECT 1 returned {value!r}"
        return True, f"{shown}: SELECT 1 ok ({chosen})"

    return postgres


async def _asyncpg_select(dsn: str) -> Any:
    asyncpg: Any = importlib.import_module("asyncpg")  # untyped optional dependency
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval("SELECT 1")
    finally:
        await conn.close()


async def _psycopg_select(dsn: str) -> Any:
    psycopg: Any = importlib.import_module("psycopg")
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute("SELECT 1")
        row = await cursor.fetchone()
        return row[0] if row else None
