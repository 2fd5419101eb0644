"""Settings of the traces stage: sampling, exporters, batching, propagation headers.

Fields left at ``None`` defer to the standard ``OTEL_*`` variables (``OTEL_TRACES_SAMPLER``,
``OTEL_TRACES_EXPORTER``, ``OTEL_BSP_*``, ``OTEL_EXPORTER_OTLP_*``), then to the default.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ._duration import Duration
from ._types import CommaList

__all__ = ["EXPORTERS", "SAMPLERS", "TracesSettings"]

EXPORTERS = ("otlp", "otlp_http", "otlp_grpc", "console", "memory", "hub", "none")
SAMPLERS = ("always_on", "always_off", "traceidratio", "parentbased_always_on",
            "parentbased_always_off", "parentbased_traceidratio")
_HEADER = re.compile(r"^[A-Za-z0-9-]+$")

SamplerName = Literal["always_on", "always_off", "traceidratio", "parentbased_always_on",
                      "parentbased_always_off", "parentbased_traceidratio"]


class TracesSettings(BaseModel):
    """How spans are sampled, batched and exported."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool | Literal["auto"] = "auto"
    """``auto``: on when an exporter is configured (here or in ``OTEL_*``), so services
    that export nothing pay nothing; ``true`` also traces with no exporter, for trace ids
    in logs and error events."""
    exporters: CommaList | None = None
    """``otlp`` (= ``otlp_http``), ``otlp_grpc``, ``console``, ``memory``, ``hub``, ``none``.
    Default: ``$OTEL_TRACES_EXPORTER``, else ``otlp`` when an OTLP endpoint is set in the
    environment, else none (spans still carry ids into logs and errors)."""
    otlp_endpoint: str | None = None
    otlp_headers: dict[str, str] = Field(default_factory=dict)
    hub_url: str | None = None
    sampler: SamplerName | None = None
    sample_ratio: float | None = Field(default=None, ge=0.0, le=1.0)
    max_queue_size: int | None = Field(default=None, ge=1)
    max_export_batch_size: int | None = Field(default=None, ge=1)
    schedule_delay: Duration | None = None
    export_timeout: Duration | None = None
    trace_id_header: str | None = None
    """Response header carrying the trace id (e.g. ``X-Trace-Id``); off by default."""
    reuse_global_provider: bool = True
    """Add to a TracerProvider the application already installed (Logfire, Sentry)."""
    fastapi_native: bool = False
    """Let FastAPI's built-in telemetry run too (two tracers per request); off by default."""
    flush_on_sigterm: bool = True
    otlp_encoder: Literal["watchkeeper", "sdk"] = "watchkeeper"
    """``watchkeeper``: the cached hand-written protobuf encoder (same bytes, 2-3x less
    CPU on the export thread); ``sdk``: the exporter's own."""

    @field_validator("exporters")
    @classmethod
    def _known_exporters(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        names = [v.strip().lower() for v in value]
        for name in names:
            if name not in EXPORTERS:
                raise ValueError(f"unknown exporter {name!r}; use one of {', '.join(EXPORTERS)}")
        return names

    @field_validator("trace_id_header")
    @classmethod
    def _header_name(cls, value: str | None) -> str | None:
        if value is not None and not _HEADER.match(value):
            raise ValueError("must be an HTTP header name (letters, digits, '-')")
        return value

    @field_validator("hub_url", "otlp_endpoint")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value
