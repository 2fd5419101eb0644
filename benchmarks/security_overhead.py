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

VARIANTS = ["bare", "guard", "off", "detect"]
LABELS = {"bare": "bare FastAPI", "guard": "fastapi-guard (passive)",
          "off": "watchkeeper, security off", "detect": "watchkeeper, security detect"}
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

    app = FastAPI()

    @app.get("/items/{item_id}")
    async def get_item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    mode = os.environ.get("BENCH_SECURITY", "off")
    if mode == "bare":
        return app
    if mode == "guard":
        # The peer with the same job: attack-pattern detection that logs but does not
        # block, nothing else (no Redis, rate limits, bans or cloud IP lists).
        import logging

        from guard import SecurityConfig, SecurityMiddleware

        logging.getLogger("guard_core").setLevel(logging.ERROR)
        config = SecurityConfig(enable_redis=False, passive_mode=True,
                                enable_rate_limiting=False, enable_ip_banning=False,
                                enable_penetration_detection=True,
                                block_cloud_providers=None, enforce_https=False)
        app.add_middleware(SecurityMiddleware, config=config)
        return app
    import watchkeeper

    # Metrics in both, no access log (it would dominate and is the same in both).
    if mode == "off":
        watchkeeper.instrument(app, security={"enabled": False}, logs={"enabled": False})
    else:
        watchkeeper.instrument(app, security={"enabled": True, "mode": mode},
                               logs={"enabled": False})
    return app


if os.environ.get("BENCH_SECURITY"):
    app = _app()


def _hook(rounds: int) -> None:
    """Median µs per call of the security hook alone (re2 when installed), repeated vs
    unique path + query, interleaved batch by batch."""
    import statistics
    import time

    import watchkeeper
    from watchkeeper._http_types import RequestRecord
    from watchkeeper.security import SecurityHook, current

    watchkeeper.init(security={"enabled": True}, logs={"enabled": False})
    hook = SecurityHook(current())

    def record(i: int, same: bool) -> RequestRecord:
        path = "/items/1" if same else f"/items/{i}"
        query = "" if same else f"q=red+running+shoes+{i}&page={i % 50}&sort=price"
        raw = {"type": "http", "path": path, "query_string": query.encode(),
               "headers": [(b"host", b"127.0.0.1"), (b"user-agent", b"wrk/4.1"),
                           (b"accept", b"*/*")], "client": ("127.0.0.1", 40000)}
        return RequestRecord("GET", path, query, "http", "127.0.0.1", 0.0, 0.0, raw)

    results: dict[bool, list[float]] = {True: [], False: []}
    for batch in range(rounds):
        for same in (True, False) if batch % 2 == 0 else (False, True):
            records = [record(1_000_000 * (batch + 1) + i, same) for i in range(5000)]
            start = time.perf_counter()
            for item in records:
                hook.on_request(item)
            results[same].append((time.perf_counter() - start) / len(records) * 1e6)
    print(f"security hook, median of {rounds} batches x 5000 calls "
          f"(engine {current().inspector.engine}):")
    print(f"  repeated URL: {statistics.median(results[True]):.2f} µs/request")
    print(f"  unique URLs:  {statistics.median(results[False]):.2f} µs/request")


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
        # the peer takes ~250 ms per request: thousands of in-process calls are out of reach
        order = ["off", "detect"] if round_number % 2 == 0 else ["detect", "off"]
        for variant in order:
            for shape in ("same", "unique"):
                env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{HERE}",
                       "BENCH_SECURITY": variant}
                out = subprocess.run(
                    [*pin(0), sys.executable, __file__, "--worker", shape], cwd=HERE,
                    env=env, capture_output=True, text=True, check=True).stdout
                micros = float(out.strip().splitlines()[-1])  # the worker's last line
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
    parser.add_argument("--hook", action="store_true",
                        help="only the security hook's µs per call, repeated vs unique URLs")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"comma-separated subset of {VARIANTS}")
    args = parser.parse_args()
    if args.hook:
        _hook(max(args.rounds, 11))
        return
    if args.in_process:
        _in_process(args.rounds)
        return
    variants = [v for v in VARIANTS if v in args.variants.split(",")]
    require("wrk")
    script = Path(tempfile.mkdtemp()) / "unique.lua"
    script.write_text(UNIQUE_LUA)
    shapes = {"same URL": None, "unique URLs": str(script)}
    results: dict[tuple[str, str], list[float]] = {}
    for round_number in range(args.rounds):
        order = variants if round_number % 2 == 0 else variants[::-1]
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
        rps = {v: median(results[(v, shape)]) for v in variants}
        row = [shape, *(f"{rps[v]:.0f}" for v in variants)]
        if "off" in rps and "detect" in rps:
            row += [f"{rps['detect'] / rps['off']:.3f}",
                    f"{1e6 / rps['detect'] - 1e6 / rps['off']:.1f}"]
        if "bare" in rps and "guard" in rps:
            row.append(f"{rps['guard'] / rps['bare']:.4f}")
        rows.append(row)
    headers = ["traffic", *(f"{LABELS[v]} req/s" for v in variants)]
    if "off" in variants and "detect" in variants:
        headers += ["detect / off", "µs/request added"]
    if "bare" in variants and "guard" in variants:
        headers.append("fastapi-guard / bare")
    print(table(headers, rows))


if __name__ == "__main__":
    main()
