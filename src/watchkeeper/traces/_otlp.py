"""OTLP/protobuf encoding of finished spans, written by hand for the export thread.

The exporter's own encoder builds a protobuf object per span, attribute and value; at one
span per request that is the largest cost of tracing (about 3-4x the span itself),
and it runs on the same CPU as the requests. Server spans repeat the same attribute
pairs (method, route, status, scheme), so each encoded key/value pair is cached. The
output is byte-for-byte a valid ``ExportTraceServiceRequest`` (the tests decode it with
opentelemetry-proto and compare it with the SDK encoder's).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.trace import SpanKind, StatusCode

__all__ = ["encode_spans", "fast_exporter"]

_CACHE_LIMIT = 4096
_pair_cache: dict[tuple[int, str, Any, type], bytes] = {}
_pack_fixed64 = struct.Struct("<Q").pack
_pack_double = struct.Struct("<d").pack
_pack_fixed32 = struct.Struct("<I").pack


def _varint(value: int) -> bytes:
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _text(number: int, value: str) -> bytes:
    return _field(number, value.encode("utf-8", "replace")) if value else b""


def _any_value(value: Any) -> bytes:
    kind = type(value)
    if kind is str:
        return _field(1, value.encode("utf-8", "replace"))
    if kind is bool:
        return b"\x10" + (b"\x01" if value else b"\x00")
    if kind is int:
        return b"\x18" + _varint(value & 0xFFFFFFFFFFFFFFFF)
    if kind is float:
        return b"\x21" + _pack_double(value)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return _field(5, b"".join(_field(1, _any_value(v)) for v in value))
    if isinstance(value, bytes):
        return _field(7, value)
    return _field(1, str(value).encode("utf-8", "replace"))


def _key_value(number: int, key: str, value: Any) -> bytes:
    """Field ``number`` holding the KeyValue ``key``: ``value``; cached for scalars, since
    spans repeat the same pairs (method, route, status, scheme)."""
    kind = type(value)
    cacheable = kind is str or kind is int or kind is bool or kind is float
    if cacheable:
        cached = _pair_cache.get((number, key, value, kind))
        if cached is not None:
            return cached
    encoded = _field(number, _field(1, key.encode("utf-8", "replace"))
                     + _field(2, _any_value(value)))
    if cacheable:
        if len(_pair_cache) >= _CACHE_LIMIT:
            _pair_cache.clear()
        _pair_cache[(number, key, value, kind)] = encoded
    return encoded


def _attributes(number: int, attributes: Mapping[str, Any] | None) -> bytes:
    if not attributes:
        return b""
    return b"".join([_key_value(number, k, v) for k, v in attributes.items()])


def _name(value: str) -> bytes:
    cached = _name_cache.get(value)
    if cached is None:
        if len(_name_cache) >= _CACHE_LIMIT:
            _name_cache.clear()
        cached = _name_cache[value] = _text(5, value)
    return cached


_name_cache: dict[str, bytes] = {}
_pack_times = struct.Struct("<BQBQ").pack
_KINDS = {kind: bytes((0x30, kind.value + 1)) for kind in SpanKind}
_STATUS_UNSET = _field(15, b"")
_UNSET = StatusCode.UNSET
_FLAGS_LOCAL = b"\x85\x01" + _pack_fixed32(0x100)
_FLAGS_REMOTE = b"\x85\x01" + _pack_fixed32(0x300)


def _span(span: Any) -> bytes:
    ctx = span.context
    parts = [b"\x0a\x10", ctx.trace_id.to_bytes(16, "big"),
             b"\x12\x08", ctx.span_id.to_bytes(8, "big")]
    if ctx.trace_state:
        parts.append(_text(3, ctx.trace_state.to_header()))
    parent = span.parent
    if parent is not None:
        parts += (b"\x22\x08", parent.span_id.to_bytes(8, "big"))
    parts.append(_name(span.name))
    parts.append(_KINDS[span.kind])
    parts.append(_pack_times(0x39, span.start_time or 0, 0x41, span.end_time or 0))
    attributes = span.attributes
    if attributes:
        for key, value in attributes.items():
            parts.append(_key_value(9, key, value))
    dropped = span.dropped_attributes
    if dropped:
        parts.append(b"\x50" + _varint(dropped))
    for event in span.events:
        parts.append(_field(11, b"\x09" + _pack_fixed64(event.timestamp) + _text(2, event.name)
                            + _attributes(3, event.attributes)))
    for link in span.links:
        lctx = link.context
        parts.append(_field(13, _field(1, lctx.trace_id.to_bytes(16, "big"))
                            + _field(2, lctx.span_id.to_bytes(8, "big"))
                            + _attributes(4, link.attributes)
                            + b"\x35" + _pack_fixed32(_flags(lctx))))
    status = span.status
    if status.status_code is _UNSET and not status.description:
        parts.append(_STATUS_UNSET)
    else:
        code = status.status_code.value
        parts.append(_field(15, _text(2, status.description or "")
                            + (b"\x18" + _varint(code) if code else b"")))
    parts.append(_FLAGS_REMOTE if parent is not None and parent.is_remote else _FLAGS_LOCAL)
    return b"".join(parts)


def _flags(parent: Any) -> int:
    # As the SDK's encoder writes them: bit 8 "has is_remote", bit 9 "parent is remote".
    return 0x300 if parent is not None and parent.is_remote else 0x100


_resource_cache: dict[int, tuple[Any, bytes]] = {}
_scope_cache: dict[int, tuple[Any, bytes]] = {}


def _resource(resource: Any) -> bytes:
    hit = _resource_cache.get(id(resource))
    if hit is not None and hit[0] is resource:
        return hit[1]
    encoded = _attributes(1, resource.attributes)
    _resource_cache.clear()
    _resource_cache[id(resource)] = (resource, encoded)
    return encoded


def _scope(scope: Any) -> bytes:
    if scope is None:
        return b""
    hit = _scope_cache.get(id(scope))
    if hit is not None and hit[0] is scope:
        return hit[1]
    encoded = _text(1, scope.name) + _text(2, scope.version or "") + \
        _attributes(3, getattr(scope, "attributes", None))
    if len(_scope_cache) > 64:
        _scope_cache.clear()
    _scope_cache[id(scope)] = (scope, encoded)
    return encoded


def encode_spans(spans: Sequence[Any]) -> bytes:
    """An OTLP ``ExportTraceServiceRequest`` holding ``spans`` (SDK ``ReadableSpan``s or
    watchkeeper's ``LightSpan``s: both expose the same read side)."""
    grouped: dict[int, tuple[Any, dict[int, tuple[Any, list[bytes]]]]] = {}
    for span in spans:
        resource = span.resource
        by_scope = grouped.setdefault(id(resource), (resource, {}))[1]
        scope = span.instrumentation_scope
        by_scope.setdefault(id(scope), (scope, []))[1].append(_field(2, _span(span)))
    out = []
    for resource, scopes in grouped.values():
        body = [_field(1, _resource(resource))]
        for scope, encoded in scopes.values():
            scope_part = _field(1, _scope(scope)) if scope is not None else b""
            schema = getattr(scope, "schema_url", "") or ""
            body.append(_field(2, scope_part + b"".join(encoded) + _text(3, schema)))
        schema_url = getattr(resource, "schema_url", "") or ""
        body.append(_text(3, schema_url))
        out.append(_field(1, b"".join(body)))
    return b"".join(out)


def fast_exporter(exporter: Any) -> Any:
    """Make an ``OTLPSpanExporter`` (HTTP) encode with :func:`encode_spans`; its transport
    (headers, compression, retries, ``OTEL_EXPORTER_OTLP_*``) is unchanged. Exporters of
    another shape are returned as they are."""
    client = getattr(exporter, "_client", None)
    if client is None or not hasattr(client, "export"):
        return exporter
    from opentelemetry.sdk.trace.export import SpanExportResult

    def export(spans: Sequence[Any]) -> Any:
        if getattr(exporter, "_shutdown", False):
            return SpanExportResult.FAILURE
        result = client.export(encode_spans(spans))
        return SpanExportResult.SUCCESS if getattr(result, "success", result) else \
            SpanExportResult.FAILURE

    exporter.export = export
    exporter.accepts_light_spans = True  # encode_spans reads LightSpans as they are
    return exporter
