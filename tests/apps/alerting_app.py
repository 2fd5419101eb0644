"""A Starlette app whose /work fails while failing is switched on (rules and notify come
from WATCHKEEPER_RULES__* / WATCHKEEPER_NOTIFY__* in the environment)."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import watchkeeper

state = {"failing": False}


async def work(request: Request) -> PlainTextResponse:
    if state["failing"]:
        return PlainTextResponse("broken", status_code=500)
    return PlainTextResponse("ok")


async def switch(request: Request) -> PlainTextResponse:
    state["failing"] = request.path_params["mode"] == "on"
    return PlainTextResponse(request.path_params["mode"])


app = Starlette(routes=[Route("/work", work), Route("/fail/{mode}", switch)])
watchkeeper.instrument(app)
