"""Slack incoming-webhook receiver (payload as Alertmanager's slack integration)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from .._alert import Alert
from .._data import NotifyContext
from .._template import TemplateSet
from ._base import http_client, post, read_secret
from ._common import Renderer, truncate

__all__ = ["SlackNotifier"]

_DEFAULTS = {
    "username": '{{ template "slack.default.username" . }}',
    "color": '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}',
    "title": '{{ template "slack.default.title" . }}',
    "title_link": '{{ template "slack.default.titlelink" . }}',
    "pretext": "", "text": '{{ template "slack.default.text" . }}',
    "fallback": '{{ template "slack.default.fallback" . }}',
    "footer": "", "icon_emoji": "", "icon_url": "", "channel": "", "callback_id": "",
    "image_url": "", "thumb_url": "",
}


class SlackNotifier:
    def __init__(self, settings: Mapping[str, Any], templates: TemplateSet | None,
                 timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.r = Renderer("slack", settings, templates, _DEFAULTS)
        self.settings = settings
        self._client = http_client(settings, timeout, transport)

    def payload(self, ctx: NotifyContext, alerts: Sequence[Alert]) -> dict[str, Any]:
        data = self.r.data(ctx, alerts)
        g = self.r.get
        attachment: dict[str, Any] = {
            "title": truncate(g("title", data), 1024), "title_link": g("title_link", data),
            "pretext": g("pretext", data), "text": g("text", data),
            "fallback": g("fallback", data), "callback_id": g("callback_id", data),
            "footer": g("footer", data), "color": g("color", data),
            "mrkdwn_in": list(self.settings.get("mrkdwn_in") or ["fallback", "pretext", "text"]),
        }
        for key in ("image_url", "thumb_url"):
            if self.settings.get(key):
                attachment[key] = g(key, data)
        fields = self.settings.get("fields") or []
        if fields:
            attachment["fields"] = [
                {"title": self.r.render(str(f.get("title", "")), data),
                 "value": self.r.render(str(f.get("value", "")), data),
                 "short": bool(f.get("short", self.settings.get("short_fields", False)))}
                for f in fields]
        body: dict[str, Any] = {
            "channel": g("channel", data), "username": g("username", data),
            "icon_emoji": g("icon_emoji", data), "icon_url": g("icon_url", data),
            "link_names": bool(self.settings.get("link_names", False)),
            "attachments": [attachment],
        }
        return body

    async def notify(self, ctx: NotifyContext, alerts: Sequence[Alert]) -> None:
        url = read_secret(self.settings, "api_url")
        await post("slack", self._client, url, json=self.payload(ctx, alerts))

    async def aclose(self) -> None:
        await self._client.aclose()
