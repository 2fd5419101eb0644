"""A FastAPI app behind watchkeeper's security stage (configured by WATCHKEEPER_* env)."""

import logging
import os

from fastapi import FastAPI, Request, Response

import watchkeeper
from watchkeeper import security

if os.environ.get("SECURITY_TEST_LOG"):
    logging.basicConfig(filename=os.environ["SECURITY_TEST_LOG"], level=logging.INFO)

app = FastAPI()


@app.get("/items/{item_id}")
async def get_item(item_id: str) -> dict[str, str]:
    return {"id": item_id}


@app.get("/pid")
async def pid() -> dict[str, int]:
    return {"pid": os.getpid()}


@app.get("/search")
async def search(q: str = "") -> dict[str, int]:
    return {"length": len(q)}


@app.post("/login")
async def login(request: Request, response: Response) -> dict[str, bool]:
    form = await request.json()
    if form.get("password") == "correct horse":
        return {"ok": True}
    response.status_code = 401
    return {"ok": False}


@app.post("/api/login")
async def api_login(request: Request, response: Response) -> dict[str, bool]:
    """Reports outcomes itself instead of relying on the status code."""
    form = await request.json()
    client = request.client.host if request.client else None
    if form.get("password") == "correct horse":
        security.auth_succeeded(form.get("user"), client)
        return {"ok": True}
    security.auth_failed(form.get("user"), client)
    response.status_code = 400
    return {"ok": False}


@app.post("/echo")
async def echo(request: Request) -> dict[str, object]:
    body = await request.body()
    return {"length": len(body), "head": body[:20].decode("latin-1")}


watchkeeper.instrument(app)
