"""Settings of the errors stage: which errors are captured, how they group and where
they go."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ._duration import Duration
from ._types import CommaList

__all__ = ["ErrorsSettings"]

_HOOKS = ("requests", "threads", "asyncio", "sys")


class ErrorsSettings(BaseModel):
    """Error capture, grouping, limits and sinks."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    enabled: bool = True
    hooks: CommaList = Field(default_factory=lambda: list(_HOOKS))
    """Where unhandled exceptions are caught: requests, threads, asyncio, sys."""
    ignore_exceptions: CommaList = Field(
        default_factory=lambda: ["KeyboardInterrupt", "SystemExit", "GeneratorExit",
                                 "CancelledError"])
    """Exception class names (or ``module.Name``); subclasses are ignored too."""
    ignore_routes: CommaList = Field(
        default_factory=lambda: ["/health*", "/healthz", "/livez", "/readyz", "/metrics"])
    """Route templates or paths (``*`` globs) whose errors are not captured."""
    in_app_include: CommaList = Field(default_factory=list)
    """Module prefixes that are the application's own code (default: not site-packages)."""
    in_app_exclude: CommaList = Field(default_factory=list)
    sample_rate: float = Field(default=1.0, ge=0.0, le=1.0)
    rate_limit: int = Field(default=100, ge=0)
    """Events kept per fingerprint per ``rate_window``; further ones are only counted."""
    rate_window: Duration = 60.0
    max_issues: int = Field(default=1000, ge=1)
    samples_per_issue: int = Field(default=10, ge=0)
    context_lines: int = Field(default=5, ge=0, le=50)
    capture_locals: bool = True
    hub_url: str | None = None
    sentry_dsn: str | None = None
    before_send: Callable[[dict[str, Any]], dict[str, Any] | None] | str | None = None
    """A callable (or ``module:function``) given each event; return None to drop it."""

    @field_validator("hooks")
    @classmethod
    def _known_hooks(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in _HOOKS:
                raise ValueError(f"unknown hook {name!r}; use {', '.join(_HOOKS)}")
        return value

    @field_validator("hub_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("before_send")
    @classmethod
    def _importable(cls, value: Any) -> Any:
        if isinstance(value, str) and ":" not in value:
            raise ValueError("must be a callable or 'module:function'")
        return value
