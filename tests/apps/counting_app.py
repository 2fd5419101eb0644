"""Minimal apps for the multi-worker tests: FastAPI (ASGI) and Flask (WSGI)."""

import asyncio
import os

from fastapi import FastAPI
from flask import Flask

import watchkeeper

asgi = FastAPI()


@asgi.get("/hit/{n}")
async def hit(n: int) -> dict[str, int]:
    return {"n": n, "pid": os.getpid()}


@asgi.get("/nap/{ms}")
async def nap(ms: int) -> dict[str, int]:
    """Slow enough to land in a chosen latency bucket."""
    await asyncio.sleep(ms / 1000)
    return {"ms": ms, "pid": os.getpid()}


watchkeeper.instrument(asgi)

wsgi = Flask(__name__)


@wsgi.get("/hit/<int:n>")
def hit_wsgi(n: int) -> dict[str, int]:
    return {"n": n, "pid": os.getpid()}


watchkeeper.instrument(wsgi)
