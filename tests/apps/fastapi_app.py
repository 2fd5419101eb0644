"""A FastAPI app exercising every path the metrics must handle."""

import asyncio

from fastapi import BackgroundTasks, FastAPI, HTTPException
from fastapi.responses import StreamingResponse

import watchkeeper

app = FastAPI()


@app.get("/items/{item_id}")
async def get_item(item_id: int) -> dict[str, int]:
    return {"id": item_id}


@app.post("/items")
async def create_item(body: dict[str, str]) -> dict[str, str]:
    return body


@app.get("/sync/{name}")
def sync_endpoint(name: str) -> dict[str, str]:
    return {"name": name}


@app.get("/missing")
async def missing() -> None:
    raise HTTPException(status_code=404, detail="nope")


@app.get("/boom")
async def boom() -> None:
    raise ValueError("handler failure")


@app.get("/stream")
async def stream() -> StreamingResponse:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(3):
            await asyncio.sleep(0.1)
            yield b"x" * 100

    return StreamingResponse(chunks())


async def slow_task() -> None:
    await asyncio.sleep(0.5)


@app.get("/background")
async def background(tasks: BackgroundTasks) -> dict[str, bool]:
    tasks.add_task(slow_task)
    return {"queued": True}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/slow")
async def slow() -> dict[str, bool]:
    await asyncio.sleep(1.0)
    return {"done": True}


watchkeeper.instrument(app)
