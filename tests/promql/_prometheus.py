"""Helpers to run a real Prometheus over backfilled data (shared by differential tests)."""

from __future__ import annotations

import math
import random
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

T0 = 1_700_000_000  # seconds; samples sit at T0 + 7.3 s + 15 s * i (never on window edges)
OFFSET = 7.3
STEP = 15


def write_openmetrics(path: Path, n_jobs: int = 3, n_inst: int = 4, hours: float = 2.0,
                      seed: int = 7) -> int:
    """Counters (with one reset), gauges and a classic histogram; returns sample count."""
    rnd = random.Random(seed)
    n = int(hours * 3600 / STEP)
    times = [T0 + OFFSET + STEP * i for i in range(n)]
    lines: list[str] = []
    samples = 0
    lines.append("# TYPE http_requests counter")
    for j in range(n_jobs):
        for k in range(n_inst):
            for code in ("200", "500"):
                v = 0.0
                for i, t in enumerate(times):
                    v += rnd.randint(0, 20) if code == "200" else rnd.randint(0, 2)
                    if j == 0 and k == 0 and code == "200" and i == n // 2:
                        v = 3.0  # counter reset
                    lines.append(f'http_requests_total{{job="j{j}",instance="i{k}",'
                                 f'code="{code}"}} {v} {t:.3f}')
                    samples += 1
    lines.append("# TYPE memory_bytes gauge")
    for j in range(n_jobs):
        for k in range(n_inst):
            for t in times:
                v = 1e6 * (1 + j) + 1e5 * math.sin(t / 600 + k) + rnd.random() * 1000
                lines.append(f'memory_bytes{{job="j{j}",instance="i{k}"}} {v:.6f} {t:.3f}')
                samples += 1
    lines.append("# TYPE db_query_seconds histogram")
    bounds = ["0.01", "0.05", "0.1", "0.5", "1", "+Inf"]
    for table in ("users", "orders"):
        counts = [0.0] * len(bounds)
        total = 0.0
        series: dict[str, list[str]] = {b: [] for b in bounds}
        sums: list[str] = []
        cnts: list[str] = []
        for t in times:
            for _ in range(rnd.randint(0, 30)):
                x = rnd.expovariate(8.0)
                total += x
                for bi, b in enumerate(bounds):
                    if b == "+Inf" or x <= float(b):
                        counts[bi] += 1
            for bi, b in enumerate(bounds):
                series[b].append(f'db_query_seconds_bucket{{table="{table}",le="{b}"}} '
                                 f"{counts[bi]} {t:.3f}")
            sums.append(f'db_query_seconds_sum{{table="{table}"}} {total:.6f} {t:.3f}')
            cnts.append(f'db_query_seconds_count{{table="{table}"}} {counts[-1]} {t:.3f}')
        for b in bounds:
            lines.extend(series[b])
        lines.extend(sums)
        lines.extend(cnts)
        samples += len(times) * (len(bounds) + 2)
    lines.append("# EOF")
    path.write_text("\n".join(lines) + "\n")
    return samples


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def prometheus_over(data: Path, workdir: Path) -> Iterator[str]:
    """Backfill ``data`` with promtool and serve it; yields the base URL."""
    promtool = shutil.which("promtool")
    prom = shutil.which("prometheus")
    assert promtool is not None
    assert prom is not None
    tsdb_dir = workdir / "prom-data"
    tsdb_dir.mkdir()
    subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", str(data),
                    str(tsdb_dir)], check=True, capture_output=True)
    cfg = workdir / "prometheus.yml"
    cfg.write_text("global:\n  scrape_interval: 1h\n")
    port = free_port()
    proc = subprocess.Popen(
        [prom, f"--config.file={cfg}", f"--storage.tsdb.path={tsdb_dir}",
         f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=100y",
         "--query.lookback-delta=5m"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("prometheus did not become ready")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
