"""A bare ASGI app serving watchkeeper's health endpoints, for tests under a real uvicorn
(standing in for the integration middleware). ``HANG_URL`` is a dependency that hangs."""

from __future__ import annotations

import os
from typing import Any

from watchkeeper import health
from watchkeeper._http_types import EndpointRequest
from watchkeeper.config import load_settings

settings = load_settings(environ={})
health.add_check("db", health.http_check(os.environ["HANG_URL"]), critical=True,
                 timeout=float(os.environ.get("CHECK_TIMEOUT", "1")),
                 interval=float(os.environ.get("CHECK_INTERVAL", "30")))
health.configure(settings)
ENDPOINTS = health.endpoints(settings)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    endpoint = ENDPOINTS.get(scope["path"])
    if endpoint is None:  # the "bare" endpoint of the benchmark
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    headers = {k.decode(): v.decode() for k, v in scope["headers"]}
    request = EndpointRequest(scope["method"], scope["path"], {}, headers)
    response = await endpoint(request)  # type: ignore[misc]
    await send({"type": "http.response.start", "status": response.status,
                "headers": [(b"content-type", response.content_type.encode())]})
    await send({"type": "http.response.body", "body": response.body})
