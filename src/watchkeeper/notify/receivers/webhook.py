"""Webhook receiver: POSTs Alertmanager's webhook v4 JSON body, byte-compatible."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import orjson

from ...rules._alert import Alert
from .._data import NotifyContext, build_data
from ._base import http_client, post, read_secret

__all__ = ["WebhookNotifier", "webhook_payload"]


def webhook_payload(ctx: NotifyContext, alerts: Sequence[Alert],
                    max_alerts: int = 0) -> dict[str, Any]:
    """The v4 message: template data plus ``version``, ``groupKey``, ``truncatedAlerts``."""
    truncated = 0
    if max_alerts and len(alerts) > max_alerts:
        truncated = len(alerts) - max_alerts
        alerts = alerts[:max_alerts]
    body = build_data(ctx, alerts).to_json()
    body["version"] = "4"
    body["groupKey"] = ctx.group_key
    body["truncatedAlerts"] = truncated
    return body


class WebhookNotifier:
    def __init__(self, settings: Mapping[str, Any], timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.url = read_secret(settings, "url")
        self.max_alerts = int(settings.get("max_alerts") or 0)
        self._client = http_client(settings, timeout, transport)

    async def notify(self, ctx: NotifyContext, alerts: Sequence[Alert]) -> None:
        body = orjson.dumps(webhook_payload(ctx, alerts, self.max_alerts)) + b"\n"
        await post("webhook", self._client, self.url, content=body,
                   headers={"Content-Type": "application/json"})

    async def aclose(self) -> None:
        await self._client.aclose()
