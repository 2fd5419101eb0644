"""A Starlette app whose /work fails while failing is switched on (rules and notify come
from WATCHKEEPER_RULES__* / WATCHKEEPER_NOTIFY__* in the environment).

The switch is a file ($FAIL_FLAG), so every worker of a pre-fork server sees it.
"""

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import watchkeeper

FLAG = Path(os.environ["FAIL_FLAG"])


async def work(request: Request) -> PlainTextResponse:
    if FLAG.exists():
        return PlainTextResponse("broken", status_code=500)
    return PlainTextResponse("ok")


async def burst(request: Request) -> PlainTextResponse:
    """Enough failed logins from one client for a brute-force incident in this worker;
    answers with the worker's pid."""
    from watchkeeper import security

    for _ in range(int(request.query_params.get("n", "20"))):
        security.auth_failed("mallory", request.query_params["ip"])
    return PlainTextResponse(str(os.getpid()))


async def pid(request: Request) -> PlainTextResponse:
    return PlainTextResponse(str(os.getpid()))


async def switch(request: Request) -> PlainTextResponse:
    if request.path_params["mode"] == "on":
        FLAG.touch()
    else:
        FLAG.unlink(missing_ok=True)
    return PlainTextResponse(request.path_params["mode"])


app = Starlette(routes=[Route("/work", work), Route("/fail/{mode}", switch),
                       Route("/burst", burst), Route("/pid", pid)])
watchkeeper.instrument(app)
