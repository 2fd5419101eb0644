"""Settings of the security stage: inspection, rate limits, brute force, audit log."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ._duration import Duration
from ._types import CommaList

__all__ = [
    "AuditSettings",
    "BruteForceSettings",
    "CustomRule",
    "RateLimitRule",
    "RateLimitSettings",
    "SecuritySettings",
]

CATEGORIES = ("sqli", "xss", "path_traversal", "command_injection", "ssrf", "code_injection",
              "scanner")
Severity = Literal["low", "medium", "high", "critical"]
_RULE_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_HEADER = re.compile(r"^[a-z0-9-]+$")


def _check_networks(value: list[str]) -> list[str]:
    for item in value:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError as exc:
            raise ValueError(f"{item!r} is not an IP address or CIDR network") from exc
    return value


def _check_storage(value: str) -> str:
    if not value.startswith(("memory://", "redis://", "rediss://", "redis+unix://")):
        raise ValueError("must be memory:// or a redis:// (rediss://, redis+unix://) URL")
    return value


class CustomRule(BaseModel):
    """A user pattern, matched against normalised (decoded, case-folded) text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    pattern: str = Field(min_length=1, max_length=2000)
    category: str = "custom"
    severity: Severity = "medium"
    locations: CommaList = Field(default_factory=list)  # empty: everywhere

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _RULE_ID.match(value):
            raise ValueError("rule ids are lower-case [a-z0-9_.-], at most 64 characters")
        return value


class AuditSettings(BaseModel):
    """The hash-chained audit log of security events."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    path: Path | None = None  # None: kept in memory only (and logged)
    retention: Duration = 90 * 86400.0
    fsync: bool = False


class BruteForceSettings(BaseModel):
    """Failed-authentication tracking and temporary blocks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    login_routes: CommaList = Field(default_factory=lambda: ["/login", "/auth/*", "/token"])
    threshold: int = Field(default=10, ge=1)  # more failures than this in `window`: incident
    window: Duration = 300.0
    block_ttl: Duration = 900.0  # temporary block after an incident (block mode only)
    token_header: str = "authorization"
    token_rate_threshold: int = Field(default=0, ge=0)  # requests per window; 0 = off
    # Where failure counts and blocks live: None follows rate_limits.storage; a redis://
    # URL shares them across replicas (synced every sync_interval, off the request path).
    storage: str | None = None
    sync_interval: Duration = 0.05

    @field_validator("storage")
    @classmethod
    def _storage_scheme(cls, value: str | None) -> str | None:
        return None if value is None else _check_storage(value)

    @field_validator("sync_interval")
    @classmethod
    def _interval(cls, value: float) -> float:
        if not 0.001 <= value <= 5:
            raise ValueError("must be between 1ms and 5s")
        return value

    @field_validator("window", "block_ttl")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be longer than 0s")
        return value


class RateLimitRule(BaseModel):
    """One limit: ``limit`` requests per ``window`` for each ``scope`` key on ``routes``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scope: Literal["ip", "key", "user", "global"] = "ip"
    limit: int = Field(ge=1)
    window: Duration = 60.0
    strategy: Literal["fixed_window", "sliding_window", "token_bucket"] = "fixed_window"
    routes: CommaList = Field(default_factory=lambda: ["*"])
    key_header: str = "x-api-key"  # scope "key": the API key header; "user": x-user-id

    @field_validator("window")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value < 1:
            raise ValueError("must be at least 1s")
        return value

    @field_validator("key_header")
    @classmethod
    def _header(cls, value: str) -> str:
        value = value.lower()
        if not _HEADER.match(value):
            raise ValueError("must be an HTTP header name")
        return value


class RateLimitSettings(BaseModel):
    """Rate limits and where their counters live (``memory://`` or ``redis://host:port``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    storage: str = "memory://"
    sync_interval: Duration = 0.01  # Redis: how often local counts are pushed and pulled
    rules: list[RateLimitRule] = Field(default_factory=list)

    @field_validator("storage")
    @classmethod
    def _storage_scheme(cls, value: str) -> str:
        return _check_storage(value)

    @field_validator("sync_interval")
    @classmethod
    def _interval(cls, value: float) -> float:
        if not 0.001 <= value <= 5:
            raise ValueError("must be between 1ms and 5s")
        return value


class SecuritySettings(BaseModel):
    """Request inspection, rate limiting, brute-force defence and the audit log.

    ``mode`` ``detect`` (default) logs, counts and audits findings; ``block`` also answers
    attacks with 403 and enforces temporary blocks. Rate limits answer 429 in both modes.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    mode: Literal["detect", "block"] = "detect"
    engine: Literal["auto", "re2", "re"] = "auto"
    categories: CommaList = Field(default_factory=lambda: list(CATEGORIES))
    inspect_headers: CommaList = Field(default_factory=lambda: ["user-agent", "referer",
                                                                "cookie"])
    inspect_body: bool = False
    max_body_bytes: int = Field(default=65536, ge=0, le=16 * 1024 * 1024)
    max_inspect_chars: int = Field(default=8192, ge=64, le=1024 * 1024)
    custom_rules: list[CustomRule] = Field(default_factory=list)
    disabled_rules: CommaList = Field(default_factory=list)
    allow_paths: CommaList = Field(default_factory=list)  # globs never inspected
    allow_clients: CommaList = Field(default_factory=list)  # IPs/CIDRs never blocked
    trusted_proxies: CommaList = Field(default_factory=list)  # IPs/CIDRs whose XFF counts
    # Serve /health/compliance. Off by default: it tells whoever asks how the service is
    # defended, and verifying the audit chain reads the whole file on every call.
    compliance_endpoint: bool = False
    # How a client IP or user name appears in incident alerts: a stable short digest
    # (groups across replicas without shipping the address), in clear, or not at all.
    alert_subject: Literal["hash", "plain", "omit"] = "hash"
    audit: AuditSettings = Field(default_factory=AuditSettings)
    brute_force: BruteForceSettings = Field(default_factory=BruteForceSettings)
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(CATEGORIES))
        if unknown:
            raise ValueError(f"unknown categories {unknown}; known: {list(CATEGORIES)}")
        return value

    @field_validator("inspect_headers")
    @classmethod
    def _headers(cls, value: list[str]) -> list[str]:
        value = [v.lower() for v in value]
        for name in value:
            if not _HEADER.match(name):
                raise ValueError(f"{name!r} is not an HTTP header name")
        return value

    @field_validator("allow_clients", "trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        return _check_networks(value)

    @model_validator(mode="after")
    def _unique_rule_ids(self) -> SecuritySettings:
        ids = [r.id for r in self.custom_rules]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"custom rule ids must be unique: {duplicates}")
        return self
