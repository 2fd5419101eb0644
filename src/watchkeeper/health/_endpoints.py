"""The health endpoints: framework-free handlers over the runner's cache.

Every handler is async and cheap: it reads cached results and waits (bounded by each
check's timeout) only for checks that have none; ``/health/ready`` never waits and
``/health/live`` touches nothing but memory. A handler that fails answers 503 with a
JSON reason; it never lets a 500 out.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson

from .._http_types import Endpoint, EndpointRequest, EndpointResponse
from ._breaker import all_breakers
from ._lag import lag_monitor
from ._result import CheckResult, Status
from ._state import Health, components, current

if TYPE_CHECKING:
    from ..config import Settings

__all__ = ["endpoints"]

_log = logging.getLogger("watchkeeper.health")
_HEALTH_JSON = "application/health+json"
_HTTP = {Status.PASS: 200, Status.WARN: 200, Status.FAIL: 503}

Handler = Callable[[Health, EndpointRequest], Awaitable[tuple[int, dict[str, Any]]]]


def endpoints(settings: Settings) -> dict[str, Endpoint]:
    """Map each configured health path to its handler (the component path keeps its
    ``{name}`` segment, for ``Stack.add_endpoint``)."""
    cfg = settings.health
    return {
        cfg.path: _endpoint(_overall),
        cfg.live_path: _endpoint(_live),
        cfg.ready_path: _endpoint(_ready),
        cfg.startup_path: _endpoint(_startup),
        cfg.checks_path: _endpoint(_checks),
        cfg.dependencies_path: _endpoint(_dependencies),
        cfg.component_path: _endpoint(_component),
    }


def _endpoint(handler: Handler) -> Endpoint:
    async def endpoint(request: EndpointRequest) -> EndpointResponse:
        media = _HEALTH_JSON if request.accepts(_HEALTH_JSON) else "application/json"
        try:
            _watch_loop()
            status, body = await handler(current(), request)
        except Exception as exc:
            _log.exception("watchkeeper health endpoint %s failed", request.path)
            status, body = 503, {"status": "fail", "output": f"health endpoint error: {exc!r}"}
        headers = [("cache-control", "no-store")]
        return EndpointResponse(status, orjson.dumps(body), media, headers)

    endpoint.__name__ = endpoint.__qualname__ = f"health{handler.__name__}"
    return endpoint


def _watch_loop() -> None:
    with contextlib.suppress(RuntimeError):
        lag_monitor().attach(asyncio.get_running_loop())


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def _fresh(request: EndpointRequest) -> bool:
    return request.query.get("fresh", "").lower() in ("1", "true", "yes")


async def _evaluate(health: Health, request: EndpointRequest, *, wait: bool = True
                    ) -> tuple[Status, dict[str, CheckResult], dict[str, Any]]:
    """Run/read every enabled check and fold checks and components into one status."""
    runner = health.runner
    names = [n for n, s in runner.states.items() if s.spec.enabled]
    results = await runner.results(names, fresh=wait and _fresh(request), wait=wait)
    status = Status.PASS
    for name, result in results.items():
        critical = runner.states[name].spec.critical
        status = _worse(status, result.status if critical or result.ok else Status.WARN)
    comps = {c.name: c for c in components().all()}
    for comp in comps.values():
        if not comp.ok:
            status = _worse(status, Status.FAIL if comp.critical else Status.WARN)
    return status, results, comps


def _worse(a: Status, b: Status) -> Status:
    order = (Status.PASS, Status.WARN, Status.FAIL)
    return a if order.index(a) >= order.index(b) else b


async def _overall(health: Health, request: EndpointRequest) -> tuple[int, dict[str, Any]]:
    status, results, comps = await _evaluate(health, request)
    checks: dict[str, bool] = {name: r.ok for name, r in results.items()}
    details: dict[str, str] = {name: r.message or r.status.value for name, r in results.items()}
    for name, comp in comps.items():
        checks[name] = comp.ok
        details[name] = _detail_text(comp.details, comp.ok)
    service = health.settings.service
    body: dict[str, Any] = {
        "status": status.value,
        "service": service.name,
        "version": service.version,
        "uptime": round(health.uptime(), 3),
        "checks": checks,
        "timestamp": _iso(health.clock()),
    }
    if health.config.include_details:
        body["details"] = details
    return _HTTP[status], body


def _detail_text(details: Any, ok: bool) -> str:
    if details is None:
        return "ok" if ok else "down"
    if isinstance(details, str):
        return details
    return orjson.dumps(details, default=str).decode()


async def _live(health: Health, request: EndpointRequest) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"status": "pass", "uptime": round(health.uptime(), 3),
                            "timestamp": _iso(health.clock())}
    lag = lag_monitor().lag
    if lag is not None:
        body["event_loop_lag_ms"] = round(lag * 1000, 3)
    return 200, body


async def _ready(health: Health, request: EndpointRequest) -> tuple[int, dict[str, Any]]:
    # Readiness never waits on a check: a dependency whose first result is not in yet
    # is not known to work, so the pod is not ready (503) until it is. A probe thus
    # answers at cache speed even when a burst arrives while a dependency hangs.
    status, results, comps = await _evaluate(health, request, wait=False)
    failing = sorted(
        [n for n, r in results.items() if not r.ok and health.runner.states[n].spec.critical]
        + [n for n, c in comps.items() if not c.ok and c.critical])
    body: dict[str, Any] = {"status": status.value}
    if health.config.startup_requires_mark and not health.started():
        status = Status.FAIL
        body = {"status": "fail", "output": "startup not complete"}
    elif failing:
        body["output"] = "critical checks failing: " + ", ".join(failing)
    if health.config.include_details:
        body["checks"] = {n: {"status": r.status.value, "message": r.message}
                          for n, r in results.items()}
    return _HTTP[status], body


async def _startup(health: Health, request: EndpointRequest) -> tuple[int, dict[str, Any]]:
    if health.started():
        return 200, {"status": "pass", "uptime": round(health.uptime(), 3)}
    waiting = ("health.mark_started()" if health.config.startup_requires_mark
               else "first run of every check")
    return 503, {"status": "fail", "output": f"starting: waiting for {waiting}"}


async def _checks(health: Health, request: EndpointRequest) -> tuple[int, dict[str, Any]]:
    runner = health.runner
    if _fresh(request):
        await runner.results([n for n, s in runner.states.items() if s.spec.enabled],
                             fresh=True)
    out: dict[str, Any] = {}
    overall = Status.PASS
    for name, state in sorted(runner.states.items()):
        spec, result = state.spec, state.result
        if spec.enabled and result is not None:
            overall = _worse(overall, result.status if spec.critical or result.ok
                             else Status.WARN)
        out[name] = {
            "status": (result.status.value if result else "unknown") if spec.enabled
            else "disabled",
            "latency_ms": round(result.latency * 1000, 3) if result else None,
            "last_run": _iso(result.timestamp) if result else None,
            "last_success": _iso(state.last_success),
            "last_failure": _iso(state.last_failure),
            "consecutive_failures": state.consecutive_failures,
            "message": result.message if result else "",
            "critical": spec.critical,
            "tags": list(spec.tags),
            "type": spec.kind,
            "timeout": runner.timeout_of(spec),
            "interval": runner.interval_of(spec),
        }
    breakers = {b.name: b.snapshot() for b in all_breakers()}
    comps = {c.name: _component_body(c) for c in components().all()}
    return 200, {"status": overall.value, "checks": out, "circuit_breakers": breakers,
                 "components": comps, "timestamp": _iso(health.clock())}


def _component_body(comp: Any) -> dict[str, Any]:
    return {"status": "pass" if comp.ok else "fail", "ok": comp.ok, "details": comp.details,
            "critical": comp.critical, "updated": _iso(comp.updated), "since": _iso(comp.since)}


async def _dependencies(health: Health, request: EndpointRequest) -> tuple[int, dict[str, Any]]:
    status, results, comps = await _evaluate(health, request)
    deps: dict[str, Any] = {}
    for name, result in results.items():
        spec = health.runner.states[name].spec
        deps[name] = {"status": result.status.value, "ok": result.ok, "type": spec.kind,
                      "critical": spec.critical, "message": result.message,
                      "latency_ms": round(result.latency * 1000, 3),
                      "updated": _iso(result.timestamp)}
    for name, comp in comps.items():
        deps[name] = {**_component_body(comp), "type": "component"}
    return _HTTP[status], {"status": status.value, "dependencies": deps,
                           "timestamp": _iso(health.clock())}


async def _component(health: Health, request: EndpointRequest) -> tuple[int, dict[str, Any]]:
    name = next(iter(request.path_params.values()), "") if request.path_params else ""
    comp = components().get(name)
    if comp is not None:
        return (200 if comp.ok else 503), {"name": name, **_component_body(comp)}
    state = health.runner.states.get(name)
    if state is not None and state.spec.enabled:
        result = (await health.runner.results([name]))[name]
        return _HTTP[result.status], {
            "name": name, "status": result.status.value, "ok": result.ok,
            "message": result.message, "critical": state.spec.critical,
            "latency_ms": round(result.latency * 1000, 3), "updated": _iso(result.timestamp)}
    return 404, {"status": "fail", "output": f"no component or check named {name!r}"}
