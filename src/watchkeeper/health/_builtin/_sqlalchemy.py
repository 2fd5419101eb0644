"""SQLAlchemy engine check: ``SELECT 1`` through the app's own engine (sync or async)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ...exceptions import HealthCheckConfigError
from .._redact import redact

__all__ = ["sqlalchemy_check"]


def sqlalchemy_check(engine: Any) -> Callable[[], Any]:
    """Pass when ``SELECT 1`` runs on a pooled connection of ``engine``.

    An ``AsyncEngine`` gives an async check; a sync ``Engine`` gives a sync one (run in a
    thread by the runner, so its blocking driver never touches an event loop).
    """
    try:
        from sqlalchemy import text
    except ImportError as exc:
        raise HealthCheckConfigError("sqlalchemy check needs SQLAlchemy installed") from exc
    url = getattr(engine, "url", None)
    if url is None:
        raise HealthCheckConfigError(f"sqlalchemy check: {engine!r} is not an Engine")
    shown = redact(url.render_as_string(hide_password=True))

    if hasattr(engine, "sync_engine"):
        async def sqlalchemy_async() -> tuple[bool, str]:
            try:
                async with engine.connect() as conn:
                    value = (await conn.execute(text("SELECT 1"))).scalar()
            except Exception as exc:
                return False, redact(f"{shown}: {type(exc).__name__}: {exc}")
            return value == 1, f"{shown}: SELECT 1 -> {value!r}"

        checker: Callable[[], Awaitable[tuple[bool, str]]] = sqlalchemy_async
        return checker

    def sqlalchemy_sync() -> tuple[bool, str]:
        try:
            with engine.connect() as conn:
                value = conn.execute(text("SELECT 1")).scalar()
        except Exception as exc:
            return False, redact(f"{shown}: {type(exc).__name__}: {exc}")
        return value == 1, f"{shown}: SELECT 1 -> {value!r}"

    return sqlalchemy_sync
