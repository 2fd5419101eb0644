"""The ``/metrics`` endpoint: content negotiation, cross-worker totals, gzip."""

from __future__ import annotations

import gzip

from .._http_types import Endpoint, EndpointRequest, EndpointResponse
from ..config import MetricsSettings
from ._exposition import (
    OPENMETRICS_CONTENT_TYPE,
    TEXT_CONTENT_TYPE,
    render_openmetrics,
    render_text,
)
from ._foreign import render_foreign
from ._registry import Registry
from ._snapshot import FamilySnapshot, snapshot_registry
from ._workers import aggregation

__all__ = ["metrics_endpoint", "render_registry"]

_GZIP_MIN_BYTES = 1024


def collect(registry: Registry) -> list[FamilySnapshot]:
    """This process' families, or every worker's combined when running pre-fork."""
    shared = aggregation(registry)
    if shared is None:
        return snapshot_registry(registry)
    registry.refresh()  # write this worker's collected gauges before reading all shards
    return shared.reader.snapshot()


def render_registry(registry: Registry, *, openmetrics: bool = False) -> str:
    """The full exposition: watchkeeper's families, then the user's prometheus_client ones."""
    families = collect(registry)
    own = {f.name for f in families} | registry.names()
    foreign = render_foreign(own, openmetrics=openmetrics)
    if openmetrics:
        return render_openmetrics(families, eof=False) + foreign + "# EOF\n"
    return render_text(families) + foreign


def metrics_endpoint(registry: Registry, settings: MetricsSettings) -> Endpoint:
    """A sync endpoint (rendering runs in a worker thread under ASGI)."""
    allow_gzip = settings.gzip

    def serve(request: EndpointRequest) -> EndpointResponse:
        openmetrics = request.accepts("application/openmetrics-text")
        body = render_registry(registry, openmetrics=openmetrics).encode("utf-8")
        content_type = OPENMETRICS_CONTENT_TYPE if openmetrics else TEXT_CONTENT_TYPE
        headers: list[tuple[str, str]] = []
        if (allow_gzip and len(body) >= _GZIP_MIN_BYTES
                and "gzip" in request.headers.get("accept-encoding", "")):
            body = gzip.compress(body, compresslevel=5)
            headers.append(("content-encoding", "gzip"))
        headers.append(("vary", "Accept, Accept-Encoding"))
        return EndpointResponse(200, body, content_type, headers)

    return serve
