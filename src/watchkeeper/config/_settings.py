"""The root of the settings tree: one section per pipeline stage."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ._errors import ErrorsSettings
from ._health import HealthSettings
from ._logs import LogsSettings
from ._metrics import MetricsSettings
from ._rules import NotifySettings, RulesSettings
from ._security import SecuritySettings
from ._service import ServiceSettings
from ._traces import TracesSettings

__all__ = ["Settings"]


class Settings(BaseModel):
    """Everything watchkeeper can be told; see :func:`load_settings` for where it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: ServiceSettings = Field(default_factory=ServiceSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    logs: LogsSettings = Field(default_factory=lambda: LogsSettings())  # noqa: PLW0108
    traces: TracesSettings = Field(default_factory=TracesSettings)
    errors: ErrorsSettings = Field(default_factory=ErrorsSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    rules: RulesSettings = Field(default_factory=RulesSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
