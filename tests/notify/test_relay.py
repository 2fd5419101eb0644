"""The leader's API relay: a request crosses the unix socket whole, a bad message gets a
500 without stopping the server, and an unreachable leader is an OSError (the endpoint's
503), never a hang."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from watchkeeper._http_types import EndpointRequest
from watchkeeper.notify._relay import RelayServer, relay, usable


def _echo(route: str, request: EndpointRequest) -> tuple[int, object]:
    return 201, {"route": route, "method": request.method, "query": dict(request.query),
                 "params": dict(request.path_params), "body": request.body.decode()}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RelayServer]:
    relay_server = RelayServer(tmp_path / "am.sock", _echo)
    relay_server.start()
    yield relay_server
    relay_server.stop()


def test_a_request_crosses_whole(server: RelayServer) -> None:
    request = EndpointRequest(method="POST", path="/alertmanager/api/v2/silence/x",
                              query={"filter": 'a="b"'}, headers={},
                              path_params={"id": "x"}, body="ünï".encode() + b"\x00")
    status, data = relay(server.path, "/silence/{id}", request)
    assert status == 201
    assert data == {"route": "/silence/{id}", "method": "POST", "query": {"filter": 'a="b"'},
                    "params": {"id": "x"}, "body": "ünï\x00"}


def test_a_bad_message_is_answered_and_the_server_keeps_serving(server: RelayServer) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(str(server.path))
        conn.sendall(b"{not json")
        conn.shutdown(socket.SHUT_WR)
        answer = conn.recv(4096)
    assert b'"status":500' in answer
    ok = EndpointRequest(method="GET", path="/", query={}, headers={})
    assert relay(server.path, "/status", ok)[0] == 201


def test_no_leader_is_an_os_error(tmp_path: Path) -> None:
    request = EndpointRequest(method="GET", path="/", query={}, headers={})
    with pytest.raises(OSError, match=r"No such file|Connection refused"):
        relay(tmp_path / "missing.sock", "/status", request, timeout=2.0)


def test_stop_removes_the_socket(tmp_path: Path) -> None:
    relay_server = RelayServer(tmp_path / "am.sock", _echo)
    relay_server.start()
    relay_server.stop()
    assert not (tmp_path / "am.sock").exists()


def test_overlong_paths_are_not_used(tmp_path: Path) -> None:
    assert usable(tmp_path / "am.sock")
    assert not usable(tmp_path / ("d" * 120) / "am.sock")
