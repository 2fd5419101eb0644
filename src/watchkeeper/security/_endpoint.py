"""``/health/compliance``: the compliance report of the running configuration as JSON."""

from __future__ import annotations

import orjson

from .._http_types import Endpoint, EndpointRequest, EndpointResponse
from ..config import Settings
from ._compliance import STANDARDS, compliance_report

__all__ = ["compliance_endpoint"]


def compliance_endpoint(settings: Settings) -> Endpoint:
    """Serves the report; ``?standard=PCI-DSS`` narrows it. 200 when every control
    passes, 503 otherwise (so a probe can alert on drift)."""

    def endpoint(request: EndpointRequest) -> EndpointResponse:
        standard = request.query.get("standard") or None
        if standard is not None and standard.upper() not in STANDARDS:
            body = orjson.dumps({"error": f"unknown standard; one of {list(STANDARDS)}"})
            return EndpointResponse(400, body, "application/json")
        report = compliance_report(settings, standard)
        return EndpointResponse(200 if report.passed else 503,
                                orjson.dumps(report.as_dict()), "application/json")

    return endpoint
