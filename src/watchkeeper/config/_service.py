"""Who is being observed: the service identity shared by every signal."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ServiceSettings"]


class ServiceSettings(BaseModel):
    """Service identity, also filled from ``OTEL_SERVICE_NAME``/``OTEL_RESOURCE_ATTRIBUTES``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="unknown_service", min_length=1)
    version: str = "unknown"
    environment: str = "production"
    instance: str | None = None
    resource_attributes: dict[str, str] = Field(default_factory=dict)
