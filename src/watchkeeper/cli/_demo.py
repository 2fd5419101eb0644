"""``watchkeeper demo``: a sample instrumented FastAPI shop with a little load on it."""

from __future__ import annotations

import argparse
import contextlib
import random
import threading
import time
from typing import Any

__all__ = ["build_demo_app", "register"]


def register(commands: Any) -> None:
    demo = commands.add_parser("demo", help="run a sample instrumented app with load")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--rate", type=float, default=5.0,
                      help="requests per second from the built-in load generator (0: none)")
    demo.add_argument("--duration", type=float, default=0.0,
                      help="stop after this many seconds (0: run until interrupted)")
    demo.set_defaults(func=_run)


def build_demo_app() -> Any:
    """A small shop API with the failure modes worth seeing on a dashboard."""
    import asyncio

    from fastapi import FastAPI, HTTPException

    import watchkeeper

    # The load generator's own httpx lines would double every access line: keep them out.
    watchkeeper.init(service={"name": "watchkeeper-demo", "environment": "development"},
                     logs={"levels": {"httpx": "WARNING", "httpcore": "WARNING"}})
    app = FastAPI(title="watchkeeper demo shop")
    orders = watchkeeper.counter("demo_orders_total", "Orders placed.", ["channel"])
    payment = watchkeeper.histogram("demo_payment_seconds", "Payment provider latency.")

    @app.get("/items/{item_id}")
    async def get_item(item_id: int) -> dict[str, Any]:
        if item_id > 90:
            raise HTTPException(status_code=404, detail="no such item")
        watchkeeper.cache_access("items", hit=item_id % 3 != 0)
        return {"id": item_id, "price": round(item_id * 1.5, 2)}

    @app.post("/orders")
    async def place_order(channel: str = "web") -> dict[str, Any]:
        with payment.time():
            await asyncio.sleep(random.uniform(0.005, 0.05))
        if random.random() < 0.05:
            raise RuntimeError("payment provider timed out")
        orders.labels(channel).inc()
        return {"status": "placed"}

    @app.get("/search")
    async def search(q: str = "") -> dict[str, Any]:
        with watchkeeper.track_db_operation("select", "items"):
            await asyncio.sleep(random.uniform(0.001, 0.01))
        return {"q": q, "results": []}

    watchkeeper.instrument(app)
    return app


def _load(base: str, rate: float, stop: threading.Event) -> None:
    import httpx

    paths = [("GET", "/items/{}"), ("GET", "/search?q=lamp"), ("POST", "/orders")]
    with httpx.Client(base_url=base, timeout=5) as client:
        while not stop.wait(1.0 / rate):
            method, path = random.choice(paths)
            with contextlib.suppress(httpx.HTTPError):
                client.request(method, path.format(random.randint(1, 100)))


def _run(args: argparse.Namespace) -> int:
    import uvicorn

    app = build_demo_app()
    base = f"http://{args.host}:{args.port}"
    # The demo fails 5 % of orders on purpose; their tracebacks would drown the output.
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="critical")
    server = uvicorn.Server(config)
    stop = threading.Event()
    if args.rate > 0:
        threading.Thread(target=_load, args=(base, args.rate, stop), daemon=True).start()
    if args.duration > 0:
        threading.Timer(args.duration, lambda: setattr(server, "should_exit", True)).start()
    print(f"watchkeeper demo: app on {base}", flush=True)
    print(f"  metrics:  {base}/metrics", flush=True)
    print(f"  try:      {base}/items/7   {base}/search?q=lamp   POST {base}/orders", flush=True)
    if args.rate > 0:
        print(f"  load:     {args.rate:g} requests/s from a built-in generator", flush=True)
    print("Press Ctrl+C to stop.", flush=True)
    started = time.monotonic()
    try:
        server.run()
    finally:
        stop.set()
    print(f"watchkeeper demo: stopped after {time.monotonic() - started:.0f}s", flush=True)
    return 0
