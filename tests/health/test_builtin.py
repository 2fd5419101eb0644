"""Built-in checks against local servers and files; secrets never leak into messages."""

from __future__ import annotations

import asyncio
import os
import shutil
import ssl
import subprocess
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from watchkeeper import health
from watchkeeper.health._lag import LagMonitor
from watchkeeper.health._redact import dsn_secrets, redact

from .helpers import HangingServer, free_port, make_settings


def run_check(func: Callable[[], Any], timeout: float = 2.0) -> health.CheckResult:
    health.add_check("probe", func, timeout=timeout)
    return health.configure(make_settings()).runner.run_now("probe", 10)


@pytest.mark.parametrize(("text", "secret"), [
    ("postgresql://app:hunter22@db:5432/x", "hunter22"),
    ("redis://:pa%40ss@cache:6379/0", "pa%40ss"),
    ("host=db user=app password=hunter22 dbname=x", "hunter22"),
    ("https://u:tok3n@api.example/x?password=q1w2e3", "q1w2e3"),
])
def test_redaction(text: str, secret: str) -> None:
    assert secret not in redact(text)
    assert "***" in redact(text)


def test_driver_error_echoing_password_is_scrubbed() -> None:
    dsn = "postgresql://app:hunter22@db/x"
    assert redact("auth failed for password hunter22", dsn_secrets(dsn)) == (
        "auth failed for password ***")


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        code = 200 if self.path == "/ok" else 503
        payload = b'{"db": "up"}' if code == 200 else b"down"
        self.send_response(code)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture(scope="module")
def http_url() -> Any:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://u:pw-secret@127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http(http_url: str) -> None:
    ok = run_check(health.http_check(f"{http_url}/ok", body_contains='"up"'))
    assert ok.ok
    assert "-> 200" in ok.message
    assert "pw-secret" not in ok.message
    health.reset()
    bad = run_check(health.http_check(f"{http_url}/down"))
    assert not bad.ok
    assert "503" in bad.message
    assert "pw-secret" not in bad.message
    health.reset()
    body = run_check(health.http_check(f"{http_url}/ok", body_contains="nope"))
    assert not body.ok
    assert "does not contain" in body.message


def test_http_hanging_server_times_out(hanging_server: HangingServer) -> None:
    result = run_check(health.http_check(f"http://127.0.0.1:{hanging_server.port}/"), 0.3)
    assert result.message == "timed out after 0.3s"


def test_tcp_and_kafka(hanging_server: HangingServer) -> None:
    closed = free_port()
    assert run_check(health.tcp_check("127.0.0.1", hanging_server.port)).ok
    health.reset()
    refused = run_check(health.tcp_check("127.0.0.1", closed))
    assert not refused.ok
    assert "cannot connect" in refused.message
    health.reset()
    kafka = run_check(health.kafka_check(f"127.0.0.1:{closed},127.0.0.1:{hanging_server.port}"))
    assert kafka.ok
    assert str(hanging_server.port) in kafka.message
    health.reset()
    assert not run_check(health.kafka_check(f"127.0.0.1:{closed}")).ok
    with pytest.raises(health.HealthCheckConfigError, match="host:port"):
        health.kafka_check("broker-without-port")


def test_dns() -> None:
    assert run_check(health.dns_check("localhost")).ok
    health.reset()
    bad = run_check(health.dns_check("no-such-host.invalid"), 5)
    assert not bad.ok
    assert "cannot resolve" in bad.message


def test_disk_memory_file(tmp_path: Path) -> None:
    assert run_check(health.disk_check(str(tmp_path))).ok
    health.reset()
    full = run_check(health.disk_check(str(tmp_path), min_free_percent=100.0))
    assert not full.ok
    assert "free" in full.message
    health.reset()
    assert not run_check(health.memory_check(max_rss_bytes=1)).ok
    health.reset()
    token = tmp_path / "token.json"
    missing = run_check(health.file_check(str(token), writable=True))
    assert not missing.ok
    assert "does not exist" in missing.message
    health.reset()
    token.write_text("{}")
    assert run_check(health.file_check(str(token), writable=True)).ok
    if os.geteuid() != 0:  # root can read anything
        health.reset()
        token.chmod(0)
        assert not run_check(health.file_check(str(token))).ok


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl CLI not installed")
def test_tls_days_to_expiry(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "10",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    port = free_port()
    loop = asyncio.new_event_loop()
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.read()  # until the client hangs up
        writer.close()

    server = loop.run_until_complete(
        asyncio.start_server(handle, "127.0.0.1", port, ssl=context))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        warn = run_check(health.tls_check("127.0.0.1", port, server_hostname="localhost",
                                          cafile=str(cert), warn_days=14, fail_days=3))
        assert warn.status is health.Status.WARN
        assert "expires in 10.0 days" in warn.message
        health.reset()
        fail = run_check(health.tls_check("127.0.0.1", port, server_hostname="localhost",
                                          cafile=str(cert), warn_days=30, fail_days=20))
        assert fail.status is health.Status.FAIL
        health.reset()
        untrusted = run_check(health.tls_check("127.0.0.1", port, server_hostname="localhost"))
        assert not untrusted.ok
        assert "handshake" in untrusted.message
    finally:
        async def shutdown() -> None:
            server.close()
            for writer in writers:
                writer.close()
            await server.wait_closed()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(2)
        loop.close()


async def test_event_loop_lag_monitor() -> None:
    monitor = LagMonitor(period=0.02)
    monitor.attach(asyncio.get_running_loop())
    await asyncio.sleep(0.1)
    assert monitor.lag is not None
    assert monitor.lag < 0.05
    import time

    time.sleep(0.2)  # block the loop on purpose
    assert monitor.lag is not None
    assert monitor.lag >= 0.15
    monitor.detach()


def test_event_loop_lag_check_levels() -> None:
    check = health.event_loop_lag_check(warn=0.1, fail=1.0)
    status, _ = check()
    assert status in (health.Status.PASS, health.Status.WARN, health.Status.FAIL)
    with pytest.raises(health.HealthCheckConfigError):
        health.event_loop_lag_check(warn=2, fail=1)


def test_sqlalchemy_engine(tmp_path: Path) -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'app.db'}")
    try:
        result = run_check(health.sqlalchemy_check(engine))
        assert result.ok
        assert "SELECT 1 -> 1" in result.message
    finally:
        engine.dispose()
    broken = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    health.reset()
    failed = run_check(health.sqlalchemy_check(broken))
    assert not failed.ok
    assert "OperationalError" in failed.message
    broken.dispose()


async def test_sqlalchemy_async_engine_with_postgres(postgres: Any) -> None:
    sqlalchemy_async = pytest.importorskip("sqlalchemy.ext.asyncio", exc_type=ImportError)
    dsn = postgres.dsn.replace("postgresql://", "postgresql+asyncpg://")
    engine = sqlalchemy_async.create_async_engine(dsn)
    try:
        check = health.sqlalchemy_check(engine)
        ok, message = await check()
        assert ok
        assert "***" in message
        assert "s3cr3t" not in message
    finally:
        await engine.dispose()
