"""What a span's data looks like once the shared redactor has seen it.

Attribute values (span and event attributes) and the status description pass through
the redactor before any exporter sees them. The OTLP encoder applies :func:`redact_value`
pair by pair as it writes; other exporters get spans redacted in place by
:func:`redact_spans`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..logs import Redactor

__all__ = ["redact_spans", "redact_value"]

_CACHE_LIMIT = 4096
_CACHEABLE = frozenset((str, int, float, bool))


def redact_value(key: str, value: Any, redactor: Redactor) -> Any:
    """``value`` of attribute ``key`` as it may leave the process."""
    if redactor.is_sensitive_key(key):
        return redactor.replacement
    if isinstance(value, str):
        return (redactor.redact_exception_text(value) if key == "exception.stacktrace"
                else redactor.redact_str(value))
    if isinstance(value, tuple | list):
        return tuple(redactor.redact_str(v) if isinstance(v, str) else v for v in value)
    return value


def redact_spans(batch: Sequence[Any], redactor: Redactor,
                 cache: dict[tuple[str, Any, type], Any] | None = None) -> None:
    """Redact finished spans in place (their attributes, event attributes and status
    description), for exporters that take span objects."""
    from opentelemetry.sdk.trace import Event

    if cache is None:
        cache = {}
    for span in batch:
        attrs: Any = span._attributes
        if attrs:
            span._attributes = _redact_attributes(attrs, redactor, cache)
        if span._events:
            span._events = tuple(
                Event(e.name, _redact_attributes(e.attributes, redactor, cache), e.timestamp)
                if e.attributes else e
                for e in span._events
            )
        if span._status.description:
            from opentelemetry.trace import Status

            span._status = Status(span._status.status_code,
                                  redactor.redact_exception_text(span._status.description))


def _redact_attributes(attrs: Any, redactor: Redactor,
                       cache: dict[tuple[str, Any, type], Any]) -> dict[str, Any]:
    """Redacted attributes. Server and client spans repeat the same pairs (method, route,
    status, host), so scalar pairs are remembered: the redactor is fixed per processor."""
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        kind = type(value)
        if kind in _CACHEABLE:
            cache_key = (key, value, kind)
            hit = cache.get(cache_key, cache)
            if hit is not cache:
                out[key] = hit
                continue
            redacted = redact_value(key, value, redactor)
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            cache[cache_key] = out[key] = redacted
        else:
            out[key] = redact_value(key, value, redactor)
    return out
