"""Tracing cost: req/s of a FastAPI app bare vs watchkeeper tracing (sample ratio 1.0 and
0.01) vs opentelemetry-instrumentation-asgi, all exporting OTLP/HTTP to a local sink; the
CPU each request costs with and without tracing in one process; and µs per span for
``watchkeeper.span`` vs the raw OpenTelemetry SDK.

Same plumbing as ``http_overhead.py``: one uvicorn process pinned to CPU 0, wrk on CPU 1,
variants interleaved round by round, medians with the ratio to bare. On a shared VM the
req/s ratios swing between runs; the in-process CPU figures (export thread included,
steal excluded) are the stable ones.

    python benchmarks/tracing_overhead.py [--rounds 3] [--seconds 5]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import timeit
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# -- the served app (this module is also the uvicorn app: BENCH_TRACING selects) ----------
VARIANT = os.environ.get("BENCH_TRACING")
if VARIANT is not None:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/items/{item_id}")
    async def get_item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    if VARIANT.startswith("watchkeeper"):
        import watchkeeper

        ratio = float(VARIANT.rsplit("_", 1)[1])
        if VARIANT.startswith("watchkeeper_all"):
            # Every stage at its defaults: metrics, access log to stdout, errors, tracing.
            watchkeeper.instrument(app, traces={"sample_ratio": ratio})
        else:
            # Tracing and error capture alone (issue 5's stages): no metrics, no access
            # log, no security inspection (measured by security_overhead.py).
            watchkeeper.instrument(app, traces={"sample_ratio": ratio},
                                   metrics={"enabled": False}, logs={"enabled": False},
                                   security={"enabled": False})
    elif VARIANT == "otel_asgi":
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
        app.add_middleware(OpenTelemetryMiddleware)
    elif VARIANT != "bare":
        raise SystemExit(f"unknown BENCH_TRACING {VARIANT!r}")

VARIANTS = ["bare", "watchkeeper_1.0", "watchkeeper_0.01", "watchkeeper_all_1.0",
            "otel_asgi"]


class _Sink(BaseHTTPRequestHandler):
    """An OTLP/HTTP endpoint that accepts and discards."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def http_table(rounds: int, seconds: float, connections: int) -> str:
    from _harness import free_port, median, require, server, table, wrk

    require("wrk")
    sink = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{sink.server_address[1]}"
    results: dict[str, list[tuple[float, float]]] = {v: [] for v in VARIANTS}
    for round_number in range(rounds):
        shift = round_number % len(VARIANTS)
        for variant in VARIANTS[shift:] + VARIANTS[:shift]:
            port = free_port()
            argv = [sys.executable, "-m", "uvicorn", "tracing_overhead:app", "--port",
                    str(port), "--log-level", "warning", "--no-access-log"]
            env = {"BENCH_TRACING": variant, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}
            with server(argv, port, env, "/items/1") as base:
                wrk(f"{base}/items/1", 1.0, connections)  # warm up
                result = wrk(f"{base}/items/1", seconds, connections)
            results[variant].append((result.requests_per_second, result.p99_ms))
            print(f"round {round_number + 1} {variant:>24}: {result.requests_per_second:9.0f}"
                  f" req/s  p99 {result.p99_ms:6.2f} ms", file=sys.stderr, flush=True)
    sink.shutdown()
    bare = median([r for r, _ in results["bare"]])
    rows = []
    for variant in VARIANTS:
        rps = median([r for r, _ in results[variant]])
        p99 = median([p for _, p in results[variant]])
        rows.append([variant, f"{rps:.0f}", f"{p99:.2f}", f"{rps / bare:.2f}",
                     f"{1e6 / rps - 1e6 / bare:+.0f}"])
    return table(["variant", "req/s (median)", "p99 ms", "ratio to bare",
                  "µs/request vs bare"], rows)


def _cpu_child(variant: str, batches: int, size: int) -> None:
    """In one process: a bare app and the same app instrumented, driven alternately through
    ASGI, timed in process CPU (the export thread included, other processes and the
    VM's steal excluded). Prints the medians as JSON. A ``unique:`` prefix gives every
    request its own URL path (no cached attribute encodings, redaction for each)."""
    unique = variant.startswith("unique:")
    variant = variant.removeprefix("unique:")
    import asyncio
    import json
    import statistics
    import time

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
    from fastapi import FastAPI

    import watchkeeper

    def make() -> Any:
        app = FastAPI()

        @app.get("/items/{item_id}")
        async def get_item(item_id: int) -> dict[str, int]:
            return {"id": item_id}

        return app

    bare, traced = make(), make()
    ratio = float(variant.rsplit("_", 1)[1])
    watchkeeper.instrument(traced, traces={"sample_ratio": ratio}, metrics={"enabled": False},
                           logs={"enabled": False}, security={"enabled": False})
    watchkeeper.traces.disable_framework_tracing(bare)  # the global provider is ours now
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": "/items/1", "raw_path": b"/items/1",
             "query_string": b"", "root_path": "", "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 80),
             "headers": [(b"host", b"x"), (b"user-agent", b"wrk"), (b"accept", b"*/*")]}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        return None

    counter = iter(range(1 << 62))

    async def batch(app: Any) -> float:
        start = time.process_time()
        for _ in range(size):
            request = dict(scope)
            if unique:
                path = f"/items/{next(counter)}"
                request["path"], request["raw_path"] = path, path.encode()
            await app(request, receive, send)
        return (time.process_time() - start) / size

    async def run() -> dict[str, float]:
        await batch(bare)
        await batch(traced)
        times: dict[str, list[float]] = {"bare": [], "traced": []}
        for _ in range(batches):
            times["bare"].append(await batch(bare))
            times["traced"].append(await batch(traced))
        return {k: statistics.median(v) * 1e6 for k, v in times.items()}

    print(json.dumps(asyncio.run(run())))


def cpu_table(rounds: int, endpoint: str) -> str:
    import json
    import subprocess

    from _harness import median, pin, table

    variants = ["watchkeeper_1.0", "watchkeeper_0.01", "unique:watchkeeper_1.0"]
    results: dict[str, list[tuple[float, float]]] = {v: [] for v in variants}
    for _ in range(rounds):
        for variant in variants:
            out = subprocess.run(
                [*pin(0), sys.executable, __file__, "--cpu-child", variant],
                capture_output=True, text=True, check=True, timeout=600,
                env={**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint},
                cwd=os.path.dirname(os.path.abspath(__file__)))
            got = json.loads(out.stdout.strip().splitlines()[-1])
            results[variant].append((got["bare"], got["traced"]))
    rows = []
    for variant, pairs in results.items():
        extra = sorted(t - b for b, t in pairs)
        label = variant.replace("unique:", "") + (", unique URLs" if "unique" in variant else "")
        rows.append([label, f"{median([b for b, _ in pairs]):.1f}",
                     f"{median([t for _, t in pairs]):.1f}",
                     f"{median(extra):+.1f} ({extra[0]:+.1f} to {extra[-1]:+.1f})"])
    # The ASGI app alone is far cheaper than a request through uvicorn, so the µs added,
    # not a ratio, is what carries over to the HTTP table.
    return table(["variant (in process, ASGI)", "bare µs CPU/request",
                  "traced µs CPU/request", "µs added (range)"], rows)


def span_table(number: int) -> str:
    """µs per span, both with a batch processor and an exporter that discards."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    import watchkeeper
    from _harness import table

    class Discard(SpanExporter):
        accepts_light_spans = True  # as the OTLP exporter: no ReadableSpan conversion

        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    watchkeeper.init(traces={"exporters": ["console"]}, metrics={"enabled": False},
                     errors={"enabled": False})
    state = watchkeeper.traces.current()
    assert state is not None
    for processor in state.processors:  # same queue and thread, no console output
        processor.exporter = Discard()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Discard()))
    raw = provider.get_tracer("bench")

    def otel_span() -> None:
        with raw.start_as_current_span("work"):
            pass

    def otel_span_attrs() -> None:
        with raw.start_as_current_span("work", attributes={"a": 1, "b": "x", "c": 2.5}):
            pass

    def wk_span() -> None:
        with watchkeeper.span("work"):
            pass

    def wk_span_attrs() -> None:
        with watchkeeper.span("work", a=1, b="x", c=2.5):
            pass

    rows = []
    for label, fn in (("raw OTel SDK span", otel_span), ("watchkeeper.span", wk_span),
                      ("raw OTel SDK span + 3 attributes", otel_span_attrs),
                      ("watchkeeper.span + 3 attributes", wk_span_attrs)):
        fn()
        best = min(timeit.repeat(fn, number=number, repeat=5)) / number
        rows.append([label, f"{best * 1e6:.1f}"])
    return table(["span", "µs per span (best of 5)"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--spans", type=int, default=20000)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--cpu-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cpu_child:
        _cpu_child(args.cpu_child, batches=25, size=2000)
        return
    if not args.skip_http:
        print(http_table(args.rounds, args.seconds, args.connections))
        print()
    with _sink() as endpoint:
        print(cpu_table(args.rounds, endpoint))
    print()
    print(span_table(args.spans))


@contextlib.contextmanager
def _sink() -> Iterator[str]:
    sink = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{sink.server_address[1]}"
    finally:
        sink.shutdown()


if __name__ == "__main__":
    main()
