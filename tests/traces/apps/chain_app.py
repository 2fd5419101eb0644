"""A service that calls the next one (``NEXT_URL``) with httpx; used as A and as B."""

import os

import httpx
from fastapi import FastAPI

import watchkeeper

app = FastAPI()
NEXT = os.environ.get("NEXT_URL")


@app.get("/hop")
async def hop() -> dict[str, object]:
    here = {"trace": watchkeeper.current_trace_id(), "pid": os.getpid()}
    if NEXT:
        async with httpx.AsyncClient() as client:
            here["next"] = (await client.get(f"{NEXT}/hop")).json()
    return here


@app.get("/fail")
async def fail() -> None:
    password = "hunter2-local"  # noqa: F841 - a local the error event must not show
    raise RuntimeError("cannot reach postgres://app:s3cretpw@db:5432/shop")


watchkeeper.instrument(app)
