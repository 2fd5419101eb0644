"""Settings of the logs stage: levels, format, redaction, request logging, sinks, shipping."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from ._duration import Duration
from ._types import CommaList

__all__ = [
    "AccessLogSettings",
    "ElasticsearchSinkSettings",
    "FileSinkSettings",
    "HttpSinkSettings",
    "LogsSettings",
    "LogstashSinkSettings",
    "LokiSinkSettings",
    "OtlpLogSinkSettings",
    "PatternSettings",
    "RedactionSettings",
    "ShipperSettings",
    "SyslogSinkSettings",
]

_LEVELS = {"CRITICAL": "CRITICAL", "FATAL": "CRITICAL", "ERROR": "ERROR", "WARNING": "WARNING",
           "WARN": "WARNING", "INFO": "INFO", "HTTP": "HTTP", "DEBUG": "DEBUG",
           "TRACE": "DEBUG", "NOTSET": "NOTSET"}
_NUMERIC = {50: "CRITICAL", 40: "ERROR", 30: "WARNING", 20: "INFO", 15: "HTTP", 10: "DEBUG",
            0: "NOTSET"}


def _level(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        if value in _NUMERIC:
            return _NUMERIC[value]
        raise ValueError(f"unknown numeric level {value}; use one of {sorted(_NUMERIC)}")
    if isinstance(value, str):
        name = _LEVELS.get(value.strip().upper())
        if name is None:
            raise ValueError(
                f"unknown level {value!r}; use debug, http, info, warning, error or critical"
            )
        return name
    return value


LevelName = Annotated[str, BeforeValidator(_level)]
"""A level name (case-insensitive; ``warn`` and numeric levels accepted), stored upper-case."""

# A boolean DEBUG=1/true (Django, Flask) is not a namespace list: it changes nothing.
_OFF = {"", "0", "false", "no", "off", "1", "true", "yes", "on"}


def _debug_namespaces(value: Any) -> Any:
    # DEBUG=app:* (the node "debug" convention) and WATCHKEEPER_LOG_DEBUG=app.db,app.auth*;
    # "*" means everything.
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        return value
    out: list[str] = []
    for item in items:
        text = str(item).strip()
        if text.lower() in _OFF:
            continue
        out.append(text.replace(":", "."))
    return out


DebugNamespaces = Annotated[list[str], BeforeValidator(_debug_namespaces)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShipperSettings(_Section):
    """What every network sink shares: queueing, batching, retries."""

    enabled: bool = True
    level: LevelName = "DEBUG"
    queue_size: int = Field(default=10_000, ge=1)
    batch_size: int = Field(default=500, ge=1)
    batch_interval: Duration = 1.0
    max_retries: int = Field(default=5, ge=0)
    backoff_initial: Duration = 0.5
    backoff_max: Duration = 30.0
    timeout: Duration = 5.0
    headers: dict[str, str] = Field(default_factory=dict)


class _HttpShipperSettings(ShipperSettings):
    url: str

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value


class LokiSinkSettings(_HttpShipperSettings):
    """Loki push URL, e.g. ``http://loki:3100/loki/api/v1/push``."""

    labels: dict[str, str] = Field(default_factory=dict)
    level_label: bool = True


class ElasticsearchSinkSettings(_HttpShipperSettings):
    """Cluster URL; ``index`` may hold strftime fields (``logs-app-%Y.%m.%d``)."""

    index: str = "logs-watchkeeper"


class HttpSinkSettings(_HttpShipperSettings):
    """Any endpoint taking a JSON array of records."""


class OtlpLogSinkSettings(_HttpShipperSettings):
    url: str = "http://localhost:4318/v1/logs"


class LogstashSinkSettings(ShipperSettings):
    host: str
    port: int = Field(ge=1, le=65535)


class SyslogSinkSettings(ShipperSettings):
    address: str = "/dev/log"
    transport: Literal["udp", "tcp", "unix"] = "udp"
    facility: str = "user"
    app_name: str | None = None

    @field_validator("facility")
    @classmethod
    def _facility(cls, value: str) -> str:
        allowed = {"kern", "user", "daemon", "auth", "syslog", *(f"local{i}" for i in range(8))}
        if value not in allowed:
            raise ValueError(f"unknown facility; use one of {', '.join(sorted(allowed))}")
        return value


class FileSinkSettings(_Section):
    """One log file. Per-level retention is two files: errors kept 30 d, all kept 7 d."""

    path: Path
    level: LevelName = "DEBUG"
    max_bytes: int = Field(default=5 * 1024 * 1024, ge=0)
    rotate_every: Duration = 0.0
    keep: int = Field(default=5, ge=0)
    retention: Duration = 0.0


class RedactionSettings(_Section):
    enabled: bool = True
    add_keys: CommaList = Field(default_factory=list)
    remove_keys: CommaList = Field(default_factory=list)
    value_rules: bool = True
    emails: bool = False
    ips: bool = False
    replacement: str = "[REDACTED]"

    @field_validator("replacement")
    @classmethod
    def _replacement(cls, value: str) -> str:
        if not value:
            raise ValueError("must not be empty (an empty value looks like a real one)")
        return value


class AccessLogSettings(_Section):
    """The one access line per request, and the request id."""

    enabled: bool = True
    request_id_header: str = "X-Request-ID"
    trust_request_id: bool = True
    max_request_id_length: int = Field(default=128, ge=8, le=1024)
    slow_threshold: Duration = 1.0
    trusted_proxies: CommaList = Field(default_factory=list)
    debug: bool = False
    max_body_bytes: int = Field(default=4096, ge=0)


class PatternSettings(_Section):
    enabled: bool = True
    max_clusters: int = Field(default=1000, ge=1)
    similarity: float = Field(default=0.4, gt=0, le=1)
    depth: int = Field(default=4, ge=3)
    queue_size: int = Field(default=10_000, ge=1)


class LogsSettings(_Section):
    """How logs are formatted, filtered, redacted and where they go."""

    enabled: bool = True
    level: LevelName = "INFO"
    format: Literal["auto", "json", "console"] = "auto"
    stream: Literal["stdout", "stderr", "none"] = "stdout"
    debug: DebugNamespaces = Field(default_factory=list)
    # Per-logger levels; "watchkeeper.access" is HTTP unless set here (the access line).
    levels: dict[str, LevelName] = Field(default_factory=dict)
    fields: Literal["default", "ecs", "otel"] = "default"
    rename: dict[str, str] = Field(default_factory=dict)
    caller: bool = True
    max_message_length: int = Field(default=16_384, ge=64)
    flush_interval: Duration = 0.2
    capture_warnings: bool = True
    adopt_loggers: CommaList = Field(default_factory=lambda: [
        "uvicorn", "uvicorn.error", "gunicorn", "gunicorn.error", "httpx", "httpcore",
        "sqlalchemy", "sqlalchemy.engine", "asyncio", "py.warnings",
    ])
    # Lambdas, not the classes: mypy (without the pydantic plugin) rejects a model class
    # as a default_factory.
    access_log: AccessLogSettings = Field(default_factory=lambda: AccessLogSettings())  # noqa: PLW0108
    redaction: RedactionSettings = Field(default_factory=lambda: RedactionSettings())  # noqa: PLW0108
    patterns: PatternSettings = Field(default_factory=lambda: PatternSettings())  # noqa: PLW0108
    files: list[FileSinkSettings] = Field(default_factory=list)
    syslog: SyslogSinkSettings | None = None
    loki: LokiSinkSettings | None = None
    elasticsearch: ElasticsearchSinkSettings | None = None
    logstash: LogstashSinkSettings | None = None
    http: HttpSinkSettings | None = None
    otlp: OtlpLogSinkSettings | None = None
    shutdown_timeout: Duration = 5.0
    drop_warning_interval: Duration = 60.0

    @field_validator("rename")
    @classmethod
    def _rename_known(cls, value: dict[str, str]) -> dict[str, str]:
        known = {"timestamp", "level", "message", "logger", "service", "version", "environment",
                 "host", "pid", "module", "function", "line", "request_id", "trace_id",
                 "span_id", "exception"}
        for name, target in value.items():
            if name not in known:
                raise ValueError(f"cannot rename unknown field {name!r}; known: "
                                 + ", ".join(sorted(known)))
            if not target:
                raise ValueError(f"new name for {name!r} must not be empty")
        return value
