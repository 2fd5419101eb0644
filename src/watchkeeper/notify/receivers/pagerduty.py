"""PagerDuty Events API v2 receiver: trigger/resolve with a stable ``dedup_key``."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from .._alert import Alert
from .._data import NotifyContext
from .._template import TemplateSet
from ._base import http_client, post, read_secret
from ._common import Renderer, truncate

__all__ = ["PagerDutyNotifier"]

_DEFAULTS = {
    "description": '{{ template "pagerduty.default.description" . }}',
    "client": '{{ template "pagerduty.default.client" . }}',
    "client_url": '{{ template "pagerduty.default.clientURL" . }}',
    "severity": "error", "class": "", "component": "", "group": "", "source": "",
}


class PagerDutyNotifier:
    def __init__(self, settings: Mapping[str, Any], templates: TemplateSet | None,
                 timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.r = Renderer("pagerduty", settings, templates, _DEFAULTS)
        self.settings = settings
        self._client = http_client(settings, timeout, transport)

    def payload(self, ctx: NotifyContext, alerts: Sequence[Alert]) -> dict[str, Any]:
        data = self.r.data(ctx, alerts)
        g = self.r.get
        firing = data["Alerts"].Firing()
        action = "trigger" if firing else "resolve"
        details = self.settings.get("details") or {
            "firing": '{{ template "pagerduty.default.instances" .Alerts.Firing }}',
            "resolved": '{{ template "pagerduty.default.instances" .Alerts.Resolved }}',
            "num_firing": "{{ .Alerts.Firing | len }}",
            "num_resolved": "{{ .Alerts.Resolved | len }}",
        }
        source = g("source", data) or g("client", data)
        body: dict[str, Any] = {
            "routing_key": read_secret(self.settings, "routing_key")
            or read_secret(self.settings, "service_key"),
            "event_action": action,
            # sha256 of the group key, as Alertmanager's ``Key.Hash()``.
            "dedup_key": hashlib.sha256(ctx.group_key.encode()).hexdigest(),
            "client": g("client", data), "client_url": g("client_url", data),
            "payload": {
                "summary": truncate(g("description", data), 1024),
                "source": source,
                "severity": g("severity", data),
                "custom_details": {k: self.r.render(str(v), data) for k, v in details.items()},
                "class": g("class", data), "component": g("component", data),
                "group": g("group", data),
            },
        }
        images = [{"src": self.r.render(str(i.get("src", "")), data),
                   "alt": self.r.render(str(i.get("alt", "")), data),
                   "href": self.r.render(str(i.get("href", "")), data)}
                  for i in self.settings.get("images") or []]
        links = [{"href": self.r.render(str(li.get("href", "")), data),
                  "text": self.r.render(str(li.get("text", "")), data)}
                 for li in self.settings.get("links") or []]
        if images:
            body["images"] = images
        if links:
            body["links"] = links
        return body

    async def notify(self, ctx: NotifyContext, alerts: Sequence[Alert]) -> None:
        url = str(self.settings.get("url") or "https://events.pagerduty.com/v2/enqueue")
        await post("pagerduty", self._client, url, json=self.payload(ctx, alerts))

    async def aclose(self) -> None:
        await self._client.aclose()
