"""Redis: ``PING`` through redis-py's asyncio client (``watchkeeper[redis]``)."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from ...exceptions import HealthCheckConfigError
from .._redact import dsn_secrets, redact

__all__ = ["redis_check"]


def redis_check(url: str = "redis://127.0.0.1:6379/0") -> Callable[[], Awaitable[tuple[bool, str]]]:
    """Pass when ``PING`` answers on a new connection to ``url``."""
    try:
        import redis.asyncio as aioredis
    except ImportError as exc:
        raise HealthCheckConfigError(
            "redis check needs redis-py: pip install 'watchkeeper[redis]'") from exc
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise HealthCheckConfigError(f"redis check: url must be redis://..., got {redact(url)!r}")
    secrets = dsn_secrets(url)
    shown = redact(url, secrets)

    async def redis() -> tuple[bool, str]:
        # One connection, no retries: the runner owns timeout and retry policy.
        client = aioredis.Redis.from_url(url, single_connection_client=True, retry=None)
        try:
            answer = await client.ping()
        except Exception as exc:
            return False, redact(f"{shown}: {type(exc).__name__}: {exc}", secrets)
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()
        return bool(answer), f"{shown}: PING ok" if answer else f"{shown}: PING returned {answer!r}"

    return redis
