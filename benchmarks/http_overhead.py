"""Requests/s and p99 of a FastAPI app: bare vs watchkeeper metrics vs
prometheus-fastapi-instrumentator vs starlette_exporter, in one run.

The server (one uvicorn process) is pinned to CPU 0 and wrk to CPU 1; variants are
interleaved round by round so drift on a noisy machine hits all of them alike, and the
table reports medians with the ratio to bare.

    python benchmarks/http_overhead.py [--rounds 5] [--seconds 5]
"""

from __future__ import annotations

import argparse
import sys

from _harness import free_port, median, require, server, table, wrk

VARIANTS = ["bare", "watchkeeper", "watchkeeper_defaults", "instrumentator",
            "starlette_exporter"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    require("wrk")
    results: dict[str, list[tuple[float, float]]] = {v: [] for v in VARIANTS}
    for round_number in range(args.rounds):
        order = VARIANTS[round_number % len(VARIANTS):] + VARIANTS[:round_number % len(VARIANTS)]
        for variant in order:
            port = free_port()
            argv = [sys.executable, "-m", "uvicorn", "_bench_apps:app", "--port", str(port),
                    "--log-level", "warning", "--no-access-log"]
            with server(argv, port, {"BENCH_VARIANT": variant}, "/items/1") as base:
                wrk(f"{base}/items/1", 1.0, args.connections)  # warm up
                result = wrk(f"{base}/items/1", args.seconds, args.connections)
            results[variant].append((result.requests_per_second, result.p99_ms))
            print(f"round {round_number + 1} {variant:>18}: {result.requests_per_second:9.0f} "
                  f"req/s  p99 {result.p99_ms:6.2f} ms", file=sys.stderr, flush=True)
    bare = median([r for r, _ in results["bare"]])
    rows = []
    for variant in VARIANTS:
        rps = median([r for r, _ in results[variant]])
        p99 = median([p for _, p in results[variant]])
        rows.append([variant, f"{rps:.0f}", f"{p99:.2f}", f"{rps / bare:.2f}",
                     f"{1e6 / rps:.0f}"])
    print(table(["variant", "req/s (median)", "p99 ms", "ratio to bare", "µs/request"], rows))


if __name__ == "__main__":
    main()
