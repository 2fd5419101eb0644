"""Helpers shared by the health tests."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

from watchkeeper._http_types import EndpointRequest, EndpointResponse
from watchkeeper.config import Settings, load_settings


def make_settings(**health_settings: object) -> Settings:
    return load_settings(environ={}, health=health_settings)


async def call(endpoint: object, path: str = "/", *, query: dict[str, str] | None = None,
               headers: dict[str, str] | None = None,
               params: dict[str, str] | None = None) -> EndpointResponse:
    request = EndpointRequest("GET", path, query or {}, headers or {}, params or {})
    result = endpoint(request)  # type: ignore[operator]
    if asyncio.iscoroutine(result):
        result = await result
    assert isinstance(result, EndpointResponse)
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HangingServer:
    """Accepts TCP connections and never sends a byte."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port = int(self.sock.getsockname()[1])
        self.connections: list[socket.socket] = []
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            self.connections.append(conn)

    def open_connections(self) -> int:
        """Connections the client side has not closed yet (what they sent is discarded)."""
        alive = 0
        for conn in self.connections:
            conn.setblocking(False)
            try:
                while conn.recv(65536):
                    pass
            except BlockingIOError:
                alive += 1  # nothing more to read and no FIN: still open
            except OSError:
                pass
        return alive

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1)
        for conn in self.connections:
            conn.close()
        self.sock.close()


async def get(port: int, path: str) -> tuple[int, float]:
    """One raw HTTP/1.1 GET (new connection): (status, seconds). Light enough that 200 at
    once measure the server, not the client."""
    start = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n".encode())
    data = await reader.read()
    writer.close()
    return int(data.split(b" ", 2)[1]), time.monotonic() - start
