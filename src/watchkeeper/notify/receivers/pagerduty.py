"""PagerDuty Events API v2 receiver: trigger/resolve with a stable ``dedup_key``."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from ...rules._alert import Alert
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


_DEFAULT_DETAILS = {
    "firing": '{{ template "pagerduty.default.instances" .Alerts.Firing }}',
    "resolved": '{{ template "pagerduty.default.instances" .Alerts.Resolved }}',
    "num_firing": "{{ .Alerts.Firing | len }}",
    "num_resolved": "{{ .Alerts.Resolved | len }}",
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
        # As Alertmanager: the default details are always there unless overridden by key.
        details = {**_DEFAULT_DETAILS, **(self.settings.get("details") or {})}
        # Alertmanager: the source defaults to the client template.
        source = self.r.render(str(self.settings.get("source") or self.settings.get("client")
                                   or _DEFAULTS["client"]), data)
        payload: dict[str, Any] = {
            "summary": truncate(g("description", data), 1024),
            "source": source,
            "severity": g("severity", data),
        }
        for key in ("class", "component", "group"):  # omitempty, as upstream
            if value := g(key, data):
                payload[key] = value
        custom = {k: self.r.render(str(v), data) for k, v in details.items()}
        if custom:
            payload["custom_details"] = custom
        body: dict[str, Any] = {
            "routing_key": self.r.render(read_secret(self.settings, "routing_key")
                                         or read_secret(self.settings, "service_key"), data),
            # sha256 of the group key, as Alertmanager's ``Key.Hash()``.
            "dedup_key": hashlib.sha256(ctx.group_key.encode()).hexdigest(),
            "event_action": action,
            "payload": payload,
        }
        for key in ("client", "client_url"):
            if value := g(key, data):
                body[key] = value
        images = [{"src": self.r.render(str(i.get("src", "")), data),
                   "alt": self.r.render(str(i.get("alt", "")), data),
                   "href": self.r.render(str(i.get("href", "")), data)}
                  for i in self.settings.get("images") or []]
        links = [{"href": self.r.render(str(li.get("href", "")), data),
                  "text": self.r.render(str(li.get("text", "")), data)}
                 for li in self.settings.get("links") or []]
        images = [i for i in images if i["src"]]
        links = [li for li in links if li["href"]]
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
