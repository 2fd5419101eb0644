"""Requests/s of a FastAPI app with watchkeeper's security stage in detect mode vs
without it (metrics on in both), in one run, interleaved round by round.

Two traffic shapes: the same URL every time (the inspector's verdict cache answers) and
a unique path and query per request (every request is normalised and matched in full).

    python benchmarks/security_overhead.py [--rounds 3] [--seconds 5]

This file is also the app the server runs (``BENCH_SECURITY`` = off | detect).
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


def main() -> None:
    from _harness import free_port, median, require, server, table

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
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
