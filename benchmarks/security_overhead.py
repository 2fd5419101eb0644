"""Requests/s of a FastAPI app with watchkeeper's security stage in detect mode vs
without it (metrics on in both), in one run, interleaved round by round.

Two traffic shapes: the same URL every time (the inspector's verdict cache answers) and
a unique path and query per request (every request is normalised and matched in full).

    python benchmarks/security_overhead.py [--rounds 3] [--seconds 5]
    python benchmarks/security_overhead.py --in-process [--rounds 3]

``--in-process`` calls the ASGI app directly (no sockets, no wrk), one pinned process per
variant and round, and reports the best of several batches: on a busy machine this is the
steadier figure of what the stage itself costs.

This file is also the app the server runs (``BENCH_SECURITY`` = off | detect).

Last run (2-core VM shared with other jobs, load average 8-13; medians of 3 rounds):

    traffic     | without security req/s | detect mode req/s | ratio | µs/request added
    same URL    | 3108                   | 3007              | 0.968 | 10.8
    unique URLs | 3115                   | 2290              | 0.735 | 115.7

    traffic (in process) | without security µs/req | detect µs/req | µs added | ratio
    same URL             | 78.7                    | 79.6          | 0.9      | 0.989
    unique URLs          | 82.3                    | 103.0         | 20.6     | 0.800

The hook alone (best of 5 x 20k calls, re2): 1.9-2.5 µs per request when the path,
query and user agent were seen recently, 8-9 µs when they are new; the stdlib ``re``
fallback costs 60-90 µs for new values. Repeat on a quiet machine before trusting the
unique-URL wrk ratio: round-to-round spread on this run was larger than the effect.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

VARIANTS = ["off", "detect"]
UNIQUE_LUA = """
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, "/items/" .. counter .. "?q=red+running+shoes+" .. counter ..
                    "&page=" .. (counter % 50) .. "&sort=price")
end
"""


def _app():  # type: ignore[no-untyped-def]
    from fastapi import FastAPI

    import watchkeeper

    app = FastAPI()

    @app.get("/items/{item_id}")
    async def get_item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    mode = os.environ.get("BENCH_SECURITY", "off")
    if mode == "off":
        watchkeeper.instrument(app, security={"enabled": False})
    else:
        watchkeeper.instrument(app, security={"enabled": True, "mode": mode})
    return app


if os.environ.get("BENCH_SECURITY"):
    app = _app()


def _wrk(url: str, seconds: float, connections: int, script: str | None) -> float:
    """Requests/s from wrk pinned to CPU 1 (the harness' ``wrk`` takes no Lua script)."""
    import re
    import subprocess

    from _harness import pin

    extra = ["-s", script] if script else []
    out = subprocess.run(
        [*pin(1), "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", *extra,
         url], capture_output=True, text=True, check=True).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert found is not None, out
    return float(found.group(1))


def _in_process_worker(shape: str) -> None:
    """Print the best µs/request of the app (built per BENCH_SECURITY) called directly."""
    import asyncio
    import time

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: object) -> None:
        return None

    def scope(i: int) -> dict[str, object]:
        path = "/items/1" if shape == "same" else f"/items/{i}"
        query = b"" if shape == "same" else (
            f"q=red+running+shoes+{i}&page={i % 50}&sort=price".encode())
        return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
                "query_string": query, "root_path": "",
                "headers": [(b"host", b"127.0.0.1"), (b"user-agent", b"wrk/4.1"),
                            (b"accept", b"*/*")],
                "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000)}

    async def run() -> float:
        for i in range(2000):
            await app(scope(i), receive, send)
        best = float("inf")
        for batch in range(7):
            scopes = [scope(10_000 * (batch + 1) + i) for i in range(3000)]
            start = time.perf_counter()
            for item in scopes:
                await app(item, receive, send)
            best = min(best, (time.perf_counter() - start) / len(scopes))
        return best * 1e6

    print(f"{asyncio.run(run()):.2f}")


def _in_process(rounds: int) -> None:
    import subprocess

    from _harness import HERE, SRC, median, pin, table

    results: dict[tuple[str, str], list[float]] = {}
    for round_number in range(rounds):
        order = VARIANTS if round_number % 2 == 0 else VARIANTS[::-1]
        for variant in order:
            for shape in ("same", "unique"):
                env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{HERE}",
                       "BENCH_SECURITY": variant}
                out = subprocess.run(
                    [*pin(0), sys.executable, __file__, "--worker", shape], cwd=HERE,
                    env=env, capture_output=True, text=True, check=True).stdout
                micros = float(out.strip().splitlines()[-1])
                results.setdefault((variant, shape), []).append(micros)
                print(f"round {round_number + 1} {variant:>7} {shape:>7}: {micros:7.2f} "
                      "µs/request", file=sys.stderr, flush=True)
    rows = []
    for shape, label in (("same", "same URL"), ("unique", "unique URLs")):
        off = median(results[("off", shape)])
        on = median(results[("detect", shape)])
        rows.append([label, f"{off:.1f}", f"{on:.1f}", f"{on - off:.1f}", f"{off / on:.3f}"])
    print(table(["traffic (in process)", "without security µs/req", "detect µs/req",
                 "µs added", "throughput ratio"], rows))


def main() -> None:
    from _harness import free_port, median, require, server, table

    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        _in_process_worker(sys.argv[2])
        return

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args()
    if args.in_process:
        _in_process(args.rounds)
        return
    require("wrk")
    script = Path(tempfile.mkdtemp()) / "unique.lua"
    script.write_text(UNIQUE_LUA)
    shapes = {"same URL": None, "unique URLs": str(script)}
    results: dict[tuple[str, str], list[float]] = {}
    for round_number in range(args.rounds):
        order = VARIANTS if round_number % 2 == 0 else VARIANTS[::-1]
        for variant in order:
            port = free_port()
            argv = [sys.executable, "-m", "uvicorn", "security_overhead:app", "--port",
                    str(port), "--log-level", "warning", "--no-access-log"]
            with server(argv, port, {"BENCH_SECURITY": variant}, "/items/1") as base:
                for shape, lua in shapes.items():
                    url = f"{base}/items/1"
                    _wrk(url, 1.0, args.connections, lua)  # warm up
                    rps = _wrk(url, args.seconds, args.connections, lua)
                    results.setdefault((variant, shape), []).append(rps)
                    print(f"round {round_number + 1} {variant:>7} {shape:>12}: "
                          f"{rps:9.0f} req/s", file=sys.stderr, flush=True)
    rows = []
    for shape in shapes:
        off = median(results[("off", shape)])
        on = median(results[("detect", shape)])
        rows.append([shape, f"{off:.0f}", f"{on:.0f}", f"{on / off:.3f}",
                     f"{1e6 / on - 1e6 / off:.1f}"])
    print(table(["traffic", "without security req/s", "detect mode req/s", "ratio",
                 "µs/request added"], rows))


if __name__ == "__main__":
    main()
