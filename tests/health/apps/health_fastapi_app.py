"""FastAPI + watchkeeper health, for uvicorn."""

from fastapi import FastAPI
from health_common import breaker  # noqa: F401 - registers checks

import watchkeeper

app = FastAPI()


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


watchkeeper.instrument(app)
