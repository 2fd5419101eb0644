"""Telegram Bot API receiver (``sendMessage``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from ...rules._alert import Alert
from .._data import NotifyContext
from .._template import TemplateSet
from ._base import http_client, post, read_secret
from ._common import Renderer, truncate

__all__ = ["TelegramNotifier"]

_DEFAULTS = {"message": '{{ template "telegram.default.message" . }}'}


class TelegramNotifier:
    def __init__(self, settings: Mapping[str, Any], templates: TemplateSet | None,
                 timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.r = Renderer("telegram", settings, templates, _DEFAULTS)
        self.settings = settings
        self._client = http_client(settings, timeout, transport)

    def payload(self, ctx: NotifyContext, alerts: Sequence[Alert]) -> dict[str, Any]:
        """sendMessage parameters as Alertmanager's Telegram client posts them (strings)."""
        data = self.r.data(ctx, alerts)
        parse_mode = str(self.settings.get("parse_mode") or "HTML")
        text = self.r.get("message", data, html=parse_mode == "HTML")
        body: dict[str, Any] = {
            "chat_id": str(self.settings["chat_id"]),
            "text": truncate(text, 4096),
            "disable_web_page_preview": "true",
        }
        if parse_mode:
            body["parse_mode"] = parse_mode
        if self.settings.get("disable_notifications"):
            body["disable_notification"] = "true"
        if self.settings.get("message_thread_id"):
            body["message_thread_id"] = str(self.settings["message_thread_id"])
        return body

    async def notify(self, ctx: NotifyContext, alerts: Sequence[Alert]) -> None:
        api = str(self.settings.get("api_url") or "https://api.telegram.org").rstrip("/")
        token = read_secret(self.settings, "bot_token")
        await post("telegram", self._client, f"{api}/bot{token}/sendMessage",
                   json=self.payload(ctx, alerts))

    async def aclose(self) -> None:
        await self._client.aclose()
