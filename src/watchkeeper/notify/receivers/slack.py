"""Slack incoming-webhook receiver (payload as Alertmanager's slack integration)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from ...rules._alert import Alert
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


def _put(target: dict[str, Any], key: str, value: str) -> None:
    if value:  # Go's ``omitempty``
        target[key] = value


def _action(r: Renderer, raw: Mapping[str, Any], data: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("type", "text", "url", "style", "name", "value"):
        _put(out, key, r.render(str(raw.get(key, "")), data))
    confirm = raw.get("confirm")
    if confirm:
        out["confirm"] = {k: r.render(str(confirm.get(k, "")), data)
                          for k in ("title", "text", "ok_text", "dismiss_text")}
    return out


class SlackNotifier:
    def __init__(self, settings: Mapping[str, Any], templates: TemplateSet | None,
                 timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.r = Renderer("slack", settings, templates, _DEFAULTS)
        self.settings = settings
        self._client = http_client(settings, timeout, transport)

    def payload(self, ctx: NotifyContext, alerts: Sequence[Alert]) -> dict[str, Any]:
        """The request body, field for field (and omitted-when-empty) as Alertmanager's."""
        data = self.r.data(ctx, alerts)
        g = self.r.get
        att: dict[str, Any] = {}
        _put(att, "title", truncate(g("title", data), 1024))
        _put(att, "title_link", g("title_link", data))
        _put(att, "pretext", g("pretext", data))
        att["text"] = g("text", data)
        att["fallback"] = g("fallback", data)
        att["callback_id"] = g("callback_id", data)
        fields = self.settings.get("fields") or []
        if fields:
            att["fields"] = [
                {"title": self.r.render(str(f.get("title", "")), data),
                 "value": self.r.render(str(f.get("value", "")), data),
                 "short": bool(f["short"]) if f.get("short") is not None
                 else bool(self.settings.get("short_fields", False))}
                for f in fields]
        actions = self.settings.get("actions") or []
        if actions:
            att["actions"] = [_action(self.r, a, data) for a in actions]
        _put(att, "image_url", g("image_url", data))
        _put(att, "thumb_url", g("thumb_url", data))
        att["footer"] = g("footer", data)
        _put(att, "color", g("color", data))
        att["mrkdwn_in"] = list(self.settings.get("mrkdwn_in") or
                                ["fallback", "pretext", "text"])
        body: dict[str, Any] = {}
        _put(body, "channel", g("channel", data))
        _put(body, "username", g("username", data))
        _put(body, "icon_emoji", g("icon_emoji", data))
        _put(body, "icon_url", g("icon_url", data))
        if self.settings.get("link_names"):
            body["link_names"] = True
        body["attachments"] = [att]
        return body

    async def notify(self, ctx: NotifyContext, alerts: Sequence[Alert]) -> None:
        url = read_secret(self.settings, "api_url")
        await post("slack", self._client, url, json=self.payload(ctx, alerts))

    async def aclose(self) -> None:
        await self._client.aclose()
