"""Local capture servers on 127.0.0.1 for the shipping tests."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class CaptureHTTP:
    """Records every POST; ``respond`` decides (status, body) per request."""

    def __init__(self, respond: Callable[[int, bytes], tuple[int, bytes]] | None = None) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.respond = respond or (lambda n, body: (200, b"{}"))
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                outer.requests.append((self.path, dict(self.headers), body))
                status, reply = outer.respond(len(outer.requests), body)
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class CaptureTCP:
    """Collects every byte sent to it."""

    def __init__(self, udp: bool = False) -> None:
        self.data = bytearray()
        self.datagrams: list[bytes] = []
        outer = self

        if udp:
            class UHandler(socketserver.BaseRequestHandler):
                def handle(self) -> None:
                    outer.datagrams.append(self.request[0])

            self.server: socketserver.BaseServer = socketserver.ThreadingUDPServer(
                ("127.0.0.1", 0), UHandler)
        else:
            class THandler(socketserver.BaseRequestHandler):
                def handle(self) -> None:
                    while True:
                        chunk = self.request.recv(65536)
                        if not chunk:
                            return
                        outer.data.extend(chunk)

            srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), THandler)
            srv.daemon_threads = True
            self.server = srv
        self.port = self.server.server_address[1]  # type: ignore[attr-defined]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class HangingServer:
    """Accepts connections and never answers (a stuck receiver)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.conns: list[socket.socket] = []
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
                self.conns.append(conn)
            except OSError:
                continue

    def close(self) -> None:
        self._stop = True
        for conn in self.conns:
            conn.close()
        self.sock.close()


def refused_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
