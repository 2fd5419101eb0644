"""Receiver integrations, one module each; :func:`build_notifier` picks one by kind."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from ...exceptions import ReceiverError
from ...rules._alert import Alert
from .._data import NotifyContext
from ._base import Notifier

__all__ = ["Notifier", "build_notifier"]


class _Unsupported:
    def __init__(self, kind: str) -> None:
        self.kind = kind

    async def notify(self, ctx: NotifyContext, alerts: Sequence[Alert]) -> None:
        raise ReceiverError(f"{self.kind}: integration not supported by watchkeeper",
                            retryable=False)


def build_notifier(kind: str, settings: Mapping[str, Any], *, templates: Any = None,
                   timeout: float = 10.0,
                   transport: httpx.AsyncBaseTransport | None = None) -> Notifier:
    """The notifier for one ``<kind>_configs`` entry (``templates``: a TemplateSet)."""
    if kind == "webhook":
        from .webhook import WebhookNotifier
        return WebhookNotifier(settings, timeout, transport)
    if kind == "slack":
        from .slack import SlackNotifier
        return SlackNotifier(settings, templates, timeout, transport)
    if kind == "pagerduty":
        from .pagerduty import PagerDutyNotifier
        return PagerDutyNotifier(settings, templates, timeout, transport)
    if kind == "email":
        from .email import EmailNotifier
        return EmailNotifier(settings, templates, timeout)
    if kind == "telegram":
        from .telegram import TelegramNotifier
        return TelegramNotifier(settings, templates, timeout, transport)
    if kind == "msteams":
        from .msteams import MSTeamsNotifier
        return MSTeamsNotifier(settings, templates, timeout, transport)
    return _Unsupported(kind)
