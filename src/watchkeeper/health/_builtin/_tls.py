"""TLS certificate days-to-expiry of a live endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Awaitable, Callable

from ...exceptions import HealthCheckConfigError
from .._result import Status

__all__ = ["tls_check"]


def tls_check(host: str, port: int = 443, *, warn_days: float = 14, fail_days: float = 3,
              server_hostname: str | None = None,
              cafile: str | None = None) -> Callable[[], Awaitable[tuple[Status, str]]]:
    """Warn when the served certificate expires within ``warn_days``, fail within
    ``fail_days`` or when the handshake fails (the chain is verified)."""
    if not host:
        raise HealthCheckConfigError("tls check: host is required")
    if fail_days > warn_days:
        raise HealthCheckConfigError("tls check: fail_days must not exceed warn_days")
    name = server_hostname or host

    async def tls() -> tuple[Status, str]:
        context = ssl.create_default_context(cafile=cafile)
        try:
            _, writer = await asyncio.open_connection(host, port, ssl=context,
                                                      server_hostname=name)
        except (OSError, ssl.SSLError) as exc:
            return Status.FAIL, f"TLS handshake with {host}:{port} failed: {exc}"
        try:
            cert = writer.get_extra_info("peercert") or {}
        finally:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()
        not_after = cert.get("notAfter")
        if not isinstance(not_after, str):
            return Status.FAIL, f"{host}:{port} presented no certificate expiry"
        days = (ssl.cert_time_to_seconds(not_after) - time.time()) / 86400
        text = f"{name} certificate expires in {days:.1f} days ({not_after})"
        if days < fail_days:
            return Status.FAIL, text
        if days < warn_days:
            return Status.WARN, text
        return Status.PASS, text

    return tls
