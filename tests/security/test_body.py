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
from tests._servers import free_port, gunicorn, serve, uvicorn

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


class Trickle(io.RawIOBase):
    """A terminated ``wsgi.input`` that hands out at most 7 bytes per read, like a
    server decoding small chunks."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return self._data.read()
        return self._data.read(min(size, 7))

    def readline(self, size: int | None = -1) -> bytes:
        return self._data.readline(-1 if size is None else size)


def _call_chunked(app: Any, body: bytes, reader: str = "read") -> tuple[str, bytes]:
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/echo", "QUERY_STRING": "",
               "HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": Trickle(body),
               "wsgi.input_terminated": True, "wsgi.url_scheme": "http",
               "REMOTE_ADDR": "10.0.0.1", "SERVER_NAME": "x", "SERVER_PORT": "80"}

    def inner(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        stream = environ["wsgi.input"]
        data = stream.read() if reader == "read" else b"".join(iter(stream.readline, b""))
        start_response("200 OK", [("content-type", "text/plain")])
        return [str(len(data)).encode(), b" ", data[:10], b" ", data[-5:]]

    wrapped = watchkeeper.instrument(inner, security=app)
    status: list[str] = []
    result = wrapped(environ, lambda s, h, e=None: status.append(s))
    out = b"".join(result)
    getattr(result, "close", lambda: None)()
    return status[0], out


BLOCK_BODY = {"mode": "block", "inspect_body": True, "max_body_bytes": 64}


@pytest.mark.parametrize("reader", ["read", "readline"])
def test_wsgi_chunked_body_is_inspected_and_replayed_whole(reader: str) -> None:
    assert _call_chunked(BLOCK_BODY, b"q=%27%20or%201%3D1--", reader)[0].startswith("403")
    body = b"line one\n" * 50 + b"the end"
    status, out = _call_chunked(BLOCK_BODY, body, reader)
    assert status.startswith("200")
    assert out == f"{len(body)} line one\nl e end".encode()
    status, out = _call_chunked(BLOCK_BODY, b"short", reader)
    assert out == b"5 short short"


def test_wsgi_chunked_body_beyond_the_cap_is_delivered_not_inspected() -> None:
    late = b"a" * 100 + b"<script>alert(1)</script>"
    status, out = _call_chunked(BLOCK_BODY, late)
    assert status.startswith("200")
    assert out.startswith(f"{len(late)} aaaaaaaaaa".encode())


def test_wsgi_chunked_body_untouched_when_inspection_is_off() -> None:
    status, out = _call_chunked({"mode": "block"}, b"q=%27%20or%201%3D1--")
    assert out.startswith(b"20 q=%27%20or")
    assert status.startswith("200")


@pytest.mark.slow
def test_chunked_body_through_gunicorn() -> None:
    port = free_port()
    env = {"WATCHKEEPER_SECURITY__MODE": "block", "WATCHKEEPER_SECURITY__INSPECT_BODY": "true",
           "WATCHKEEPER_SECURITY__MAX_BODY_BYTES": "1024"}

    def chunks(parts: list[bytes]) -> Iterator[bytes]:
        yield from parts

    with serve(gunicorn("secure_wsgi:app", port), port, env=env, cwd=APPS) as base, \
            httpx.Client(base_url=base) as client:
        attack = client.post("/echo", content=chunks([b"comment=%27%20or", b"%201%3D1--"]))
        assert attack.status_code == 403
        big = [b"y" * 1000 for _ in range(100)]
        answer = client.post("/echo", content=chunks(big))
        assert answer.status_code == 200
        assert answer.content == b"100000 yyyyyyyyyy"
        sent = client.post("/echo", content=chunks([b"hello ", b"world"]))
        assert sent.content == b"11 hello worl"
