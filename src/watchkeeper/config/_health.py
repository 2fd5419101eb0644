"""Settings of the health stage: endpoint paths, check defaults, built-in checks, probes."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ._duration import Duration

__all__ = ["BUILTIN_CHECK_TYPES", "HealthCheckSettings", "HealthSettings", "ProbeSettings"]

# The built-in check families ``watchkeeper.health`` can build from settings alone.
BUILTIN_CHECK_TYPES: tuple[str, ...] = (
    "disk", "dns", "event_loop_lag", "file", "http", "kafka", "memory", "postgres", "redis",
    "tcp", "tls",
)

_CHECK_NAME = re.compile(r"^[A-Za-z0-9_.:-]+$")


def _path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError("must start with '/'")
    if "{" in value or "}" in value:
        raise ValueError("only the component path takes a '{name}' parameter")
    return value


class HealthCheckSettings(BaseModel):
    """One built-in check turned on from settings (``health.checks`` list entry).

    ``options`` are the built-in's own arguments (``dsn``, ``url``, ``host``/``port``, ...);
    they are checked when ``watchkeeper.health.configure`` builds the check.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    type: str
    critical: bool = True
    enabled: bool = True
    timeout: Duration | None = None
    interval: Duration | None = None
    retries: int = Field(0, ge=0, le=10)
    warn_latency: Duration | None = None
    fail_latency: Duration | None = None
    tags: list[str] = Field(default_factory=list)
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name_is_a_segment(cls, value: str) -> str:
        if not _CHECK_NAME.match(value):
            raise ValueError("check names use letters, digits and '_.:-' only (no '/' or spaces)")
        return value

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in BUILTIN_CHECK_TYPES:
            raise ValueError(
                f"unknown built-in check type {value!r}; known: {', '.join(BUILTIN_CHECK_TYPES)}"
            )
        return value

    @field_validator("timeout", "interval")
    @classmethod
    def _positive(cls, value: float | None) -> float | None:
        if value is not None and value <= 0:
            raise ValueError("must be greater than 0")
        return value

    @model_validator(mode="after")
    def _latency_order(self) -> HealthCheckSettings:
        if (self.warn_latency is not None and self.fail_latency is not None
                and self.warn_latency > self.fail_latency):
            raise ValueError("warn_latency must not exceed fail_latency")
        return self


class ProbeSettings(BaseModel):
    """What ``watchkeeper export k8s-probes`` writes (the seed's values by default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    live_initial_delay: Duration = 30.0
    live_period: Duration = 10.0
    ready_initial_delay: Duration = 10.0
    ready_period: Duration = 5.0
    startup_period: Duration = 10.0
    startup_failure_threshold: int = Field(30, ge=1)
    failure_threshold: int = Field(3, ge=1)
    timeout: Duration = 5.0

    @field_validator("live_period", "ready_period", "startup_period", "timeout")
    @classmethod
    def _whole_seconds(cls, value: float) -> float:
        if value < 1 or value != int(value):
            raise ValueError("Kubernetes probe periods and timeouts are whole seconds >= 1")
        return value


class HealthSettings(BaseModel):
    """Health endpoints, defaults for every check, and the built-in checks to run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    path: str = "/health"
    live_path: str = "/health/live"
    ready_path: str = "/health/ready"
    startup_path: str = "/health/startup"
    checks_path: str = "/health/checks"
    dependencies_path: str = "/health/dependencies"
    component_path: str = "/health/component/{name}"
    default_timeout: Duration = 5.0
    default_interval: Duration = 30.0
    # Startup passes once every enabled check has a first result, unless the app says
    # when it is ready with ``health.mark_started()``.
    startup_requires_mark: bool = False
    include_details: bool = True
    checks: list[HealthCheckSettings] = Field(default_factory=list)
    probes: ProbeSettings = Field(default_factory=lambda: ProbeSettings.model_validate({}))

    @field_validator("path", "live_path", "ready_path", "startup_path", "checks_path",
                     "dependencies_path")
    @classmethod
    def _paths(cls, value: str) -> str:
        return _path(value)

    @field_validator("component_path")
    @classmethod
    def _component_path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with '/'")
        head, sep, param = value.rpartition("/{")
        if not sep or not param.endswith("}") or not param[:-1].isidentifier() or "{" in head:
            raise ValueError("must end with one '{param}' segment, e.g. '/health/component/{name}'")
        return value

    @field_validator("default_timeout", "default_interval")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be greater than 0")
        return value

    @model_validator(mode="after")
    def _distinct(self) -> HealthSettings:
        paths = [self.path, self.live_path, self.ready_path, self.startup_path,
                 self.checks_path, self.dependencies_path]
        if len(set(paths)) != len(paths):
            raise ValueError("health endpoint paths must be distinct")
        names = [c.name for c in self.checks]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate health check names: {', '.join(dupes)}")
        return self
