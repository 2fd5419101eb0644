"""Prometheus HTTP API v1 (query, query_range, series, labels, metadata, buildinfo).

Same JSON shapes, error types and status codes as Prometheus, so Grafana's Prometheus
data source can point at it.
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .._version import __version__
from ..config._duration import parse_duration_ms
from ..exceptions import PromQLError, PromQLParseError, PromQLTypeError
from ..promql import Engine, QueryResult, VectorSelector, parse

__all__ = ["create_query_app"]

_MIN_TIME = -9223372036854775 / 1000
_MAX_TIME = 9223372036854775 / 1000


class _BadData(Exception):
    pass


def _fmt(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    r = repr(v)
    if "e" in r:
        mant, exp = r.split("e")
        e = int(exp)
        r = f"{mant}e{'+' if e >= 0 else '-'}{abs(e):02d}"
    elif r.endswith(".0"):
        r = r[:-2]
    return r


def _ts(ms: int) -> float | int:
    return ms / 1000 if ms % 1000 else ms // 1000


def _parse_time(text: str | None, default: float | None = None) -> float:
    if text is None or text == "":
        if default is None:
            raise _BadData("missing timestamp")
        return default
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise _BadData(f'cannot parse "{text}" to a valid timestamp') from None


def _parse_step(text: str | None) -> float:
    if not text:
        raise _BadData('cannot parse "" to a valid duration')
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return parse_duration_ms(text) / 1000
    except ValueError:
        raise _BadData(f'cannot parse "{text}" to a valid duration') from None


def _error(kind: str, msg: str, status: int) -> JSONResponse:
    return JSONResponse({"status": "error", "errorType": kind, "error": msg}, status_code=status)


def _success(data: Any, res: QueryResult | None = None) -> JSONResponse:
    body: dict[str, Any] = {"status": "success", "data": data}
    if res is not None:
        if res.warnings:
            body["warnings"] = res.warnings
        if res.infos:
            body["infos"] = res.infos
    return JSONResponse(body)


def _result_json(res: QueryResult) -> dict[str, Any]:
    if res.type == "vector":
        result: Any = [{"metric": s.labels, "value": [_ts(s.t), _fmt(s.v)]} for s in res.vector]
    elif res.type == "matrix":
        result = [{"metric": s.labels, "values": [[_ts(t), _fmt(v)] for t, v in s.points]}
                  for s in res.matrix]
    elif res.type == "scalar":
        assert res.scalar is not None
        result = [_ts(res.scalar[0]), _fmt(res.scalar[1])]
    else:
        assert res.string is not None
        result = [_ts(res.string[0]), res.string[1]]
    return {"resultType": res.type, "result": result}


async def _params(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in request.query_params.multi_items():
        out.setdefault(k, []).append(v)
    if request.method == "POST":
        # Prometheus clients POST urlencoded forms; parsing them here avoids a dependency
        # on python-multipart for the one content type we need.
        body = (await request.body()).decode("utf-8", "replace")
        for k, v in parse_qsl(body, keep_blank_values=True):
            out.setdefault(k, []).append(v)
    return out


def _one(p: dict[str, list[str]], key: str) -> str | None:
    vals = p.get(key)
    return vals[-1] if vals else None


def create_query_app(storage: Any, engine: Engine | None = None, *,
                     clock: Any = time.time) -> Starlette:
    """Starlette app serving ``/api/v1/...`` over ``storage`` (a TSDB or querier).

    Args:
        storage: the metric store (``querier()`` with ``select``/``label_names``/...).
        engine: the PromQL engine to use; one over ``storage`` by default.
        clock: returns "now" in seconds, for queries without a time (tests inject it).
    """
    eng = engine or Engine(storage)

    def querier() -> Any:
        return storage.querier() if hasattr(storage, "querier") else storage

    async def run(fn: Any, *args: Any) -> QueryResult:
        return await asyncio.to_thread(fn, *args)

    async def handle_query(request: Request) -> JSONResponse:
        p = await _params(request)
        try:
            q = _required_query(p)
            t = _parse_time(_one(p, "time"), clock())
            res = await run(eng.instant, q, t)
        except _BadData as exc:
            return _error("bad_data", str(exc), 400)
        except PromQLError as exc:
            return _promql_error(exc)
        return _success(_result_json(res), res)

    async def handle_query_range(request: Request) -> JSONResponse:
        p = await _params(request)
        try:
            q = _required_query(p)
            start = _parse_time(_one(p, "start"))
            end = _parse_time(_one(p, "end"))
            step = _parse_step(_one(p, "step"))
            if end < start:
                raise _BadData('invalid parameter "end": end timestamp must not be before '
                               "start time")
            if step <= 0:
                raise _BadData('invalid parameter "step": zero or negative query resolution '
                               "step widths are not accepted. Try a positive integer")
            if (end - start) / step > 11000:
                raise _BadData("exceeded maximum resolution of 11,000 points per timeseries. "
                               "Try decreasing the query resolution (?step=XX)")
            res = await run(eng.range, q, start, end, step)
        except _BadData as exc:
            return _error("bad_data", str(exc), 400)
        except PromQLError as exc:
            return _promql_error(exc)
        return _success(_result_json(res), res)

    def _selectors(p: dict[str, list[str]], required: bool) -> list[list[Any]]:
        sels = p.get("match[]", [])
        if required and not sels:
            raise _BadData("no match[] parameter provided")
        out = []
        for s in sels:
            try:
                e = parse(s)
            except PromQLError as exc:
                raise _BadData(f'invalid parameter "match[]": {exc}') from exc
            if not isinstance(e, VectorSelector):
                raise _BadData('invalid parameter "match[]": expected a vector selector')
            out.append(e.matchers)
        return out

    def _range(p: dict[str, list[str]]) -> tuple[int, int]:
        start = _parse_time(_one(p, "start"), _MIN_TIME)
        end = _parse_time(_one(p, "end"), _MAX_TIME)
        return round(start * 1000), round(end * 1000)

    async def handle_series(request: Request) -> JSONResponse:
        p = await _params(request)
        try:
            sels = _selectors(p, True)
            mint, maxt = _range(p)
        except _BadData as exc:
            return _error("bad_data", str(exc), 400)
        seen: dict[tuple[tuple[str, str], ...], None] = {}
        for ms in sels:
            for sd in querier().select(ms, mint, maxt):
                seen.setdefault(tuple(sd.labels), None)
        return _success([dict(k) for k in sorted(seen)])

    async def handle_labels(request: Request) -> JSONResponse:
        p = await _params(request)
        try:
            sels = _selectors(p, False)
            mint, maxt = _range(p)
        except _BadData as exc:
            return _error("bad_data", str(exc), 400)
        if not sels:
            return _success(list(querier().label_names()))
        names: set[str] = set()
        for ms in sels:
            for sd in querier().select(ms, mint, maxt):
                names.update(k for k, _ in sd.labels)
        return _success(sorted(names))

    async def handle_label_values(request: Request) -> JSONResponse:
        name = request.path_params["name"]
        p = await _params(request)
        try:
            sels = _selectors(p, False)
            mint, maxt = _range(p)
        except _BadData as exc:
            return _error("bad_data", str(exc), 400)
        if not sels:
            return _success(list(querier().label_values(name)))
        vals: set[str] = set()
        for ms in sels:
            for sd in querier().select(ms, mint, maxt):
                v = dict(sd.labels).get(name)
                if v:
                    vals.add(v)
        return _success(sorted(vals))

    async def handle_metadata(request: Request) -> JSONResponse:
        meta = getattr(storage, "metadata", None)
        return _success(meta() if callable(meta) else {})

    async def handle_buildinfo(request: Request) -> JSONResponse:
        return _success({"version": __version__, "revision": "", "branch": "",
                         "buildUser": "watchkeeper", "buildDate": "", "goVersion": "python"})

    methods = ["GET", "POST"]
    routes = [
        Route("/api/v1/query", handle_query, methods=methods),
        Route("/api/v1/query_range", handle_query_range, methods=methods),
        Route("/api/v1/series", handle_series, methods=methods),
        Route("/api/v1/labels", handle_labels, methods=methods),
        Route("/api/v1/label/{name}/values", handle_label_values, methods=["GET"]),
        Route("/api/v1/metadata", handle_metadata, methods=["GET"]),
        Route("/api/v1/status/buildinfo", handle_buildinfo, methods=["GET"]),
    ]
    return Starlette(routes=routes)


def _required_query(params: dict[str, list[str]]) -> str:
    query = _one(params, "query")
    if not query:
        raise _BadData('invalid parameter "query": no query given')
    return query


def _promql_error(exc: PromQLError) -> JSONResponse:
    """Prometheus' error type and status for a failed query."""
    if isinstance(exc, PromQLParseError | PromQLTypeError):
        return _error("bad_data", f'invalid parameter "query": {exc}', 400)
    kind = "timeout" if "timed out" in str(exc) else "execution"
    return _error(kind, str(exc), 503 if kind == "timeout" else 422)
