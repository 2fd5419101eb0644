"""Helpers shared by the templated receivers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ...exceptions import NotifyTemplateError, ReceiverError
from ...rules._alert import Alert
from .._data import NotifyContext, TemplateData, build_data
from .._template import TemplateSet

__all__ = ["Renderer", "truncate"]


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


class Renderer:
    """Renders a receiver's templated settings against one notification's data."""

    def __init__(self, name: str, settings: Mapping[str, Any], templates: TemplateSet | None,
                 defaults: Mapping[str, Any]) -> None:
        self.name = name
        self.settings = settings
        self.templates = templates if templates is not None else TemplateSet.from_globs([])
        self.defaults = defaults

    def data(self, ctx: NotifyContext, alerts: Sequence[Alert]) -> TemplateData:
        return build_data(ctx, alerts)

    def get(self, key: str, data: TemplateData, *, html: bool = False) -> str:
        value = self.settings.get(key)
        if value is None:
            value = self.defaults.get(key, "")
        return self.render(str(value), data, html=html)

    def render(self, text: str, data: TemplateData, *, html: bool = False) -> str:
        try:
            return self.templates.render(text, data, html=html)
        except NotifyTemplateError as exc:
            raise ReceiverError(f"{self.name}: template: {exc}", retryable=False) from exc
