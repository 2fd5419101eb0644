"""/health/live latency under load while every health check hangs, against a bare route.

One uvicorn process (pinned to CPU 0) serves a FastAPI app instrumented with watchkeeper.
Its checks misbehave continuously: an HTTP dependency that accepts and never answers, a
sync check stuck in its thread, and an ``async def`` check that blocks the health loop
with ``time.sleep``. wrk (pinned to CPU 1) then loads ``/bare`` (a plain FastAPI route) and
``/health/live`` alternately, in the same run, and the p50/p99 of each are compared.

Run:  PYTHONPATH=src python benchmarks/health_live_latency.py [--seconds 10] [--rounds 2]
Needs: wrk (Debian package ``wrk``), uvicorn, fastapi, httpx.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"


def _register_hanging_checks() -> None:
    from watchkeeper import health

    health.add_check("dependency", health.http_check(os.environ["WK_HANG_URL"]),
                     timeout=2.0, interval=0.5)

    @health.check("stuck_thread", timeout=0.5, interval=0.5)
    def stuck_thread() -> bool:
        threading.Event().wait()  # never returns
        return True

    @health.check("blocks_its_loop", timeout=0.5, interval=0.5)
    async def blocks_its_loop() -> bool:
        time.sleep(0.3)  # the classic mistake: sync I/O inside async def
        return True


if os.environ.get("WK_BENCH_APP"):  # imported by uvicorn in the server process
    from fastapi import FastAPI
    from fastapi.responses import PlainTextResponse

    import watchkeeper

    watchkeeper.init(service={"name": "bench"})
    if os.environ.get("WK_BENCH_CHECKS") != "0":
        _register_hanging_checks()
    app = FastAPI()

    @app.get("/bare")
    async def bare() -> PlainTextResponse:
        return PlainTextResponse("ok")

    watchkeeper.instrument(app)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Hang:
    """Accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=512)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _wrk(url: str, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
         url], capture_output=True, text=True, check=True).stdout
    found: dict[str, float] = {}
    for pct in ("50", "99"):
        match = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert match, out
        found[f"p{pct}_ms"] = float(match.group(1)) * _UNITS[match.group(2)]
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    found["rps"] = float(rps.group(1)) if rps else 0.0
    found["non_2xx"] = float(non2xx.group(1)) if non2xx else 0.0
    return found


def _handler_only(hang_url: str, calls: int = 20_000) -> tuple[float, float]:
    """p50/p99 (ms) of the /health/live handler itself, called on an event loop in this
    process while the same hanging checks run: our code's cost without the server's."""
    import asyncio

    os.environ["WK_HANG_URL"] = hang_url
    sys.path.insert(0, str(SRC))
    from watchkeeper import health
    from watchkeeper._http_types import EndpointRequest
    from watchkeeper.config import load_settings

    settings = load_settings(environ={})
    _register_hanging_checks()
    health.configure(settings)
    live = health.endpoints(settings)[settings.health.live_path]
    request = EndpointRequest("GET", "/health/live", {}, {})

    async def run() -> list[float]:
        await asyncio.sleep(1.0)  # let the checks start hanging
        timings = []
        for _ in range(calls):
            start = time.perf_counter()
            await live(request)  # type: ignore[misc]
            timings.append((time.perf_counter() - start) * 1000)
        return timings

    timings = sorted(asyncio.run(run()))
    health.reset()
    return timings[len(timings) // 2], timings[int(len(timings) * 0.99)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--no-checks", action="store_true",
                        help="control run: register no checks at all")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, nargs="+", default=[4, 32],
                        help="wrk concurrency levels (latency includes queueing: ~c/throughput)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    hang = _Hang()
    handler_p50, handler_p99 = _handler_only(f"http://127.0.0.1:{hang.port}/")
    port = _free_port()
    env = {**os.environ, "WK_BENCH_APP": "1", "WK_HANG_URL": f"http://127.0.0.1:{hang.port}/",
           "PYTHONPATH": f"{SRC}{os.pathsep}{HERE}",
           "WK_BENCH_CHECKS": "0" if args.no_checks else "1"}
    server = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, "-m", "uvicorn", "health_live_latency:app",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        time.sleep(2.0)  # let the checks start hanging
        results: dict[tuple[int, str], list[dict[str, float]]] = {
            (c, p): [] for c in args.connections for p in ("/bare", "/health/live")}
        for _ in range(args.rounds):
            for (conns, path), runs in results.items():
                runs.append(_wrk(base + path, args.seconds, conns))
        import httpx

        checks = httpx.get(base + "/health/checks", timeout=10).json()["checks"]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(15)
    print(f"wrk -t1 -d{args.seconds}s x {args.rounds} rounds; uvicorn on CPU 0, wrk on CPU 1; "
          "medians over rounds")
    print(f"{'conns':>5} {'path':<14}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>10}{'non-2xx':>9}")
    summary = {}
    for (conns, path), runs in results.items():
        p50 = statistics.median(r["p50_ms"] for r in runs)
        p99 = statistics.median(r["p99_ms"] for r in runs)
        rps = statistics.median(r["rps"] for r in runs)
        bad = sum(r["non_2xx"] for r in runs)
        summary[conns, path] = (p50, p99, rps)
        print(f"{conns:>5} {path:<14}{p50:>9.2f}{p99:>9.2f}{rps:>10.0f}{bad:>9.0f}")
    print(f"handler only (in process, checks hanging): p50 {handler_p50 * 1000:.0f} us, "
          f"p99 {handler_p99 * 1000:.0f} us")
    ok = True
    for conns in args.connections:
        bare, live = summary[conns, "/bare"], summary[conns, "/health/live"]
        print(f"c={conns}: live/bare p99 {live[1] / bare[1]:.2f}, req/s {live[2] / bare[2]:.2f}")
        ok = ok and live[1] <= bare[1] * 1.1
    low = min(args.connections)
    ok = ok and summary[low, "/health/live"][1] < 10.0
    print("checks during the run: " + ", ".join(
        f"{name}={info['status']} ({info['message']})" for name, info in checks.items()))
    print("PASS" if ok else "FAIL", f"- /health/live p99 < 10 ms at c={low} and no slower than "
          "the bare route at every level")
    return 0 if ok else 1

if __name__ == "__main__":
    sys.exit(main())
