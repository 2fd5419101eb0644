"""HTTP API: a Starlette app with Alertmanager v2-compatible paths where they exist."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..exceptions import SilenceError
from ..rules._alert import ZERO_TIME, Alert, parse_time
from . import _api_views as _views
from ._manager import AlertManager
from ._matchers import LABEL_NAME_RE
from ._silence import Silence

__all__ = ["create_app"]


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def _error(message: str, status: int = 400) -> Response:
    return _json(message, status)


def _view(result: _views.View) -> Response:
    status, data = result
    return _json(data, status)


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
        try:
            raw = orjson.loads(await request.body())
            if not isinstance(raw, list):
                return _error("body must be a JSON list of alerts")
            alerts = []
            for item in raw:
                labels = {str(k): str(v) for k, v in (item.get("labels") or {}).items()
                          if v != ""}
                if not labels:
                    return _error("at least one label pair required")
                bad = [k for k in labels if not LABEL_NAME_RE.match(k)]
                if bad:
                    return _error(f"invalid label set: invalid name {bad[0]!r}")
                alerts.append(Alert(
                    labels=labels,
                    annotations={str(k): str(v) for k, v in
                                 (item.get("annotations") or {}).items()},
                    starts_at=parse_time(item["startsAt"]) if item.get("startsAt")
                    else ZERO_TIME,
                    ends_at=parse_time(item["endsAt"]) if item.get("endsAt") else None,
                    generator_url=str(item.get("generatorURL") or ""),
                ))
        except (orjson.JSONDecodeError, ValueError, AttributeError, TypeError) as exc:
            return _error(f"invalid alerts: {exc}")
        am.put_alerts(alerts)
        return Response(status_code=200)

    async def get_groups(request: Request) -> Response:
        return _view(_views.get_groups(am))

    async def get_silences(request: Request) -> Response:
        return _view(_views.get_silences(am, request.query_params.getlist("filter")))

    async def post_silence(request: Request) -> Response:
        try:
            sil = Silence.from_api(orjson.loads(await request.body()))
            sid = am.silences.set(sil)
        except (SilenceError, orjson.JSONDecodeError) as exc:
            return _error(str(exc))
        return _json({"silenceID": sid})

    async def get_silence(request: Request) -> Response:
        return _view(_views.get_silence(am, request.path_params["id"]))

    async def delete_silence(request: Request) -> Response:
        try:
            am.silences.expire(request.path_params["id"])
        except SilenceError as exc:
            return _error(str(exc), 404)
        return Response(status_code=200)

    async def status(request: Request) -> Response:
        return _view(_views.get_status(am))

    async def receivers(request: Request) -> Response:
        return _view(_views.get_receivers(am))

    async def history(request: Request) -> Response:
        return _view(_views.get_history(am))

    async def statistics(request: Request) -> Response:
        return _view(_views.get_statistics(am))

    async def ack(request: Request) -> Response:
        try:
            raw = await request.body()
            by = str((orjson.loads(raw) if raw.strip() else {}).get("by", ""))
            done = am.acknowledge(request.path_params["fp"], by)
        except (ValueError, orjson.JSONDecodeError, AttributeError) as exc:
            return _error(str(exc))
        return _json({"acknowledged": done})

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
