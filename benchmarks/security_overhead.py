"""Requests/s of a FastAPI app with watchkeeper's security stage in detect mode vs
without it (metrics on in both), the bare app and the peer (fastapi-guard, passive), in
one run, interleaved round by round.

Traffic shapes: the same URL every time (the verdict caches answer), a unique path and
query per request (every request normalised and searched), and unique URLs with a
browser's headers (user agent, referer and a kilobyte of cookies, inspected too).

    python benchmarks/security_overhead.py [--rounds 7] [--seconds 3]
    python benchmarks/security_overhead.py --in-process [--rounds 3]
    python benchmarks/security_overhead.py --hook [--rounds 15]

``--in-process`` calls the ASGI app directly (no sockets, no wrk), one pinned process per
shape and round, toggling the security hook in and out of the same app request by
request; it reports medians of single requests: the steadiest figure of what the stage
costs inside a real request (its code and data are cache-cold there, unlike in a loop).
``--hook`` times the hook alone in a tight loop per shape.

This file is also the app the server runs (``BENCH_SECURITY`` = bare | guard | off |
detect).

Last run (2-core VM shared with other jobs, load average 2-4; throughput of one variant
swung 1,100-7,600 req/s between rounds, so only same-round ratios mean much; 7 rounds):

    traffic              | bare | fastapi-guard | security off | detect | detect/off | paired
    same URL             | 4626 | 21            | 4221         | 4057   | 0.961      | 0.981
    unique URLs          | 4365 | 0             | 3340         | 4035   | 1.208      | 0.944
    browser, unique URLs | 3593 | 0             | 3138         | 2880   | 0.918      | 0.866

("paired": the median of the seven same-round detect/off ratios. fastapi-guard in passive
mode answered about 20 req/s on the same URL and nothing within wrk's 2 s timeout on
unique URLs.)

    traffic (in process)    | without the stage µs/req | detect µs/req | µs added | ratio
    same URL                | 53.9                     | 56.1          | 2.2      | 0.960
    unique URLs             | 65.3                     | 77.0          | 11.7     | 0.848
    browser, same URL       | 93.0                     | 98.0          | 5.1      | 0.948
    browser, unique URLs    | 106.7                    | 123.8         | 17.1     | 0.862
    API client, unique URLs | 92.0                     | 106.3         | 14.3     | 0.865

The hook alone (tight loop, re2; instructions per call from callgrind, noise-free):
same URL 11.8k (1-2 µs), unique URLs 31.5k (2.5-5 µs), browser same URL 24.7k (2.5-4 µs),
browser unique URLs 45k (5-7 µs), API client unique URLs 32.5k. Inside a request the
re2 call of a new URL costs 1.5-3 µs instead of 0.7 (cold), which is most of the gap
to the in-process figures; the stdlib ``re`` fallback costs 60-90 µs for new values.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

VARIANTS = ["bare", "guard", "off", "detect"]
LABELS = {"bare": "bare FastAPI", "guard": "fastapi-guard (passive)",
          "off": "watchkeeper, security off", "detect": "watchkeeper, security detect"}

# What a browser sends with every request: the three inspected headers (user agent,
# referer, a kilobyte of session and consent cookies) among a dozen others.
CHROME_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
             "Gecko) Chrome/120.0.0.0 Safari/537.36")
COOKIE = ("sessionid=8f3a9c2e1b7d4f60a5e9c3b2d1f0e7a6; csrftoken=Xy9kLm2NpQ4rSt6Uv8Wx0Yz1A"
          "bC3dE5fG7hI9jK; _ga=GA1.1.123456789.1700000000; _ga_X1Y2Z3=GS1.1.1700000000.4.1."
          "1700000500.0.0.0; theme=dark; lang=en-GB; cart=3f2a9c; OptanonConsent=isGpcEnabled"
          "=0&datestamp=Mon+Nov+20+2023+10%3A00%3A00+GMT%2B0000&version=202310.1.0&browserGpc"
          "Flag=0&isIABGlobal=false&hosts=&consentId=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0&"
          "interactionCount=1&landingPath=NotLandingPage&groups=C0001%3A1%2CC0002%3A1%2CC0003"
          "%3A1%2CC0004%3A0&AwaitingReconsent=false; OptanonAlertBoxClosed=2023-11-20T10:00:"
          "00.000Z; _fbp=fb.1.1700000000000.1234567890; _gcl_au=1.1.987654321.1700000000")
BROWSER_HEADERS = [
    ("host", "shop.example.com"), ("connection", "keep-alive"),
    ("sec-ch-ua", '"Not_A Brand";v="8", "Chromium";v="120"'), ("sec-ch-ua-mobile", "?0"),
    ("sec-ch-ua-platform", '"Windows"'), ("upgrade-insecure-requests", "1"),
    ("user-agent", CHROME_UA),
    ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
               "image/webp,*/*;q=0.8"),
    ("sec-fetch-site", "same-origin"), ("sec-fetch-mode", "navigate"),
    ("referer", "https://shop.example.com/search?q=running+shoes"),
    ("accept-encoding", "gzip, deflate, br"), ("accept-language", "en-GB,en;q=0.9"),
    ("cookie", COOKIE)]
API_HEADERS = [
    ("host", "api.example.com"), ("user-agent", "python-requests/2.31.0"),
    ("accept-encoding", "gzip, deflate"), ("accept", "application/json"),
    ("connection", "keep-alive"),
    ("authorization", "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3"
                      "ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")]
WRK_HEADERS = [("host", "127.0.0.1"), ("user-agent", "wrk/4.1"), ("accept", "*/*")]


def _unique(i: int) -> tuple[str, str]:
    return f"/items/{i}", f"q=red+running+shoes+{i}&page={i % 50}&sort=price"


# name -> (path and query of request i, headers): the --hook and --in-process shapes.
SHAPES = {
    "same URL": (lambda i: ("/items/1", ""), WRK_HEADERS),
    "unique URLs": (_unique, WRK_HEADERS),
    "browser, same URL": (lambda i: ("/items/42", "color=red&size=9"), BROWSER_HEADERS),
    "browser, unique URLs": (_unique, BROWSER_HEADERS),
    "API client, unique URLs": (lambda i: (f"/items/{i}", f"fields=id,total&ts={i}"),
                                API_HEADERS),
}
_LUA = """
counter = 0
headers = {%s}
request = function()
  counter = counter + 1
  return wrk.format(nil, "/items/" .. counter .. "?q=red+running+shoes+" .. counter ..
                    "&page=" .. (counter %% 50) .. "&sort=price", headers)
end
"""


def _lua(headers: list[tuple[str, str]]) -> str:
    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    pairs = [f"[{quoted(k.title())}] = {quoted(v)}" for k, v in headers
             if k not in ("host", "connection")]
    return _LUA % ", ".join(pairs)


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


def _scope(shape: str, i: int) -> dict[str, object]:
    """An ASGI scope of request ``i`` of ``shape``, with fresh header bytes (as a server
    builds them per request: nothing hashed yet)."""
    target, headers = SHAPES[shape]
    path, query = target(i)
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
            "query_string": query.encode(), "root_path": "",
            "headers": [(k.encode(), v.encode()) for k, v in headers],
            "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000)}


def _hook(rounds: int) -> None:
    """Median µs per call of the security hook alone (re2 when installed) for each
    shape, batches of each shape interleaved."""
    import statistics
    import time

    import watchkeeper
    from watchkeeper._http_types import RequestRecord
    from watchkeeper.security import SecurityHook, current

    watchkeeper.init(security={"enabled": True}, logs={"enabled": False})
    hook = SecurityHook(current())

    def record(shape: str, i: int) -> RequestRecord:
        scope = _scope(shape, i)
        path, query = scope["path"], scope["query_string"]
        assert isinstance(path, str)
        assert isinstance(query, bytes)
        return RequestRecord("GET", path, query.decode("latin-1"), "http", "127.0.0.1",
                             0.0, 0.0, scope)

    shapes = list(SHAPES)
    for shape in shapes:  # first sight of the repeated values is not what is measured
        hook.on_request(record(shape, 0))
    results: dict[str, list[float]] = {shape: [] for shape in shapes}
    for batch in range(rounds):
        for shape in shapes if batch % 2 == 0 else shapes[::-1]:
            records = [record(shape, 1_000_000 * (batch + 1) + i) for i in range(5000)]
            on_request = hook.on_request
            start = time.perf_counter()
            for item in records:
                on_request(item)
            results[shape].append((time.perf_counter() - start) / len(records) * 1e6)
    print(f"security hook, median of {rounds} interleaved batches x 5000 calls "
          f"(engine {current().inspector.engine}):")
    for shape in shapes:
        ordered = sorted(results[shape])
        print(f"  {shape:24s} {statistics.median(ordered):5.2f} µs/request "
              f"(batches {ordered[0]:.2f}-{ordered[-1]:.2f})")


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


def _in_process_worker(shape: str, requests: int) -> None:
    """Print the median µs of one request to the detect-mode app called directly, with
    the security hook in its stack and without it, alternating request by request in
    one process: the same interpreter, heap and CPU state for both, and a median of
    single requests that other processes' time slices do not move."""
    import asyncio
    import statistics
    from time import perf_counter

    from watchkeeper.integrations._asgi import WatchkeeperASGIMiddleware
    from watchkeeper.security import SecurityHook

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: object) -> None:
        return None

    asyncio.run(app(_scope(shape, 0), receive, send))  # builds the middleware stack
    stack = next(m.kwargs["stack"] for m in app.user_middleware
                 if m.cls is WatchkeeperASGIMiddleware)
    with_stage = list(stack.hooks)
    without = [h for h in with_stage if not isinstance(h, SecurityHook)]
    assert len(without) == len(with_stage) - 1, with_stage

    async def run() -> tuple[list[float], list[float]]:
        for i in range(2000):
            await app(_scope(shape, i), receive, send)
        on: list[float] = []
        off: list[float] = []
        for start in range(0, requests, 1000):
            scopes = [_scope(shape, 1_000_000 + start + i) for i in range(1000)]
            for i, scope in enumerate(scopes):
                stage = i % 4 in (0, 3)  # ABBA: neither side always goes first
                stack.hooks = with_stage if stage else without
                began = perf_counter()
                await app(scope, receive, send)
                (on if stage else off).append(perf_counter() - began)
        return on, off

    on, off = asyncio.run(run())
    print(f"{statistics.median(on) * 1e6:.2f} {statistics.median(off) * 1e6:.2f}")


def _in_process(rounds: int) -> None:
    import subprocess

    from _harness import HERE, SRC, median, pin, table

    results: dict[str, list[tuple[float, float]]] = {}
    for round_number in range(rounds):
        for shape in SHAPES if round_number % 2 == 0 else list(SHAPES)[::-1]:
            env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{HERE}",
                   "BENCH_SECURITY": "detect"}
            out = subprocess.run(
                [*pin(0), sys.executable, __file__, "--worker", shape], cwd=HERE,
                env=env, capture_output=True, text=True, check=True).stdout
            on, off = map(float, out.strip().splitlines()[-1].split())
            results.setdefault(shape, []).append((on, off))
            print(f"round {round_number + 1} {shape:>24}: {off:7.2f} -> {on:7.2f} "
                  "µs/request", file=sys.stderr, flush=True)
    rows = []
    for shape, pairs in results.items():
        off = median([p[1] for p in pairs])
        on = median([p[0] for p in pairs])
        added = median([p[0] - p[1] for p in pairs])
        rows.append([shape, f"{off:.1f}", f"{on:.1f}", f"{added:.1f}", f"{off / on:.3f}"])
    print(table(["traffic (in process)", "without the stage µs/req", "detect µs/req",
                 "µs added", "throughput ratio"], rows))


def main() -> None:
    from _harness import free_port, median, require, server, table

    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        _in_process_worker(sys.argv[2], requests=20_000)
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
        _hook(max(args.rounds, 15))
        return
    if args.in_process:
        _in_process(args.rounds)
        return
    variants = [v for v in VARIANTS if v in args.variants.split(",")]
    require("wrk")
    scripts = Path(tempfile.mkdtemp())
    (scripts / "unique.lua").write_text(_lua([]))
    (scripts / "browser.lua").write_text(_lua(BROWSER_HEADERS))
    shapes = {"same URL": None, "unique URLs": str(scripts / "unique.lua"),
              "browser, unique URLs": str(scripts / "browser.lua")}
    results: dict[tuple[str, str], list[float]] = {}

    def argv(port: int) -> list[str]:
        return [sys.executable, "-m", "uvicorn", "security_overhead:app", "--port",
                str(port), "--log-level", "warning", "--no-access-log"]

    def measure(round_number: int, variant: str, base: str, shape: str) -> None:
        url = f"{base}/items/1"
        _wrk(url, 1.0, args.connections, shapes[shape])  # warm up
        rps = _wrk(url, args.seconds, args.connections, shapes[shape])
        results.setdefault((variant, shape), []).append(rps)
        print(f"round {round_number + 1} {variant:>7} {shape:>20}: {rps:9.0f} req/s",
              file=sys.stderr, flush=True)

    with ExitStack() as servers:
        # Every variant but the peer serves from start to end (all pinned to CPU 0, idle
        # while another is measured), so the variants of a round are seconds apart, not
        # minutes: on a shared machine the load drifts over minutes. The peer is started
        # per round: its slow requests keep running after wrk stops, and would eat
        # into the next variant's CPU.
        bases = {}
        for variant in variants:
            if variant != "guard":
                port = free_port()
                bases[variant] = servers.enter_context(
                    server(argv(port), port, {"BENCH_SECURITY": variant}, "/items/1"))
        for round_number in range(args.rounds):
            order = variants if round_number % 2 == 0 else variants[::-1]
            for shape in shapes:
                for variant in order:
                    if variant in bases:
                        measure(round_number, variant, bases[variant], shape)
            if "guard" in variants:
                port = free_port()
                with server(argv(port), port, {"BENCH_SECURITY": "guard"}, "/items/1") as base:
                    for shape in shapes:
                        measure(round_number, "guard", base, shape)
    rows = []
    for shape in shapes:
        rps = {v: median(results[(v, shape)]) for v in variants}
        row = [shape, *(f"{rps[v]:.0f}" for v in variants)]
        if "off" in rps and "detect" in rps:
            paired = median([d / o for d, o in zip(results[("detect", shape)],
                                                    results[("off", shape)], strict=True)])
            row += [f"{rps['detect'] / rps['off']:.3f}", f"{paired:.3f}",
                    f"{1e6 / rps['detect'] - 1e6 / rps['off']:.1f}"]
        if "bare" in rps and "guard" in rps:
            row.append(f"{rps['guard'] / rps['bare']:.4f}")
        rows.append(row)
    headers = ["traffic", *(f"{LABELS[v]} req/s" for v in variants)]
    if "off" in variants and "detect" in variants:
        headers += ["detect / off", "same-round ratios' median", "µs/request added"]
    if "bare" in variants and "guard" in variants:
        headers.append("fastapi-guard / bare")
    print(table(headers, rows))


if __name__ == "__main__":
    main()
