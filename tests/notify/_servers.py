"""Real local servers for notify tests: HTTP capture server, Alertmanager, uvicorn."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

AM_BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
AMTOOL = shutil.which("amtool")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Captured:
    path: str
    body: Any
    at: float
    headers: dict[str, str]


@dataclass
class CaptureServer:
    """Records every POST; ``status_for[path]`` sets a reply status, ``hang`` paths stall."""

    port: int = 0
    requests: list[Captured] = field(default_factory=list)
    status_for: dict[str, int] = field(default_factory=dict)
    hang: set[str] = field(default_factory=set)
    reply: bytes = b"ok"
    _server: ThreadingHTTPServer | None = None

    def start(self) -> CaptureServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw.decode(errors="replace")
                owner.requests.append(Captured(self.path, body, time.monotonic(),
                                              dict(self.headers)))
                if self.path in owner.hang:
                    time.sleep(5)
                status = owner.status_for.get(self.path, 200)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(owner.reply)))
                    self.end_headers()
                    self.wfile.write(owner.reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (hang tests)

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            # Both sides flush at the same instants: the default backlog of 5 overflows
            # and a dropped SYN costs a one-second TCP retransmit.
            request_queue_size = 128

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def bodies(self, prefix: str) -> list[Captured]:
        return [r for r in self.requests if r.path.startswith(prefix)]


class AlertmanagerProcess:
    """The real Alertmanager binary on 127.0.0.1 with gossip disabled."""

    def __init__(self, config: str, tmp: Path) -> None:
        assert AM_BINARY is not None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cfg = tmp / "am.yml"
        cfg.write_text(config)
        (tmp / "am-data").mkdir(exist_ok=True)
        self.log = open(tmp / "am.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [AM_BINARY, f"--config.file={cfg}", f"--storage.path={tmp / 'am-data'}",
             "--cluster.listen-address=", f"--web.listen-address=127.0.0.1:{self.port}",
             f"--web.external-url={self.url}", "--log.level=debug"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("alertmanager did not become ready")

    def post(self, path: str, data: Any, method: str = "POST") -> Any:
        raw = json.dumps(data).encode() if data is not None else None
        req = urllib.request.Request(self.url + path, data=raw,
                                     method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            body = r.read()
        return json.loads(body) if body.strip() else None

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
