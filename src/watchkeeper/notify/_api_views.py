"""The read side of the notification API as plain functions: (status, JSON-able data).

Shared by the Starlette app (:mod:`._api_http`, hub and standalone) and the endpoints an
instrumented app serves through its own middleware (:func:`endpoints`), so both answer
the same Alertmanager v2 shapes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from .._http_types import Endpoint, EndpointRequest, EndpointResponse
from ..exceptions import SilenceError
from ..rules._alert import Alert, format_time
from ._alert_json import alerts_from_json
from ._manager import AlertManager
from ._matchers import MatcherError, parse_matchers
from ._silence import Silence

__all__ = ["ROUTES", "View", "alert_json", "endpoints"]

View = tuple[int, Any]


def alert_json(am: AlertManager, a: Alert) -> dict[str, Any]:
    return {
        "annotations": dict(a.annotations),
        "endsAt": format_time(a.ends_at) if a.ends_at else None,
        "fingerprint": a.fingerprint_hex,
        "receivers": [{"name": r} for r in am.receivers_for(a.labels)],
        "startsAt": format_time(a.starts_at),
        "status": am.alert_status(a),
        "updatedAt": format_time(a.updated_at),
        "generatorURL": a.generator_url,
        "labels": dict(a.labels),
    }


def get_alerts(am: AlertManager, filters: Iterable[str], query: Mapping[str, str]) -> View:
    try:
        matchers = [m for f in filters for m in parse_matchers(f)]
    except MatcherError as exc:
        return 400, str(exc)
    want_active = query.get("active", "true") == "true"
    want_silenced = query.get("silenced", "true") == "true"
    want_inhibited = query.get("inhibited", "true") == "true"
    out = []
    for a in am.active_alerts():
        if not all(m.matches(a.labels.get(m.name, "")) for m in matchers):
            continue
        status = am.alert_status(a)
        if status["silencedBy"] and not want_silenced:
            continue
        if status["inhibitedBy"] and not want_inhibited:
            continue
        if status["state"] == "active" and not want_active:
            continue
        out.append(alert_json(am, a))
    return 200, out


def get_groups(am: AlertManager) -> View:
    return 200, [{"labels": dict(g.labels), "receiver": {"name": g.opts.receiver},
                  "alerts": [alert_json(am, a) for a in g.alerts.values()]}
                 for g in am.groups()]


def get_silences(am: AlertManager, filters: Iterable[str]) -> View:
    try:
        matchers = [m for f in filters for m in parse_matchers(f)]
    except MatcherError as exc:
        return 400, str(exc)
    now = am.clock()
    return 200, [s.to_api(now) for s in am.silences.list()
                 if not matchers
                 or all(any(str(f) == str(m) for m in s.matchers) for f in matchers)]


def get_silence(am: AlertManager, silence_id: str) -> View:
    try:
        return 200, am.silences.get(silence_id).to_api(am.clock())
    except SilenceError as exc:
        return 404, str(exc)


def get_status(am: AlertManager) -> View:
    return 200, {
        "cluster": {"status": "disabled", "peers": []},
        "config": {"original": am.config.original},
        "uptime": format_time(am.started_at),
        "versionInfo": {"version": "watchkeeper", "branch": "", "revision": "",
                        "buildUser": "", "buildDate": "", "goVersion": ""},
    }


def get_receivers(am: AlertManager) -> View:
    return 200, [{"name": n} for n in am.config.receivers]


def post_alerts(am: AlertManager, body: bytes) -> View:
    """Alertmanager's ``POST /api/v2/alerts``: a JSON list of alerts."""
    try:
        alerts = alerts_from_json(orjson.loads(body))
    except orjson.JSONDecodeError as exc:
        return 400, f"invalid alerts: {exc}"
    except ValueError as exc:
        return 400, str(exc)
    am.put_alerts(alerts)
    return 200, None


def post_silence(am: AlertManager, body: bytes) -> View:
    try:
        return 200, {"silenceID": am.silences.set(Silence.from_api(orjson.loads(body)))}
    except (SilenceError, orjson.JSONDecodeError) as exc:
        return 400, str(exc)


def delete_silence(am: AlertManager, silence_id: str) -> View:
    try:
        am.silences.expire(silence_id)
    except SilenceError as exc:
        return 404, str(exc)
    return 200, None


def acknowledge(am: AlertManager, fingerprint: str, body: bytes) -> View:
    try:
        by = str((orjson.loads(body) if body.strip() else {}).get("by", ""))
        return 200, {"acknowledged": am.acknowledge(fingerprint, by)}
    except (ValueError, orjson.JSONDecodeError, AttributeError) as exc:
        return 400, str(exc)


def get_history(am: AlertManager) -> View:
    return 200, [{"at": format_time(n.at), "receiver": n.receiver, "groupKey": n.group_key,
                  "status": n.status, "firing": n.firing, "resolved": n.resolved, "ok": n.ok}
                 for n in am.history()]


def get_statistics(am: AlertManager) -> View:
    return 200, am.statistics()


def get_escalations(am: AlertManager) -> View:
    return 200, am.escalations.status() if am.escalations is not None else []


ViewFunc = Callable[[AlertManager, EndpointRequest], View]


def _filters(r: EndpointRequest) -> list[str]:
    return [r.query["filter"]] if "filter" in r.query else []


ROUTES: dict[str, dict[str, ViewFunc]] = {
    "/alerts": {"GET": lambda am, r: get_alerts(am, _filters(r), r.query),
                "POST": lambda am, r: post_alerts(am, r.body)},
    "/alerts/groups": {"GET": lambda am, r: get_groups(am)},
    "/silences": {"GET": lambda am, r: get_silences(am, _filters(r)),
                  "POST": lambda am, r: post_silence(am, r.body)},
    "/silence/{id}": {"GET": lambda am, r: get_silence(am, r.path_params["id"]),
                      "DELETE": lambda am, r: delete_silence(am, r.path_params["id"])},
    "/status": {"GET": lambda am, r: get_status(am)},
    "/receivers": {"GET": lambda am, r: get_receivers(am)},
    "/history": {"GET": lambda am, r: get_history(am)},
    "/statistics": {"GET": lambda am, r: get_statistics(am)},
    "/escalations": {"GET": lambda am, r: get_escalations(am)},
}
"""Paths below ``/api/v2`` and, per method, what they answer for a framework-free request."""
# "/escalations/{fp}/ack" has its parameter mid-path, which app endpoints cannot route;
# on an instrumented app it is POST /escalations/ack/{fp}.
_ACK = {"POST": lambda am, r: acknowledge(am, r.path_params["fp"], r.body)}


_APP_ROUTES: dict[str, dict[str, ViewFunc]] = {**ROUTES, "/escalations/ack/{fp}": _ACK}


def run_view(am: AlertManager, route: str, request: EndpointRequest) -> View:
    """Answer ``request`` for ``route`` (a key of the app's routes) on the Alertmanager's
    own event loop, so a view never races its dispatcher."""
    from .._background import run_coroutine

    methods = _APP_ROUTES.get(route)
    method = "GET" if request.method == "HEAD" else request.method
    if methods is None or method not in methods:
        return 405, f"{request.method} {route} is not part of the API"
    view = methods[method]

    async def on_loop() -> View:
        return view(am, request)

    return run_coroutine(on_loop(), timeout=30.0)


def endpoints(current: Callable[[], AlertManager | None], prefix: str,
              leader_socket: Callable[[], Path | None] | None = None,
              ) -> dict[str, Endpoint]:
    """The API as endpoints of an instrumented app, at ``<prefix>/api/v2/...``.

    ``current`` returns the Alertmanager running in this process. Under a pre-fork server
    only the elected worker has one; the others relay the request to it over
    ``leader_socket()`` and answer 503 naming why when it cannot be reached.
    """
    def endpoint(route: str, methods: dict[str, ViewFunc]) -> Endpoint:
        def serve(request: EndpointRequest) -> EndpointResponse:
            am = current()
            if am is not None:
                status, data = run_view(am, route, request)
            else:
                status, data = _relayed(route, request, leader_socket)
            body = b"" if data is None else orjson.dumps(data)
            return EndpointResponse(status, body, "application/json")

        serve.allowed_methods = (*methods, "HEAD")  # type: ignore[attr-defined]
        return serve

    return {f"{prefix}/api/v2{path}": endpoint(path, methods)
            for path, methods in _APP_ROUTES.items()}


def _relayed(route: str, request: EndpointRequest,
             leader_socket: Callable[[], Path | None] | None) -> View:
    from ._relay import relay

    path = leader_socket() if leader_socket is not None else None
    if path is None:
        return 503, "the Alertmanager runs in another worker of this server (or is not " \
            "started yet)"
    try:
        return relay(path, route, request)
    except (OSError, ValueError) as exc:
        return 503, f"the Alertmanager runs in another worker of this server, which " \
            f"could not be reached ({exc}); retry shortly"
