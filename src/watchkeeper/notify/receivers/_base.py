"""The one small base every receiver integration implements, plus shared HTTP helpers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import httpx

from ...exceptions import ReceiverError
from ...rules._alert import Alert
from .._data import NotifyContext

__all__ = ["Notifier", "check_response", "http_client", "read_secret"]


class Notifier(Protocol):
    """Delivers one notification; raises :class:`ReceiverError` (``retryable`` or not)."""

    async def notify(self, ctx: NotifyContext, alerts: Sequence[Alert]) -> None: ...


def read_secret(settings: Mapping[str, Any], key: str) -> str:
    """``key`` inline or ``key_file`` read from disk (Alertmanager's ``*_file`` fields)."""
    value = settings.get(key)
    if value:
        return str(value)
    path = settings.get(f"{key}_file")
    if path:
        with open(str(path), encoding="utf-8") as fh:
            return fh.read().strip()
    return ""


def http_client(settings: Mapping[str, Any], timeout: float,
                transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """An httpx client honouring the common parts of Alertmanager's ``http_config``."""
    http = settings.get("http_config") or {}
    auth: httpx.Auth | None = None
    headers: dict[str, str] = {}
    basic = http.get("basic_auth")
    if basic:
        auth = httpx.BasicAuth(str(basic.get("username", "")),
                               read_secret(basic, "password"))
    token = read_secret(http, "bearer_token")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    authz = http.get("authorization")
    if authz:
        kind = authz.get("type", "Bearer")
        headers["Authorization"] = f"{kind} {read_secret(authz, 'credentials')}"
    tls = http.get("tls_config") or {}
    verify: bool | str = not tls.get("insecure_skip_verify", False)
    if tls.get("ca_file"):
        verify = str(tls["ca_file"])
    proxy = http.get("proxy_url")
    return httpx.AsyncClient(
        timeout=timeout, auth=auth, headers=headers, verify=verify,
        follow_redirects=bool(http.get("follow_redirects", True)),
        transport=transport, proxy=None if transport is not None else proxy,
    )


def check_response(name: str, resp: httpx.Response) -> None:
    """Alertmanager's retrier: 2xx ok, 5xx and 429 retried, other statuses fatal."""
    if 200 <= resp.status_code < 300:
        return
    body = resp.text[:1024]
    retryable = resp.status_code >= 500 or resp.status_code == 429
    raise ReceiverError(f"{name}: unexpected status code {resp.status_code}: {body}",
                        retryable=retryable)


async def post(name: str, client: httpx.AsyncClient, url: str, **kwargs: Any) -> httpx.Response:
    try:
        resp = await client.post(url, **kwargs)
    except httpx.HTTPError as exc:
        raise ReceiverError(f"{name}: {type(exc).__name__}: {exc}", retryable=True) from exc
    check_response(name, resp)
    return resp
