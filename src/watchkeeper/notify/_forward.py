"""Forward alerts to an external Alertmanager (API v2) instead of routing them here."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx

from ..exceptions import ReceiverError
from ..rules._alert import Alert
from ._alert_json import alerts_to_json
from ._pipeline import Backoff, Sleep

__all__ = ["AlertmanagerForwarder"]


class AlertmanagerForwarder:
    """POSTs alerts to ``<url>/api/v2/alerts`` of one or more Alertmanagers, with retries.

    Example::

        fwd = AlertmanagerForwarder(["http://am-1:9093", "http://am-2:9093"])
        await fwd.send([Alert({"alertname": "Down"})])
    """

    def __init__(self, urls: str | Sequence[str], *, timeout: float = 10.0,
                 attempts: int = 3, backoff: Backoff | None = None,
                 sleep: Sleep = asyncio.sleep,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.urls = [urls] if isinstance(urls, str) else list(urls)
        self.attempts = attempts
        self.backoff = backoff or Backoff()
        self.sleep = sleep
        self._client = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def send(self, alerts: Sequence[Alert]) -> None:
        """Deliver to every Alertmanager; raises ReceiverError if one never accepted them."""
        if not alerts:
            return
        body = alerts_to_json(alerts)
        results = await asyncio.gather(*(self._send_one(u, body) for u in self.urls),
                                       return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise ReceiverError("; ".join(str(e) for e in errors))

    async def _send_one(self, base: str, body: list[dict[str, Any]]) -> None:
        url = base.rstrip("/") + "/api/v2/alerts"
        delay = self.backoff.delays()
        last = ""
        for attempt in range(1, self.attempts + 1):
            try:
                resp = await self._client.post(url, json=body)
                if resp.status_code < 300:
                    return
                last = f"HTTP {resp.status_code}: {resp.text[:200]}"
                if 400 <= resp.status_code < 500 and resp.status_code != 429:
                    break
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            if attempt < self.attempts:
                await self.sleep(delay())
        raise ReceiverError(f"forwarding to {url} failed: {last}")

    async def aclose(self) -> None:
        await self._client.aclose()
