"""A FastAPI app for the logs acceptance tests (run by a real uvicorn)."""

from __future__ import annotations

import asyncio
import logging
import time

from fastapi import FastAPI

import watchkeeper
from watchkeeper import logs

app = FastAPI()
watchkeeper.instrument(app)
log = logs.get_logger("app")
std = logging.getLogger("app.std")


@app.get("/items/{item_id}")
async def item(item_id: int) -> dict[str, int]:
    logs.bind(user="u-1")
    await asyncio.sleep(0)
    log.info("item fetched", item_id=item_id, password="hunter2")
    return {"item_id": item_id}


@app.get("/gather")
async def gather() -> dict[str, int]:
    logs.bind(user="u-gather")

    async def part(n: int) -> int:
        await asyncio.sleep(0.01 * n)
        log.info("part done", part=n)
        return n

    parts = await asyncio.gather(*(part(n) for n in range(3)))
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, lambda: std.info("in executor"))
    return {"parts": len(parts)}


@app.get("/sync")
def sync_endpoint() -> dict[str, str]:
    logs.bind(user="u-sync")
    std.warning("sync endpoint in threadpool")
    return {"ok": "yes"}


@app.get("/slow")
async def slow() -> dict[str, str]:
    await asyncio.sleep(0.3)
    return {"ok": "slow"}


@app.get("/boom")
async def boom() -> dict[str, str]:
    raise RuntimeError("kaboom token=abc123secret")


@app.get("/block")
def block() -> dict[str, str]:
    time.sleep(0.01)
    return {"ok": "x"}
