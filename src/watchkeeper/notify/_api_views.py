"""The read side of the notification API as plain functions: (status, JSON-able data).

Shared by the Starlette app (:mod:`._api_http`, hub and standalone) and the endpoints an
instrumented app serves through its own middleware (:func:`endpoints`), so both answer
the same Alertmanager v2 shapes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

from .._http_types import Endpoint, EndpointRequest, EndpointResponse
from ..exceptions import SilenceError
from ..rules._alert import Alert, format_time
from ._manager import AlertManager
from ._matchers import MatcherError, parse_matchers

__all__ = ["VIEWS", "View", "alert_json", "endpoints"]

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


VIEWS: dict[str, ViewFunc] = {
    "/alerts": lambda am, r: get_alerts(am, _filters(r), r.query),
    "/alerts/groups": lambda am, r: get_groups(am),
    "/silences": lambda am, r: get_silences(am, _filters(r)),
    "/silence/{id}": lambda am, r: get_silence(am, r.path_params["id"]),
    "/status": lambda am, r: get_status(am),
    "/receivers": lambda am, r: get_receivers(am),
    "/history": lambda am, r: get_history(am),
    "/statistics": lambda am, r: get_statistics(am),
    "/escalations": lambda am, r: get_escalations(am),
}
"""GET paths below ``/api/v2`` and what they answer for a framework-free request."""


def endpoints(current: Callable[[], AlertManager | None], prefix: str) -> dict[str, Endpoint]:
    """The read-only API as endpoints of an instrumented app, at ``<prefix>/api/v2/...``.

    ``current`` returns the Alertmanager running in this process; under a pre-fork server
    only the elected worker has one, and the others answer 503 naming why.
    """

    def endpoint(view: ViewFunc) -> Endpoint:
        def serve(request: EndpointRequest) -> EndpointResponse:
            am = current()
            if am is None:
                return EndpointResponse(
                    503, orjson.dumps("the Alertmanager runs in another worker of this "
                                      "server (or is not started yet)"), "application/json")
            status, data = view(am, request)
            return EndpointResponse(status, orjson.dumps(data), "application/json")

        return serve

    return {f"{prefix}/api/v2{path}": endpoint(view) for path, view in VIEWS.items()}
