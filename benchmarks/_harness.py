"""Shared benchmark plumbing: pinned server processes, wrk runs, medians, tables."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).parent
SRC = HERE.parent / "src"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pin(cpu: int) -> list[str]:
    """``taskset`` prefix pinning a process to one core, when there is more than one."""
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(cpu)]
    return []


@contextmanager
def server(argv: list[str], port: int, env: Mapping[str, str], probe: str,
           cpu: int = 0) -> Iterator[str]:
    environment = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{HERE}", **env}
    process = subprocess.Popen([*pin(cpu), *argv], cwd=HERE, env=environment,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + probe, timeout=1)
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server {argv} did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:  # e.g. still draining a backlog of slow requests
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


@dataclass
class WrkResult:
    requests_per_second: float
    p99_ms: float


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, seconds: float, connections: int = 32, cpu: int = 1) -> WrkResult:
    out = subprocess.run(
        [*pin(cpu), "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
         "--latency", url],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99 is not None, out
    return WrkResult(rps, float(p99.group(1)) * _UNITS[p99.group(2)])


def median(values: list[float]) -> float:
    return statistics.median(values)


def require(binary: str) -> None:
    if shutil.which(binary) is None:
        sys.exit(f"{binary} is not installed (Debian package '{binary}'); cannot run this "
                 "benchmark")


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    sep = "-|-".join("-" * w for w in widths)
    body = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join([line, sep, *body])
