"""OTLP/protobuf encoding of finished spans, written by hand.

The exporter's own encoder builds a protobuf object per span, attribute and value; at one
span per request that is the largest cost of tracing (about 3-4x the span itself).
Server spans repeat the same attribute pairs (method, route, status, scheme), so each
encoded key/value pair is cached.

With the OTLP/HTTP exporter, the batch processor encodes each span as it ends
(:class:`SpanEncoder`, redaction included) and queues the bytes: a finished span's
objects are freed at once instead of waiting in the queue for the batch, which cost
more than the encoding itself (cold memory, garbage-collector passes). A batch is then
the encoded spans joined under their resource and scope (:func:`encode_items`).

The output is byte-for-byte a valid ``ExportTraceServiceRequest`` (the tests decode it
with opentelemetry-proto and compare it with the SDK encoder's).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import SpanKind, StatusCode
from opentelemetry.trace.span import DEFAULT_TRACE_STATE

from ._light import UNSET_STATUS, LightSpan
from ._redaction import redact_value

if TYPE_CHECKING:
    from ..logs import Redactor

__all__ = ["EncodedSpan", "SpanEncoder", "encode_items", "encode_spans", "fast_exporter"]

EncodedSpan = tuple[Any, Any, bytes]
"""(resource, instrumentation scope, the span's bytes as a ``ScopeSpans.spans`` field)."""

_CACHE_LIMIT = 4096
_CACHED_TEXT = 256  # longer strings (messages, stack traces) are rarely repeated
_pack_fixed64 = struct.Struct("<Q").pack
_pack_double = struct.Struct("<d").pack
_pack_fixed32 = struct.Struct("<I").pack
_pack_times = struct.Struct("<BQBQ").pack


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


_KINDS = {kind: bytes((0x30, kind.value + 1)) for kind in SpanKind}
_KIND_BYTES = [b""] * (max(kind.value for kind in SpanKind) + 1)
for _kind in SpanKind:
    _KIND_BYTES[_kind.value] = _KINDS[_kind]
_STATUS_UNSET = _field(15, b"")
_UNSET = StatusCode.UNSET
_FLAGS_LOCAL = b"\x85\x01" + _pack_fixed32(0x100)
_FLAGS_REMOTE = b"\x85\x01" + _pack_fixed32(0x300)


class SpanEncoder:
    """Encodes finished spans (SDK ``ReadableSpan``s or watchkeeper's ``LightSpan``s:
    both expose the same read side), passing attribute values and the status description
    through ``redactor`` when one is given. Encoded pairs and names are remembered: the
    redactor is fixed for the encoder's life."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        self.redactor = redactor
        self._pairs: dict[tuple[int, str, Any, type], bytes] = {}
        self._names: dict[str, bytes] = {}
        self._span_pairs: dict[tuple[str, Any, type], bytes] = {}
        self._key_heads: dict[str, bytes] = {}  # attribute keys are few and fixed

    def pair(self, number: int, key: str, value: Any) -> bytes:
        """Field ``number`` holding the KeyValue ``key``: ``value`` (redacted)."""
        kind = type(value)
        # Not floats: -0.0 == 0.0 would share an entry, and their bytes differ.
        cacheable = kind is int or kind is bool or (kind is str and len(value) <= _CACHED_TEXT)
        if cacheable:
            cached = self._pairs.get((number, key, value, kind))
            if cached is not None:
                return cached
        redactor = self.redactor
        shown = value if redactor is None else redact_value(key, value, redactor)
        encoded = _field(number, _field(1, key.encode("utf-8", "replace"))
                         + _field(2, _any_value(shown)))
        if cacheable:
            if len(self._pairs) >= _CACHE_LIMIT:
                self._pairs.clear()
            self._pairs[(number, key, value, kind)] = encoded
        return encoded

    def attributes(self, number: int, attributes: Mapping[str, Any] | None) -> bytes:
        if not attributes:
            return b""
        pair = self.pair
        return b"".join([pair(number, k, v) for k, v in attributes.items()])

    def _name(self, value: str) -> bytes:
        cached = self._names.get(value)
        if cached is None:
            if len(self._names) >= _CACHE_LIMIT:
                self._names.clear()
            cached = self._names[value] = _text(5, value)
        return cached

    def span(self, span: Any) -> bytes:
        """``span`` as one entry of ``ScopeSpans.spans`` (field 2, framed)."""
        ctx = span.context
        parts = [b"\x0a\x10", ctx.trace_id.to_bytes(16, "big"),
                 b"\x12\x08", ctx.span_id.to_bytes(8, "big")]
        if ctx.trace_state:
            parts.append(_text(3, ctx.trace_state.to_header()))
        parent = span.parent
        if parent is not None:
            parts += (b"\x22\x08", parent.span_id.to_bytes(8, "big"))
        parts.append(self._name(span.name))
        parts.append(_KINDS[span.kind])
        parts.append(_pack_times(0x39, span.start_time or 0, 0x41, span.end_time or 0))
        attributes = span.attributes
        if attributes:
            pair = self.pair
            for key, value in attributes.items():
                parts.append(pair(9, key, value))
        dropped = span.dropped_attributes
        if dropped:
            parts.append(b"\x50" + _varint(dropped))
        for event in span.events:
            parts.append(_field(11, b"\x09" + _pack_fixed64(event.timestamp)
                                + _text(2, event.name) + self.attributes(3, event.attributes)))
        for link in span.links:
            lctx = link.context
            parts.append(_field(13, _field(1, lctx.trace_id.to_bytes(16, "big"))
                                + _field(2, lctx.span_id.to_bytes(8, "big"))
                                + _PLAIN.attributes(4, link.attributes)
                                + b"\x35" + _pack_fixed32(_flags(lctx))))
        status = span.status
        if status.status_code is _UNSET and not status.description:
            parts.append(_STATUS_UNSET)
        else:
            code = status.status_code.value
            description = status.description or ""
            if description and self.redactor is not None:
                description = self.redactor.redact_exception_text(description)
            parts.append(_field(15, _text(2, description)
                                + (b"\x18" + _varint(code) if code else b"")))
        parts.append(_FLAGS_REMOTE if parent is not None and parent.is_remote else _FLAGS_LOCAL)
        return _field(2, b"".join(parts))

    def item(self, span: Any) -> EncodedSpan:
        """What the batch processor queues for ``span``."""
        if type(span) is LightSpan:
            tracer = span._tracer
            return tracer.resource, tracer.instrumentation_scope, self.light_span(span)
        return span.resource, span.instrumentation_scope, self.span(span)

    def light_span(self, span: LightSpan) -> bytes:
        """:meth:`span` for a LightSpan, read from its slots; the bytes are the same."""
        if span._events or span._links or span._dropped_attributes:
            return self.span(span)
        ctx = span._context
        head = b"\x0a\x10" + ctx[0].to_bytes(16, "big") + b"\x12\x08" + ctx[1].to_bytes(8, "big")
        state = ctx[4]
        if state is not DEFAULT_TRACE_STATE and state:  # its len() is a Python call
            head += _text(3, state.to_header())
        parent = span.parent
        if parent is not None:
            head += b"\x22\x08" + parent[1].to_bytes(8, "big")
        name = span.name
        parts = [head, self._names.get(name) or self._name(name),
                 _KIND_BYTES[span.kind._value_],  # an Enum's hash is a Python call
                 _pack_times(0x39, span.start_time, 0x41, span.end_time or 0)]
        attributes = span._attributes
        if attributes:
            # One dict per field number: a hit is one lookup of (key, value, type).
            cached = self._span_pairs.get
            try:
                for key, value in attributes.items():
                    parts.append(cached((key, value, type(value))) or self._span_pair(key, value))
            except TypeError:  # an unhashable value (a list): pair by pair, uncached
                del parts[4:]
                parts += [self.pair(9, k, v) for k, v in attributes.items()]
        status = span._status
        if status is UNSET_STATUS:
            parts.append(_STATUS_UNSET)
        else:
            code = status.status_code.value
            description = status.description or ""
            if description and self.redactor is not None:
                description = self.redactor.redact_exception_text(description)
            parts.append(_field(15, _text(2, description)
                                + (b"\x18" + _varint(code) if code else b"")))
        parts.append(_FLAGS_REMOTE if parent is not None and parent[2] else _FLAGS_LOCAL)
        body = b"".join(parts)
        size = len(body)
        if size < 0x80:
            return bytes((0x12, size)) + body
        if size < 0x4000:
            return bytes((0x12, size & 0x7F | 0x80, size >> 7)) + body
        return b"\x12" + _varint(size) + body

    def _span_pair(self, key: str, value: Any) -> bytes:
        """A span attribute not seen yet (a new URL path, most often): strings written
        without the generic helpers, remembered unless long."""
        kind = type(value)
        if kind is not str:
            encoded = self.pair(9, key, value)
        else:
            redactor = self.redactor
            shown = value if redactor is None else redact_value(key, value, redactor)
            data = str(shown).encode("utf-8", "replace")
            head = self._key_heads.get(key)
            if head is None:
                if len(self._key_heads) >= _CACHE_LIMIT:
                    self._key_heads.clear()
                head = self._key_heads[key] = _field(1, key.encode("utf-8", "replace"))
            size = len(data)
            any_value = (bytes((0x0A, size)) if size < 0x80 else b"\x0a" + _varint(size)) + data
            size = len(any_value)
            pair = head + (bytes((0x12, size)) if size < 0x80 else
                           b"\x12" + _varint(size)) + any_value
            size = len(pair)
            encoded = (bytes((0x4A, size)) if size < 0x80 else b"\x4a" + _varint(size)) + pair
            if len(value) > _CACHED_TEXT:
                return encoded
        if kind is str or kind is int or kind is bool:
            if len(self._span_pairs) >= _CACHE_LIMIT:
                self._span_pairs.clear()
            self._span_pairs[key, value, kind] = encoded
        return encoded


_PLAIN = SpanEncoder()
"""Resource, scope and link attributes are not redacted (as before they reach any
exporter); spans given to :func:`encode_spans` have been redacted in place already."""


def _flags(parent: Any) -> int:
    # As the SDK's encoder writes them: bit 8 "has is_remote", bit 9 "parent is remote".
    return 0x300 if parent is not None and parent.is_remote else 0x100


_resource_cache: dict[int, tuple[Any, bytes]] = {}
_scope_cache: dict[int, tuple[Any, bytes]] = {}


def _resource(resource: Any) -> bytes:
    hit = _resource_cache.get(id(resource))
    if hit is not None and hit[0] is resource:
        return hit[1]
    encoded = _PLAIN.attributes(1, resource.attributes)
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
        _PLAIN.attributes(3, getattr(scope, "attributes", None))
    if len(_scope_cache) > 64:
        _scope_cache.clear()
    _scope_cache[id(scope)] = (scope, encoded)
    return encoded


def encode_items(items: Sequence[EncodedSpan]) -> bytes:
    """An OTLP ``ExportTraceServiceRequest`` holding spans already encoded one by one,
    grouped under their resource and instrumentation scope."""
    grouped: dict[int, tuple[Any, dict[int, tuple[Any, list[bytes]]]]] = {}
    last_resource = last_scope = run = None
    for resource, scope, encoded in items:
        if resource is not last_resource or scope is not last_scope:  # mostly one run
            by_scope = grouped.setdefault(id(resource), (resource, {}))[1]
            run = by_scope.setdefault(id(scope), (scope, []))[1]
            last_resource, last_scope = resource, scope
        run.append(encoded)  # type: ignore[union-attr]
    out = []
    for resource, scopes in grouped.values():
        body = [_field(1, _resource(resource))]
        for scope, spans in scopes.values():
            scope_part = _field(1, _scope(scope)) if scope is not None else b""
            schema = getattr(scope, "schema_url", "") or ""
            body.append(_field(2, scope_part + b"".join(spans) + _text(3, schema)))
        schema_url = getattr(resource, "schema_url", "") or ""
        body.append(_text(3, schema_url))
        out.append(_field(1, b"".join(body)))
    return b"".join(out)


def encode_spans(spans: Sequence[Any]) -> bytes:
    """An OTLP ``ExportTraceServiceRequest`` holding ``spans`` (SDK ``ReadableSpan``s or
    ``LightSpan``s), encoded as they are."""
    return encode_items([_PLAIN.item(span) for span in spans])


def fast_exporter(exporter: Any) -> Any:
    """Make an ``OTLPSpanExporter`` (HTTP) encode with :class:`SpanEncoder`; its transport
    (headers, compression, retries, ``OTEL_EXPORTER_OTLP_*``) is unchanged. Exporters of
    another shape are returned as they are.

    The exporter then also takes batches of :data:`EncodedSpan` (``export_encoded``),
    which the batch processor prefers."""
    client = getattr(exporter, "_client", None)
    if client is None or not hasattr(client, "export"):
        return exporter
    from opentelemetry.sdk.trace.export import SpanExportResult

    def send(body: bytes) -> Any:
        if getattr(exporter, "_shutdown", False):
            return SpanExportResult.FAILURE
        result = client.export(body)
        return SpanExportResult.SUCCESS if getattr(result, "success", result) else \
            SpanExportResult.FAILURE

    def export(spans: Sequence[Any]) -> Any:
        return send(encode_spans(spans))

    def export_encoded(items: Sequence[EncodedSpan]) -> Any:
        return send(encode_items(items))

    exporter.export = export
    exporter.export_encoded = export_encoded
    exporter.accepts_light_spans = True  # encode_spans reads LightSpans as they are
    return exporter
