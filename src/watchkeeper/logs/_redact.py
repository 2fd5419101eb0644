"""Redaction: one :class:`Redactor` for logs, errors and traces.

Two kinds of rules. Key rules replace the whole value stored under a sensitive key
(case-insensitive substring match, ignoring ``-``/``_``/``.``/spaces, so ``X-Api-Key``,
``api_key`` and ``apiKey`` are the same key). Value rules find secret *shapes* in any
string regardless of its key: Bearer/Basic credentials, JWTs, AWS access keys, PEM
private keys, card numbers that pass Luhn, passwords inside connection strings and
``password=...`` pairs, and optionally e-mail and IP addresses (GDPR mode).

The replacement never contains any part of the secret (no "last four digits"). Every
regular expression has bounded repetition and a cheap literal pre-check, so scanning is
linear and the common no-secret string costs one ``lower()`` and a few ``in`` tests.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import PurePath
from typing import Any

__all__ = ["DEFAULT_SENSITIVE_KEYS", "REDACTED", "Redactor"]

REDACTED = "[REDACTED]"

DEFAULT_SENSITIVE_KEYS: tuple[str, ...] = (
    "password", "passwd", "pwd", "secret", "token", "api_key", "apikey", "access_key",
    "authorization", "auth_token", "cookie", "set-cookie", "session", "private_key",
    "credential", "credit_card", "card_number", "cardnumber", "cvv", "cvc", "ssn",
    "signature", "jwt", "dsn",
)

_SAFE_TYPES = (int, float, bool, Decimal, uuid.UUID, _dt.date, _dt.time, _dt.timedelta,
               enum.Enum, PurePath, type(None))

_PEM = re.compile(
    r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY-----.*?(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY-----|\Z)",
    re.DOTALL,
)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{1,4096}\.[A-Za-z0-9_-]{1,8192}(?:\.[A-Za-z0-9_-]{0,4096})?")
_AUTH = re.compile(r"(?i)\b(bearer|basic)(\s{1,8})[A-Za-z0-9._~+/=:-]{1,8192}")
_AWS = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
_URL_PASSWORD = re.compile(
    r"([A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s:/@?#]{0,256}:)[^\s/?#]{1,1024}@"
)
_PAIR = re.compile(
    r"(?i)\b([a-z_-]{0,30}(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)"
    r"[a-z_-]{0,30}\"?\s{0,4}[=:]\s{0,4})(\"[^\"]{0,4096}\"|'[^']{0,4096}'|[^\s&;,\"']{1,4096})"
)
_DIGIT_RUN = re.compile(r"\d{1,19}(?:[ -]\d{1,19}){0,18}")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])")
_PAIR_WORDS = ("password", "passwd", "pwd", "secret", "token", "key")
_CACHE_LIMIT = 8192
_CACHE_MAX_LEN = 512


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _normalise_key(key: str) -> str:
    return key.lower().replace("-", "").replace("_", "").replace(".", "").replace(" ", "")


class Redactor:
    """Removes secrets from log records, error events, span attributes and headers.

    Args:
        keys: sensitive key fragments (default :data:`DEFAULT_SENSITIVE_KEYS`).
        add_keys: fragments added to ``keys``.
        remove_keys: fragments removed from ``keys`` (e.g. ``"session"`` if session ids
            are not secret in your app).
        value_rules: look for secret shapes inside every string.
        emails: also redact e-mail addresses (GDPR mode).
        ips: also redact IPv4/IPv6 addresses (GDPR mode).
        replacement: what a sensitive value becomes.
        max_depth: nesting beyond this depth is replaced by a marker.

    Example:
        >>> r = Redactor(add_keys=["pin"])
        >>> r.redact({"user": "ann", "Password": "hunter2", "note": "Bearer abc.def"})
        {'user': 'ann', 'Password': '[REDACTED]', 'note': 'Bearer [REDACTED]'}
    """

    def __init__(
        self,
        *,
        keys: Iterable[str] = DEFAULT_SENSITIVE_KEYS,
        add_keys: Iterable[str] = (),
        remove_keys: Iterable[str] = (),
        value_rules: bool = True,
        emails: bool = False,
        ips: bool = False,
        replacement: str = REDACTED,
        max_depth: int = 16,
    ) -> None:
        removed = {_normalise_key(k) for k in remove_keys}
        fragments = {_normalise_key(k) for k in (*keys, *add_keys)} - removed
        self.fragments: tuple[str, ...] = tuple(sorted(f for f in fragments if f))
        self.value_rules = value_rules
        self.emails = emails
        self.ips = ips
        self.replacement = replacement
        self.max_depth = max_depth
        self._key_cache: dict[str, bool] = {}
        self._str_cache: dict[str, str] = {}

    # -- keys -----------------------------------------------------------------------------
    def is_sensitive_key(self, key: object) -> bool:
        """Whether values stored under ``key`` are always replaced."""
        text = key if type(key) is str else str(key)
        hit = self._key_cache.get(text)
        if hit is None:
            norm = _normalise_key(text)
            hit = any(f in norm for f in self.fragments)
            if len(self._key_cache) >= _CACHE_LIMIT:
                self._key_cache.clear()
            self._key_cache[text] = hit
        return hit

    # -- strings --------------------------------------------------------------------------
    def redact_str(self, text: str) -> str:
        """``text`` with every secret shape replaced (cached for short strings)."""
        if not self.value_rules or len(text) < 8:
            return text
        if len(text) <= _CACHE_MAX_LEN:
            hit = self._str_cache.get(text)
            if hit is not None:
                return hit
            out = self._scan(text)
            if len(self._str_cache) >= _CACHE_LIMIT:
                self._str_cache.clear()
            self._str_cache[text] = out
            return out
        return self._scan(text)

    def _scan(self, text: str) -> str:
        # Literal pre-checks first: the case-sensitive shapes (PEM, JWT, AWS) need no
        # lower-casing, and the case-insensitive ones need a separator (whitespace after
        # Bearer/Basic, "="/":" in a pair), so most strings never get lower-cased.
        if "-----BEGIN" in text:
            text = _PEM.sub("[REDACTED:private_key]", text)
        if "eyJ" in text:
            text = _JWT.sub("[REDACTED:jwt]", text)
        if "AKIA" in text or "ASIA" in text:
            text = _AWS.sub("[REDACTED:aws_key]", text)
        if "://" in text and "@" in text:
            text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{self.replacement}@", text)
        pair = "=" in text or ":" in text
        if pair or not text.isalnum():
            low = text.lower()
            if "bearer" in low or "basic" in low:
                text = _AUTH.sub(lambda m: f"{m.group(1)}{m.group(2)}{self.replacement}", text)
            if pair and any(w in low for w in _PAIR_WORDS):
                text = _PAIR.sub(lambda m: f"{m.group(1)}{self.replacement}", text)
        if self.emails and "@" in text:
            text = _EMAIL.sub("[REDACTED:email]", text)
        if self.ips:
            if "." in text:
                text = _IPV4.sub("[REDACTED:ip]", text)
            if "::" in text or text.count(":") >= 2:
                text = _IPV6.sub(self._ipv6, text)
        if _has_long_digits(text):
            text = _DIGIT_RUN.sub(_cards_in_run, text)
        return text

    @staticmethod
    def _ipv6(match: re.Match[str]) -> str:
        value = match.group(0)
        # "12:30:45" (a time) and "Foo::bar" are not addresses; a real one has a digit and
        # hex letters, "::" or many groups.
        if not any(c.isdigit() for c in value):
            return value
        if "::" in value or any(c.isalpha() for c in value) or value.count(":") >= 5:
            return "[REDACTED:ip]"
        return value

    # -- structures -----------------------------------------------------------------------
    def redact(self, value: Any) -> Any:
        """A redacted copy of ``value``: mappings, sequences, sets, dataclasses, pydantic
        models and exceptions are walked; unknown objects become redacted ``str()``."""
        return self._walk(value, 0, set())

    def redact_mapping(self, mapping: Mapping[Any, Any]) -> dict[Any, Any]:
        """A redacted copy of one mapping (the fields of a log record)."""
        return self._walk_mapping(mapping, 0, set())

    def redact_headers(self, headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """HTTP headers with sensitive ones (Authorization, Cookie, ...) replaced."""
        return [
            (name, self.replacement if self.is_sensitive_key(name) else self.redact_str(value))
            for name, value in headers
        ]

    def redact_exception_text(self, text: str) -> str:
        """A formatted traceback or exception message with secret shapes removed."""
        return self._scan(text) if self.value_rules else text

    def _walk(self, value: Any, depth: int, seen: set[int]) -> Any:
        kind = type(value)
        if kind is str:
            return self.redact_str(value)
        if kind is int:
            # A card number logged as an integer is still a card number.
            if value > 10**12 and self.value_rules:
                text = str(value)
                redacted = self.redact_str(text)
                return value if redacted == text else redacted
            return value
        if isinstance(value, _SAFE_TYPES):
            return value
        if depth >= self.max_depth:
            return "[max depth]"
        if isinstance(value, Mapping):
            return self._walk_mapping(value, depth, seen)
        if isinstance(value, list | tuple | set | frozenset):
            if id(value) in seen:
                return "[recursion]"
            seen.add(id(value))
            try:
                return [self._walk(item, depth + 1, seen) for item in value]
            finally:
                seen.discard(id(value))
        if isinstance(value, bytes | bytearray | memoryview):
            return self.redact_str(bytes(value).decode("utf-8", "replace"))
        if isinstance(value, BaseException):
            return self.redact_exception_text(_safe_str(value))
        dumped = _as_mapping(value)
        if dumped is not None:
            if id(value) in seen:
                return "[recursion]"
            seen.add(id(value))
            try:
                return self._walk_mapping(dumped, depth, seen)
            finally:
                seen.discard(id(value))
        return self.redact_str(_safe_str(value))

    def _walk_mapping(
        self, mapping: Mapping[Any, Any], depth: int, seen: set[int]
    ) -> dict[Any, Any]:
        if id(mapping) in seen:
            return {"[recursion]": True}
        seen.add(id(mapping))
        try:
            out: dict[Any, Any] = {}
            for key, item in mapping.items():
                name = key if type(key) is str else _safe_str(key)
                if self.is_sensitive_key(name):
                    out[name] = self.replacement
                else:
                    out[name] = self._walk(item, depth + 1, seen)
            return out
        finally:
            seen.discard(id(mapping))


_NON_DIGITS = bytes(b for b in range(256) if not 48 <= b <= 57)


def _has_long_digits(text: str) -> bool:
    # Cheap C-level gate for the card scan: at least 13 digits somewhere in the text.
    return len(text.encode("utf-8", "ignore").translate(None, _NON_DIGITS)) >= 13


def _cards_in_run(match: re.Match[str]) -> str:
    """Redact every window of whole digit groups (13-19 digits, first digit 2-6) in a run
    like ``2 4111 1111 1111 1111 7`` that passes Luhn; the groups around it stay."""
    run = match.group(0)
    groups = re.split(r"([ -])", run)
    digits = groups[0::2]
    if sum(len(g) for g in digits) < 13:
        return run
    hit = [False] * len(digits)
    for i in range(len(digits)):
        if digits[i][0] not in "23456":
            continue
        total = ""
        for j in range(i, len(digits)):
            total += digits[j]
            if len(total) > 19:
                break
            if len(total) >= 13 and _luhn(total):
                for k in range(i, j + 1):
                    hit[k] = True
    if not any(hit):
        return run
    out: list[str] = []
    for index, group in enumerate(digits):
        joined = index > 0 and hit[index] and hit[index - 1]
        if index > 0 and not joined:
            out.append(groups[2 * index - 1])
        if not hit[index]:
            out.append(group)
        elif not joined:
            out.append("[REDACTED:card]")
    return "".join(out)


def _as_mapping(value: Any) -> Mapping[str, Any] | None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name, None) for f in dataclasses.fields(value)}
    dump: Callable[..., Any] | None = getattr(value, "model_dump", None)
    if dump is not None and callable(dump):
        try:
            result = dump()
        except Exception:
            return None
        return result if isinstance(result, Mapping) else None
    return None


def _safe_str(value: object) -> str:
    try:
        return str(value)
    except Exception:
        return f"<unprintable {type(value).__name__}>"
