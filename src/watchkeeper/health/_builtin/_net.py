"""TCP connect, DNS resolve and Kafka bootstrap reachability: no client library needed."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Awaitable, Callable

from ...exceptions import HealthCheckConfigError

__all__ = ["dns_check", "kafka_check", "tcp_check"]

AsyncCheck = Callable[[], Awaitable[tuple[bool, str]]]


def _port(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise HealthCheckConfigError(f"{where}: port must be an integer 1..65535, got {value!r}")
    return value


async def _connect(host: str, port: int) -> float:
    start = time.monotonic()
    _, writer = await asyncio.open_connection(host, port)
    elapsed = time.monotonic() - start
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return elapsed


def tcp_check(host: str, port: int) -> AsyncCheck:
    """Pass when a TCP connection to ``host:port`` opens."""
    if not host:
        raise HealthCheckConfigError("tcp check: host is required")
    port = _port(port, "tcp check")

    async def tcp() -> tuple[bool, str]:
        try:
            elapsed = await _connect(host, port)
        except OSError as exc:
            return False, f"cannot connect to {host}:{port}: {exc.strerror or exc}"
        return True, f"connected to {host}:{port} in {elapsed * 1000:.1f} ms"

    return tcp


def dns_check(hostname: str, port: int | None = None) -> AsyncCheck:
    """Pass when ``hostname`` resolves (through the loop's resolver, off the loop thread)."""
    if not hostname:
        raise HealthCheckConfigError("dns check: hostname is required")

    async def dns() -> tuple[bool, str]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            return False, f"cannot resolve {hostname}: {exc.strerror or exc}"
        addresses = sorted({str(info[4][0]) for info in infos})
        return True, f"{hostname} -> {', '.join(addresses[:5])}"

    return dns


def kafka_check(bootstrap_servers: str | list[str]) -> AsyncCheck:
    """Pass when at least one Kafka bootstrap server accepts a TCP connection (the broker
    protocol is not spoken: reachability is what a probe can honestly check cheaply)."""
    servers = ([s.strip() for s in bootstrap_servers.split(",") if s.strip()]
               if isinstance(bootstrap_servers, str) else list(bootstrap_servers))
    if not servers:
        raise HealthCheckConfigError("kafka check: bootstrap_servers is empty")
    targets: list[tuple[str, int]] = []
    for server in servers:
        host, sep, port = server.rpartition(":")
        if not sep or not port.isdigit():
            raise HealthCheckConfigError(
                f"kafka check: bootstrap server {server!r} must be host:port")
        targets.append((host.strip("[]"), _port(int(port), "kafka check")))

    async def kafka() -> tuple[bool, str]:
        errors = []
        for host, port in targets:
            try:
                await _connect(host, port)
            except OSError as exc:
                errors.append(f"{host}:{port}: {exc.strerror or exc}")
                continue
            return True, f"bootstrap server {host}:{port} reachable"
        return False, "no bootstrap server reachable (" + "; ".join(errors) + ")"

    return kafka
