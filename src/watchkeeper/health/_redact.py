"""Keep secrets out of check messages: passwords in DSNs and URLs, and known secrets."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["redact", "redact_dsn"]

# scheme://user:password@host  ->  scheme://user:***@host
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)@")
# libpq key/value form and query strings: password=secret
_KV_PASSWORD = re.compile(r"(?i)(?P<head>\b(?:password|passwd|pwd)\s*=\s*)(?P<pw>'[^']*'|[^\s&;]+)")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with DSN/URL passwords, ``password=`` values and each of ``secrets``
    replaced by ``***``."""
    out = _URL_PASSWORD.sub(r"\g<head>***@", text)
    out = _KV_PASSWORD.sub(r"\g<head>***", out)
    for secret in secrets:
        if secret and len(secret) >= 3:
            out = out.replace(secret, "***")
    return out


def redact_dsn(dsn: str) -> str:
    """A DSN or URL fit for a message: the password replaced, the rest kept."""
    return redact(dsn)


def dsn_secrets(dsn: str) -> list[str]:
    """The password inside ``dsn`` (URL or key=value form), to scrub from driver errors."""
    found: list[str] = []
    try:
        password = urlsplit(dsn).password
    except ValueError:
        password = None
    if password:
        found.append(password)
        from urllib.parse import unquote

        found.append(unquote(password))
    for match in _KV_PASSWORD.finditer(dsn):
        found.append(match.group("pw").strip("'"))
    return found
