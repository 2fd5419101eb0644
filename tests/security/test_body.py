"""Opt-in body inspection: the middleware buffers a capped body for the hooks and the app
still receives every byte (ASGI through uvicorn, WSGI in process)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import watchkeeper
from tests._servers import free_port, serve, uvicorn

APPS = Path(__file__).parent / "apps"


@pytest.mark.slow
def test_asgi_body_inspection_blocks_and_replays_the_body() -> None:
    port = free_port()
    env = {"WATCHKEEPER_SECURITY__MODE": "block", "WATCHKEEPER_SECURITY__INSPECT_BODY": "true",
           "WATCHKEEPER_SECURITY__MAX_BODY_BYTES": "1024"}
    with serve(uvicorn("secure_app:app", port), port, env=env, cwd=APPS) as base, \
            httpx.Client(base_url=base) as client:
        attack = client.post("/echo", json={"comment": "' or 1=1--"})
        assert attack.status_code == 403
        benign = client.post("/echo", json={"comment": "It's great -- really!"})
        assert benign.status_code == 200
        assert benign.json()["head"] == '{"comment":"It\'s gre'
        big = b"x" * 300_000
        assert client.post("/echo", content=big).json()["length"] == 300_000

        def chunks() -> Iterator[bytes]:
            for _ in range(100):
                yield b"y" * 1000

        assert client.post("/echo", content=chunks()).json()["length"] == 100_000
        # beyond the 1 kB budget the body is not inspected, but still delivered
        late = b"a" * 2000 + b"<script>alert(1)</script>"
        assert client.post("/echo", content=late).status_code == 200


def _echo(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("content-type", "text/plain")])
    return [str(len(body)).encode(), b" ", body[:10]]


def _call(app: Any, body: bytes, method: str = "POST") -> tuple[str, bytes]:
    environ = {"REQUEST_METHOD": method, "PATH_INFO": "/echo", "QUERY_STRING": "",
               "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
               "wsgi.url_scheme": "http", "REMOTE_ADDR": "10.0.0.1", "SERVER_NAME": "x",
               "SERVER_PORT": "80"}
    status: list[str] = []
    result = app(environ, lambda s, h, e=None: status.append(s))
    out = b"".join(result)
    getattr(result, "close", lambda: None)()
    return status[0], out


def test_wsgi_body_inspection_blocks_and_replays_the_body() -> None:
    app = watchkeeper.instrument(_echo, security={"mode": "block", "inspect_body": True,
                                                  "max_body_bytes": 64})
    assert _call(app, b"q=%27%20or%201%3D1--")[0].startswith("403")
    status, out = _call(app, b"z" * 1000)
    assert status.startswith("200")
    assert out == b"1000 zzzzzzzzzz"
    status, out = _call(app, b"hello")
    assert out == b"5 hello"
