"""Settings of the metrics stage: names, buckets, exposition, workers, cardinality."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ._types import CommaList

__all__ = ["DEFAULT_LATENCY_BUCKETS", "DEFAULT_SIZE_BUCKETS", "MetricsSettings"]

# Web latency: dense between 5 ms and 1 s where SLOs live, a tail to 30 s for timeouts.
DEFAULT_LATENCY_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0,
)
# Payload sizes in bytes: powers of four from 64 B to 16 MiB.
DEFAULT_SIZE_BUCKETS: tuple[float, ...] = tuple(float(64 * 4**i) for i in range(10))

_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def _check_buckets(value: list[float]) -> list[float]:
    if not value:
        raise ValueError("at least one bucket bound is required")
    if any(b >= c for b, c in itertools.pairwise(value)):
        raise ValueError("bucket bounds must be strictly increasing")
    return value


class MetricsSettings(BaseModel):
    """How metrics are named, bucketed, exposed and aggregated across workers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    path: str = "/metrics"
    namespace: str = ""
    const_labels: dict[str, str] = Field(default_factory=dict)
    latency_buckets: list[float] = Field(default_factory=lambda: list(DEFAULT_LATENCY_BUCKETS))
    size_buckets: list[float] = Field(default_factory=lambda: list(DEFAULT_SIZE_BUCKETS))
    exclude_paths: CommaList = Field(default_factory=lambda: ["/metrics", "/health*"])
    unmatched_route: str = "<unmatched>"
    cardinality_limit: int = Field(default=2000, ge=1)
    process: bool = True
    host: bool = False
    http_client: bool = True
    gzip: bool = True
    created_series: bool = False
    multiprocess: Literal["auto", "on", "off"] = "auto"
    multiprocess_dir: Path | None = None

    @field_validator("path")
    @classmethod
    def _path_is_absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with '/'")
        return value

    @field_validator("namespace")
    @classmethod
    def _namespace_is_a_name(cls, value: str) -> str:
        if value and not _METRIC_NAME.match(value):
            raise ValueError("must be a valid metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)")
        return value

    @field_validator("const_labels")
    @classmethod
    def _label_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _LABEL_NAME.match(name) or name.startswith("__"):
                raise ValueError(f"invalid label name {name!r}")
        return value

    @field_validator("latency_buckets", "size_buckets")
    @classmethod
    def _buckets_increase(cls, value: list[float]) -> list[float]:
        return _check_buckets(value)

    def metric_name(self, name: str) -> str:
        """The exposed name of a watchkeeper metric: the namespace prefix joined with ``_``."""
        if not self.namespace:
            return name
        sep = "" if self.namespace.endswith("_") else "_"
        return f"{self.namespace}{sep}{name}"
