"""A Starlette app with a mounted sub-application, instrumented before routes exist."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route

import watchkeeper


async def user(request: Request) -> JSONResponse:
    return JSONResponse({"user": request.path_params["user_id"]})


async def version(request: Request) -> PlainTextResponse:
    return PlainTextResponse("v1")


api = Starlette(routes=[Route("/version", version)])
app = Starlette()
watchkeeper.instrument(app)  # before any route: must still see them
app.router.routes.append(Route("/users/{user_id:int}", user))
app.router.routes.append(Mount("/api", app=api))
