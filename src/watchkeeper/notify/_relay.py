"""The Alertmanager API of a pre-fork server's leader, reachable from its other workers.

Only the elected worker runs the Alertmanager, but a request for ``/alertmanager/api/v2``
lands on whichever worker accepted the connection. The leader listens on a unix socket in
the workers' shared directory; the others hand it the request (one JSON message per
connection) and answer with what it returns. The socket lives in the server's private
directory (mode 0700), like the metric shards.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import socket
import socketserver
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from .._http_types import EndpointRequest

__all__ = ["RelayServer", "relay"]

_log = logging.getLogger("watchkeeper.notify")
_MAX_MESSAGE = 2 << 20  # a 1 MiB body, base64, plus the envelope
_SUN_PATH_MAX = 100

View = tuple[int, Any]
Runner = Callable[[str, EndpointRequest], View]
"""Answers (route template, request) on the leader: the API views on its event loop."""


def usable(path: Path) -> bool:
    """Whether ``path`` fits in a unix socket address."""
    return len(os.fsencode(path)) <= _SUN_PATH_MAX


class RelayServer:
    """Serves ``run`` on a unix socket at ``path`` until :meth:`stop`."""

    def __init__(self, path: Path, run: Runner) -> None:
        self.path = path
        self._run = run
        self._server: socketserver.ThreadingUnixStreamServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        run = self._run

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                try:
                    message = orjson.loads(_read_all(self.connection))
                    request = EndpointRequest(
                        method=message["method"], path=message["path"],
                        query=message["query"], headers={},
                        path_params=message["path_params"],
                        body=base64.b64decode(message["body"]))
                    status, data = run(message["route"], request)
                    answer = {"status": status, "data": data}
                except Exception as exc:  # a bad message must not take the server down
                    _log.exception("Alertmanager relay request failed")
                    answer = {"status": 500, "data": f"relay failed: {exc}"}
                self.connection.sendall(orjson.dumps(answer))

        # Only the elected worker gets here (it holds the election flock), so a socket
        # file left by a dead leader can go.
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        server = socketserver.ThreadingUnixStreamServer(str(self.path), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True,
                                        name="watchkeeper-alertmanager-relay")
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._server = None


def relay(path: Path, route: str, request: EndpointRequest, timeout: float = 30.0) -> View:
    """The leader's answer to ``request`` (OSError when it cannot be reached)."""
    message = orjson.dumps({
        "route": route, "method": request.method, "path": request.path,
        "query": dict(request.query), "path_params": dict(request.path_params),
        "body": base64.b64encode(request.body).decode("ascii"),
    })
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        conn.connect(str(path))
        conn.sendall(message)
        conn.shutdown(socket.SHUT_WR)
        answer = orjson.loads(_read_all(conn))
    return int(answer["status"]), answer["data"]


def _read_all(conn: socket.socket) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := conn.recv(1 << 16):
        chunks.append(chunk)
        size += len(chunk)
        if size > _MAX_MESSAGE:
            raise ValueError("relay message too large")
    return b"".join(chunks)
