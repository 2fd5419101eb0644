"""Microsoft Teams incoming-webhook receiver (MessageCard), usable as a generic template
webhook: ``title``, ``summary`` and ``text`` are templates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from ...rules._alert import Alert
from .._data import NotifyContext
from .._template import TemplateSet
from ._base import http_client, post, read_secret
from ._common import Renderer

__all__ = ["MSTeamsNotifier"]

_DEFAULTS = {
    "title": '{{ template "msteams.default.title" . }}',
    "summary": '{{ template "msteams.default.summary" . }}',
    "text": '{{ template "msteams.default.text" . }}',
}


class MSTeamsNotifier:
    def __init__(self, settings: Mapping[str, Any], templates: TemplateSet | None,
                 timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.r = Renderer("msteams", settings, templates, _DEFAULTS)
        self.settings = settings
        self._client = http_client(settings, timeout, transport)

    def payload(self, ctx: NotifyContext, alerts: Sequence[Alert]) -> dict[str, Any]:
        data = self.r.data(ctx, alerts)
        return {
            "@type": "MessageCard",
            "@context": "http://schema.org/extensions",
            "title": self.r.get("title", data),
            "summary": self.r.get("summary", data),
            "text": self.r.get("text", data),
            "themeColor": "8C1A1A" if data["Status"] == "firing" else "2DC72D",
        }

    async def notify(self, ctx: NotifyContext, alerts: Sequence[Alert]) -> None:
        await post("msteams", self._client, read_secret(self.settings, "webhook_url"),
                   json=self.payload(ctx, alerts))

    async def aclose(self) -> None:
        await self._client.aclose()
