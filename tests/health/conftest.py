"""Fixtures for the health tests: clean global state, real servers on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from watchkeeper import health

from .helpers import HangingServer, free_port


@pytest.fixture(autouse=True)
def _clean_health() -> Iterator[None]:
    health.reset()
    yield
    health.reset()


@pytest.fixture
def hanging_server() -> Iterator[HangingServer]:
    server = HangingServer()
    yield server
    server.close()


# -- real PostgreSQL -----------------------------------------------------------------------
PG_PASSWORD = "s3cr3t-Pw!9"


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (base / name).exists():
            return str(base / name)
    return None


@dataclass
class Postgres:
    datadir: Path
    port: int
    pg_ctl: str

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres:{PG_PASSWORD}@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *args: str) -> None:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self._as_postgres(self.pg_ctl, "-D", str(self.datadir), "-l",
                          str(self.datadir / "log"), "-w", "-o",
                          f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1",
                          "start")

    def stop(self) -> None:
        self._as_postgres(self.pg_ctl, "-D", str(self.datadir), "-m", "immediate", "-w",
                          "stop")


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        pytest.skip("asyncpg not installed (pip install 'watchkeeper[postgres]')")
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server")
    root = Path(tempfile.mkdtemp(prefix="wk-pg-"))
    datadir = root / "data"
    pwfile = root / "pw"
    pwfile.write_text(PG_PASSWORD + "\n")
    if os.geteuid() == 0:
        os.chown(root, owner.pw_uid, owner.pw_gid)
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)
    server = Postgres(datadir, free_port(), pg_ctl)
    server._as_postgres(initdb, "-D", str(datadir), "-U", "postgres", f"--pwfile={pwfile}",
                        "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8")
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


# -- real Redis --------------------------------------------------------------------------
REDIS_PASSWORD = "r3dis-Secret"


@dataclass
class Redis:
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://:{REDIS_PASSWORD}@127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--requirepass", REDIS_PASSWORD],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), 0.2):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Redis]:
    if not shutil.which("redis-server"):
        pytest.skip("redis-server not installed (apt-get install redis-server)")
    try:
        import redis  # noqa: F401
    except ImportError:
        pytest.skip("redis-py not installed (pip install 'watchkeeper[redis]')")
    server = Redis(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
