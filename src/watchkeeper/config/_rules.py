"""Settings of in-process alerting: rule files, self-sampling and the notification pipeline.

Rules run inside the app only when ``rules.files`` names something; notifications go
through an in-process Alertmanager when ``notify.config_file`` is set (or to an external
Alertmanager when ``notify.forward_url`` is).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ._duration import Duration
from ._types import CommaList

__all__ = ["EscalationLevelSettings", "EscalationSettings", "NotifySettings",
           "RotationSettings", "RulesSettings"]

_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class RulesSettings(BaseModel):
    """Prometheus rule files evaluated over the app's own metric history."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    files: CommaList = Field(default_factory=list)
    """Globs of Prometheus rule files (or the seed shorthand); empty: no in-process rules."""
    evaluation_interval: Duration = 60.0
    """How often each group is evaluated unless the group sets its own ``interval``."""
    scrape_interval: Duration = 15.0
    """How often the app's own metrics are sampled into the history the rules read."""
    retention: Duration = 3600.0
    """How much history is kept in memory (longest range any rule looks back over)."""
    external_labels: dict[str, str] = Field(default_factory=dict)
    """Added to every alert, as Prometheus' ``global.external_labels``."""
    external_url: str = ""
    """``$externalURL`` in templates and the alerts' generator URL."""
    state_dir: Path | None = None
    """Where alert state persists so a restart keeps pending/firing alerts (None: memory)."""

    @field_validator("scrape_interval", "evaluation_interval")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be longer than 0s")
        return value

    @field_validator("external_labels")
    @classmethod
    def _label_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _LABEL_NAME.match(name) or name.startswith("__"):
                raise ValueError(f"{name!r} is not a valid label name")
        return value

    @property
    def enabled(self) -> bool:
        return bool(self.files)


class EscalationLevelSettings(BaseModel):
    """After ``after`` unacknowledged, notify ``receivers`` (names from alertmanager.yml, or
    ``rotation:<name>:primary|secondary``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after: Duration
    receivers: CommaList = Field(min_length=1)


class EscalationSettings(BaseModel):
    """One escalation policy (seed 001): levels paged in turn until someone acknowledges."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    matchers: str = ""
    """Alertmanager matchers the alert must match, e.g. ``{severity="critical"}``."""
    priorities: CommaList = Field(default_factory=list)
    """Only alerts of these priorities (P1-P4, from the severity label)."""
    levels: list[EscalationLevelSettings] = Field(min_length=1)


class RotationSettings(BaseModel):
    """A weekly (or ``period``) on-call rotation (seed 004)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    members: CommaList = Field(min_length=1)
    start: datetime
    period: Duration = 7 * 86400.0


class NotifySettings(BaseModel):
    """Where alerts go: an in-process Alertmanager, or an external one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    config_file: Path | None = None
    """An alertmanager.yml, read unchanged; None: no in-process routing."""
    data_dir: Path | None = None
    """Silences, the notification log and active alerts persist here, so a restart sends
    neither a duplicate nor nothing (None: memory only)."""
    forward_url: str = ""
    """An external Alertmanager (``http://host:9093``) that gets the alerts instead."""
    api_prefix: str = "/alertmanager"
    """Mount point of the Alertmanager v2-compatible API on the instrumented app."""
    timeout: Duration = 10.0
    """Per-attempt timeout of every receiver."""
    escalations: list[EscalationSettings] = Field(default_factory=list)
    rotations: list[RotationSettings] = Field(default_factory=list)

    @field_validator("api_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if value and (not value.startswith("/") or value.endswith("/")):
            raise ValueError("must start with '/' and not end with one (or be empty: no API)")
        return value

    @field_validator("forward_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @property
    def enabled(self) -> bool:
        return self.config_file is not None or bool(self.forward_url)
