"""HTTP API: a Starlette app with Alertmanager v2-compatible paths where they exist."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import _api_views as _views
from ._manager import AlertManager

__all__ = ["create_app"]


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def _view(result: _views.View) -> Response:
    status, data = result
    return Response(status_code=status) if data is None else _json(data, status)


def create_app(am: AlertManager, *, manage_lifespan: bool = False) -> Starlette:
    """The notification API for ``am``.

    Paths: ``GET/POST /api/v2/alerts``, ``GET /api/v2/alerts/groups``,
    ``GET/POST /api/v2/silences``, ``GET/DELETE /api/v2/silence/{id}``,
    ``GET /api/v2/status``, ``GET /api/v2/receivers``, plus watchkeeper's
    ``GET /api/v2/history`` and ``GET /api/v2/statistics``.
    """

    async def get_alerts(request: Request) -> Response:
        q = request.query_params
        return _view(_views.get_alerts(am, q.getlist("filter"), q))

    async def post_alerts(request: Request) -> Response:
        return _view(_views.post_alerts(am, await request.body()))

    async def get_groups(request: Request) -> Response:
        return _view(_views.get_groups(am))

    async def get_silences(request: Request) -> Response:
        return _view(_views.get_silences(am, request.query_params.getlist("filter")))

    async def post_silence(request: Request) -> Response:
        return _view(_views.post_silence(am, await request.body()))

    async def get_silence(request: Request) -> Response:
        return _view(_views.get_silence(am, request.path_params["id"]))

    async def delete_silence(request: Request) -> Response:
        return _view(_views.delete_silence(am, request.path_params["id"]))

    async def status(request: Request) -> Response:
        return _view(_views.get_status(am))

    async def receivers(request: Request) -> Response:
        return _view(_views.get_receivers(am))

    async def history(request: Request) -> Response:
        return _view(_views.get_history(am))

    async def statistics(request: Request) -> Response:
        return _view(_views.get_statistics(am))

    async def ack(request: Request) -> Response:
        return _view(_views.acknowledge(am, request.path_params["fp"], await request.body()))

    async def escalations(request: Request) -> Response:
        return _view(_views.get_escalations(am))

    routes = [
        Route("/api/v2/alerts", get_alerts, methods=["GET"]),
        Route("/api/v2/alerts", post_alerts, methods=["POST"]),
        Route("/api/v2/alerts/groups", get_groups, methods=["GET"]),
        Route("/api/v2/silences", get_silences, methods=["GET"]),
        Route("/api/v2/silences", post_silence, methods=["POST"]),
        Route("/api/v2/silence/{id}", get_silence, methods=["GET"]),
        Route("/api/v2/silence/{id}", delete_silence, methods=["DELETE"]),
        Route("/api/v2/status", status, methods=["GET"]),
        Route("/api/v2/receivers", receivers, methods=["GET"]),
        Route("/api/v2/history", history, methods=["GET"]),
        Route("/api/v2/statistics", statistics, methods=["GET"]),
        Route("/api/v2/escalations", escalations, methods=["GET"]),
        Route("/api/v2/escalations/{fp}/ack", ack, methods=["POST"]),
        Route("/api/v2/escalations/ack/{fp}", ack, methods=["POST"]),
    ]
    if not manage_lifespan:
        return Starlette(routes=routes)

    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await am.start()
        try:
            yield
        finally:
            await am.stop()

    return Starlette(routes=routes, lifespan=lifespan)
