"""Shipping sinks over plain sockets: Logstash TCP JSON lines, and syslog (RFC 5424)."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Sequence
from typing import Any

from ._shipper import Shipped, Shipper

__all__ = ["LogstashSink", "SyslogSink", "rfc5424"]


class _SocketShipper(Shipper):
    def __init__(self, name: str, *, timeout: float = 5.0, **kwargs: Any) -> None:
        self.timeout = timeout
        self._sock: socket.socket | None = None
        super().__init__(name, **kwargs)

    def connect(self) -> socket.socket:
        raise NotImplementedError

    def _socket(self) -> socket.socket:
        if self._sock is None:
            self._sock = self.connect()
        return self._sock

    def _sendall(self, data: bytes) -> None:
        sock = self._socket()
        try:
            sock.sendall(data)
        except OSError:
            self.shutdown()
            raise

    def shutdown(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None


class LogstashSink(_SocketShipper):
    """JSON lines over TCP (Logstash ``tcp`` input, ``json_lines`` codec; Vector; Fluent Bit)."""

    def __init__(self, host: str, port: int, *, name: str = "logstash", **kwargs: Any) -> None:
        self.host, self.port = host, port
        super().__init__(name, **kwargs)

    def connect(self) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout=self.timeout)

    def send(self, batch: Sequence[Shipped]) -> None:
        self._sendall(b"".join(e.line for e in batch))


_FACILITIES = {"kern": 0, "user": 1, "daemon": 3, "auth": 4, "syslog": 5, "local0": 16,
               "local1": 17, "local2": 18, "local3": 19, "local4": 20, "local5": 21,
               "local6": 22, "local7": 23}


def _severity(level: int) -> int:
    if level >= 50:
        return 2
    if level >= 40:
        return 3
    if level >= 30:
        return 4
    if level >= 20:
        return 6
    return 7


def _token(text: str, limit: int) -> str:
    # PRINTUSASCII without spaces, or NILVALUE.
    cleaned = "".join(c for c in text if 33 <= ord(c) <= 126)[:limit]
    return cleaned or "-"


def rfc5424(entry: Shipped, *, facility: int, hostname: str, app_name: str, procid: str) -> bytes:
    """One RFC 5424 message: ``<PRI>1 TIMESTAMP HOST APP PROCID MSGID - BOM MSG``.

    The MSG is the JSON record, so receivers that understand JSON get every field.
    """
    pri = facility * 8 + _severity(entry.level)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(entry.time))
    stamp += f".{int((entry.time % 1) * 1_000_000):06d}Z"
    msgid = _token(str(entry.record.get("logger", "-")), 32)
    header = f"<{pri}>1 {stamp} {hostname} {app_name} {procid} {msgid} -"
    return header.encode("ascii") + b" \xef\xbb\xbf" + entry.line.rstrip(b"\n")


class SyslogSink(_SocketShipper):
    """RFC 5424 syslog over UDP, TCP (octet-counting framing, RFC 6587) or a unix socket."""

    def __init__(self, address: str | tuple[str, int] = "/dev/log", *,
                 transport: str = "udp", facility: str = "user", app_name: str = "app",
                 name: str = "syslog", **kwargs: Any) -> None:
        if transport not in ("udp", "tcp", "unix"):
            raise ValueError(f"syslog transport must be udp, tcp or unix, not {transport!r}")
        if facility not in _FACILITIES:
            raise ValueError(f"unknown syslog facility {facility!r}")
        self.address = address
        self.transport = transport
        self.facility = _FACILITIES[facility]
        self.app_name = _token(app_name, 48)
        self.hostname = _token(socket.gethostname(), 255)
        super().__init__(name, **kwargs)

    def connect(self) -> socket.socket:
        if self.transport == "tcp":
            assert isinstance(self.address, tuple)
            return socket.create_connection(self.address, timeout=self.timeout)
        if self.transport == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.settimeout(self.timeout)
            sock.connect(str(self.address))
            return sock
        assert isinstance(self.address, tuple)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(self.timeout)
        sock.connect(self.address)
        return sock

    def send(self, batch: Sequence[Shipped]) -> None:
        procid = str(os.getpid())
        messages = [rfc5424(e, facility=self.facility, hostname=self.hostname,
                            app_name=self.app_name, procid=procid) for e in batch]
        if self.transport == "tcp":
            self._sendall(b"".join(str(len(m)).encode() + b" " + m for m in messages))
        else:
            for message in messages:
                self._sendall(message)
