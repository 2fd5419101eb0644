"""HTTP(S) URL check: status, latency and an optional body match, through httpx."""

from __future__ import annotations

import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping

from ...exceptions import HealthCheckConfigError
from .._redact import redact

__all__ = ["http_check"]


def http_check(
    url: str,
    *,
    method: str = "GET",
    expected_status: int | Iterable[int] | None = None,
    body_contains: str | None = None,
    headers: Mapping[str, str] | None = None,
    verify: bool = True,
) -> Callable[[], Awaitable[tuple[bool, str]]]:
    """Pass when ``url`` answers with ``expected_status`` (default: any 2xx/3xx) and, if
    given, a body containing ``body_contains``. Credentials in the URL never appear in
    messages."""
    if not url.startswith(("http://", "https://")):
        raise HealthCheckConfigError(f"http check: url must be http(s)://..., got {redact(url)!r}")
    try:
        import httpx
    except ImportError as exc:
        raise HealthCheckConfigError(
            "http check needs httpx: pip install 'watchkeeper[hub]' or httpx") from exc
    wanted: frozenset[int] | None
    if expected_status is None:
        wanted = None
    elif isinstance(expected_status, int):
        wanted = frozenset({expected_status})
    else:
        wanted = frozenset(expected_status)
    shown = redact(url)
    request_headers = dict(headers or {})
    # Built once: a fresh httpx client would load the CA bundle on every run, holding the
    # GIL for milliseconds that the app's request threads would feel.
    tls: ssl.SSLContext | bool = ssl.create_default_context() if verify else False

    async def http() -> tuple[bool, str]:
        start = time.monotonic()
        # The runner enforces the check's timeout; httpx's own would only race it.
        async with httpx.AsyncClient(timeout=None, verify=tls) as client:
            try:
                response = await client.request(method, url, headers=request_headers)
            except httpx.HTTPError as exc:
                return False, f"{method} {shown} failed: {type(exc).__name__}: {redact(str(exc))}"
        elapsed = (time.monotonic() - start) * 1000
        status = response.status_code
        ok = status in wanted if wanted is not None else 200 <= status < 400
        text = f"{method} {shown} -> {status} in {elapsed:.0f} ms"
        if not ok:
            return False, f"{text} (unexpected status)"
        if body_contains is not None and body_contains not in response.text:
            return False, f"{text}, body does not contain {body_contains!r}"
        return True, text

    return http
