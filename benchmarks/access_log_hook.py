"""Per-request cost of the middleware pass, in process: bare ASGI app vs watchkeeper with
metrics only vs metrics + the access log (request id + one JSON line per request).

No server, no sockets: each variant runs the same ASGI request (a uvicorn-like scope,
a unique path per request so the redaction caches do not flatter the numbers) through
the middleware many times; rounds interleave the variants and the table reports medians.
The access line goes to a stdout sink whose writer thread is running, as in production.

    PYTHONPATH=src python benchmarks/access_log_hook.py [--requests 20000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from typing import Any

from _harness import table

Message = dict[str, Any]


class _Route:
    path = "/items/{item_id}"


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    scope["route"] = _Route  # what Starlette's router leaves in the scope
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"id":1}'})


def _variant(name: str) -> Any:
    import watchkeeper
    from watchkeeper import _runtime, logs
    from watchkeeper.integrations._asgi import WatchkeeperASGIMiddleware
    from watchkeeper.integrations._stack import build_stack

    logs.reset()
    _runtime.reset()
    if name == "bare":
        return _app
    off = {"security": {"enabled": False}, "errors": {"enabled": False},
           "traces": {"enabled": False}, "health": {"enabled": False}}
    if name == "metrics":
        watchkeeper.init(logs={"enabled": False}, **off)
    else:
        # stdout sink with its writer thread, lines go to /dev/null (see main()).
        watchkeeper.init(logs={"stream": "stdout", "format": "json"}, **off)
    return WatchkeeperASGIMiddleware(_app, build_stack(_runtime.settings()))


async def _drive(app: Any, n: int, offset: int) -> float:
    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        pass

    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk/4.2.0"),
               (b"accept", b"*/*")]
    start = time.perf_counter()
    for i in range(n):
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "GET", "scheme": "http", "path": f"/items/{offset + i}",
                 "raw_path": b"/items/1", "query_string": b"", "root_path": "",
                 "headers": headers, "client": ("127.0.0.1", 50000), "server": None}
        await app(scope, receive, send)
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    # The access lines themselves go to /dev/null; the table goes to the real stdout.
    out = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    names = ["bare", "metrics", "metrics + access log"]
    results: dict[str, list[float]] = {n: [] for n in names}
    for round_number in range(args.rounds):
        order = names[round_number % 3:] + names[:round_number % 3]
        for name in order:
            app = _variant(name)
            asyncio.run(_drive(app, 500, 0))  # warm up
            cost = asyncio.run(_drive(app, args.requests, round_number * args.requests))
            results[name].append(cost)
            print(f"round {round_number + 1} {name:>22}: {cost:6.2f} µs/request",
                  file=sys.stderr, flush=True)
    bare = statistics.median(results["bare"])
    rows = []
    for name in names:
        cost = statistics.median(results[name])
        rows.append([name, f"{cost:.2f}", f"{cost - bare:.2f}"])
    print(table(["variant", "µs/request (median)", "over bare"], rows), file=out)
    from watchkeeper import logs

    logs.reset()


if __name__ == "__main__":
    main()
