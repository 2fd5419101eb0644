"""watchkeeper's own spans: the SDK's semantics at a fraction of its per-span cost.

An SDK span costs ~17 µs to start and end (a lock and a bounded map per span, the span
processor chain, self-metrics); at one server span per request that was most of the
tracing budget. While watchkeeper owns the TracerProvider and nothing else is attached
to it, the spans watchkeeper starts itself (server, client, DB, ``span``/``traced``)
are :class:`LightSpan`: the same sampling decision, ids, flags, limits and Span API,
kept in slots and handed straight to the batch processors. Exporters other than the
OTLP encoder get SDK ``ReadableSpan``s, converted on the export thread
(:func:`readable`). Spans other code starts from the provider stay SDK spans and parent
correctly under ours (the parent is an ordinary ``SpanContext``).
"""

from __future__ import annotations

import logging
import random
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import trace as trace_api
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)
from opentelemetry.trace.span import DEFAULT_TRACE_STATE

from ._active import current_span

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace.span import TraceState
    from opentelemetry.util.types import Attributes

__all__ = ["UNSET_STATUS", "LightSpan", "LightTracer", "SamplerRule", "readable"]

_log = logging.getLogger("watchkeeper.traces")
_SCALARS = (str, bool, int, float)
_SCALAR_TYPES = frozenset(_SCALARS)
_TRACE_ID_LIMIT = (1 << 64) - 1
_UNSET = UNSET_STATUS = Status(StatusCode.UNSET)
"""A new span's status: one shared object, so encoders can test identity."""
_INTERNAL = SpanKind.INTERNAL
_FLAGS = {flags: TraceFlags(flags) for flags in range(4)}
_time_ns = time.time_ns
_new_tuple = tuple.__new__
_TRACE_ID_MAX = (1 << 128) - 1
_SPAN_ID_MAX = (1 << 64) - 1

SamplerRule = tuple[bool, float]
"""(parent based, ratio): the samplers :func:`sampler_rule` recognises, decided inline."""


def sampler_rule(name: str, ratio: float) -> SamplerRule | None:
    """The inline rule equivalent to OpenTelemetry sampler ``name`` at ``ratio``, or None
    when the sampler is one only its own ``should_sample`` can decide."""
    rules = {"always_on": (False, 1.0), "always_off": (False, 0.0),
             "traceidratio": (False, ratio), "parentbased_always_on": (True, 1.0),
             "parentbased_always_off": (True, 0.0), "parentbased_traceidratio": (True, ratio)}
    return rules.get(name)


class LightTracer(trace_api.Tracer):
    """Starts :class:`LightSpan`s while the provider carries only watchkeeper's processor;
    otherwise (the app added its own processors) defers to the SDK tracer."""

    def __init__(self, sdk_tracer: Any, provider: Any, switch: Any,
                 rule: SamplerRule | None) -> None:
        self._sdk = sdk_tracer
        self._provider = provider
        self._switch = switch
        self._sampler = provider.sampler
        self._ids = provider.id_generator
        self._random_ids = bool(self._ids.is_trace_id_random())
        self._trace_id, self._span_id, self._valid_ids = _id_sources(self._ids)
        self._scope = sdk_tracer._instrumentation_scope
        limits = sdk_tracer._span_limits
        self.max_attributes: int | None = limits.max_span_attributes
        self.max_events: int | None = limits.max_events
        self.max_links: int | None = limits.max_links
        self.max_length: int | None = limits.max_span_attribute_length
        self.max_other_length: int | None = limits.max_attribute_length  # events, links
        self.max_event_attributes: int | None = limits.max_event_attributes
        self.max_link_attributes: int | None = limits.max_link_attributes
        self._solo: tuple[Any, ...] | None = None
        self._parent_based, self._bound = (False, -1) if rule is None else \
            (rule[0], round(rule[1] * (_TRACE_ID_LIMIT + 1)))

    def _light(self) -> bool:
        """Whether our spans may skip the SDK: nothing but our processor would see them.
        (The SDK replaces its processor tuple when one is added: an identity check.)"""
        processors = self._provider._active_span_processor._span_processors
        if processors is self._solo:
            return True
        if processors == (self._switch,):
            self._solo = processors
            return True
        return False

    def start_span(  # noqa: PLR0917 - OpenTelemetry's Tracer signature
        self, name: str, context: Context | None = None, kind: SpanKind = _INTERNAL,
        attributes: Attributes = None, links: Sequence[Link] | None = (),
        start_time: int | None = None, record_exception: bool = True,
        set_status_on_exception: bool = True, *, owned: bool = False,
    ) -> trace_api.Span:
        """As the SDK tracer's. ``owned``: ``attributes`` is a fresh dict of non-empty
        str keys and str/int values that the span may keep as it is (watchkeeper's own
        hooks build theirs that way)."""
        if not self._light():
            sdk_span: trace_api.Span = self._sdk.start_span(
                name, context, kind, attributes, links, start_time, record_exception,
                set_status_on_exception)
            return sdk_span
        found = current_span(context)
        parent: SpanContext | None = None
        if found is not None and (type(found) is LightSpan or
                                  isinstance(found, trace_api.Span)):  # an ABC: slower
            parent = found.get_span_context()
        if parent is not None and parent[5]:  # is_valid
            trace_id = parent[0]
            random_id = bool(parent[3] & 2)
        else:
            parent = None
            trace_id = self._trace_id()
            random_id = self._random_ids
        trace_state: TraceState = DEFAULT_TRACE_STATE
        if self._bound >= 0:
            if parent is not None:
                trace_state = parent[4]
            if parent is not None and self._parent_based:
                sampled = bool(parent[3] & 1)
            else:
                sampled = (trace_id & _TRACE_ID_LIMIT) < self._bound
        else:
            result = self._sampler.should_sample(context, trace_id, name, kind, attributes,
                                                 links)
            sampled = result.decision.is_sampled()
            attributes = result.attributes if result.decision.is_recording() else None
            trace_state = result.trace_state or DEFAULT_TRACE_STATE
            owned = False  # the sampler's mapping, not the caller's
        span_id = self._span_id()
        # SpanContext's own __new__ only adds the validity flag, known here for the
        # SDK's random ids (never zero); a custom generator's ids are checked.
        span_context = _new_tuple(SpanContext, (
            trace_id, span_id, False, _FLAGS[sampled | (random_id << 1)], trace_state,
            self._valid_ids or (0 < trace_id <= _TRACE_ID_MAX and 0 < span_id <= _SPAN_ID_MAX)))
        if not sampled:
            return NonRecordingSpan(span_context)
        span = LightSpan(self, name, span_context, parent, kind, links, start_time,
                         record_exception, set_status_on_exception)
        if attributes:
            if owned and self.max_length is None and (
                    self.max_attributes is None or len(attributes) <= self.max_attributes):
                span._attributes = attributes  # type: ignore[assignment]
            else:
                span.set_attributes(attributes)
        return span

    @contextmanager
    def start_as_current_span(  # type: ignore[override]  # noqa: PLR0917
        self, name: str, context: Context | None = None, kind: SpanKind = _INTERNAL,
        attributes: Attributes = None, links: Sequence[Link] | None = (),
        start_time: int | None = None, record_exception: bool = True,
        set_status_on_exception: bool = True, end_on_exit: bool = True,
    ) -> Iterator[trace_api.Span]:
        span = self.start_span(name, context, kind, attributes, links, start_time,
                               record_exception, set_status_on_exception)
        with trace_api.use_span(span, end_on_exit=end_on_exit,
                                record_exception=record_exception,
                                set_status_on_exception=set_status_on_exception) as current:
            yield current

    def finish(self, span: LightSpan) -> None:
        for processor in self._switch.processors:
            processor.enqueue(span)

    @property
    def resource(self) -> Any:
        return self._provider._resource  # replaced in a forked worker (process.pid)

    @property
    def instrumentation_scope(self) -> Any:
        return self._scope


def _id_sources(ids: Any) -> tuple[Callable[[], int], Callable[[], int], bool]:
    """The id generator's two methods, and whether their ids are valid by construction;
    for the SDK's default one, the random draws it makes (a zero id, which it redraws,
    comes up once in 2**64 draws)."""
    from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

    if type(ids) is RandomIdGenerator:
        def trace_id() -> int:
            return random.getrandbits(128) or ids.generate_trace_id()

        def span_id() -> int:
            return random.getrandbits(64) or ids.generate_span_id()

        return trace_id, span_id, True
    return ids.generate_trace_id, ids.generate_span_id, False


class LightSpan(trace_api.Span):
    """A recording span with the SDK span's behaviour (limits, status rules, exception
    events, warnings-free no-ops once ended) and the read side its exporters use."""

    __slots__ = ("_attributes", "_context", "_dropped_attributes", "_dropped_events",
                 "_dropped_links", "_events", "_links", "_record_exception",
                 "_set_status_on_exception", "_status", "_tracer", "end_time", "kind",
                 "name", "parent", "start_time")

    def __init__(  # noqa: PLR0917 - built only by LightTracer.start_span
        self, tracer: LightTracer, name: str, context: SpanContext,
        parent: SpanContext | None, kind: SpanKind,
        links: Sequence[Link] | None, start_time: int | None, record_exception: bool,
        set_status_on_exception: bool,
    ) -> None:
        self._tracer = tracer
        self.name = name
        self._context = context
        self.parent = parent
        self.kind = kind
        self._attributes: dict[str, Any] = {}
        self._dropped_attributes = 0
        # Most spans have no events or links: a shared empty tuple until the first one
        # (queued spans live until export, and every extra object costs the GC).
        self._events: list[Any] | tuple[Any, ...] = ()
        self._dropped_events = 0
        self._links: list[Link] | tuple[Link, ...] = ()
        self._dropped_links = 0
        self._status = _UNSET
        self._record_exception = record_exception
        self._set_status_on_exception = set_status_on_exception
        self.end_time: int | None = None
        if links:
            for link in links:
                self.add_link(link.context, link.attributes)
        self.start_time = start_time if start_time is not None else _time_ns()

    # -- the Span API ------------------------------------------------------------------
    def get_span_context(self) -> SpanContext:
        return self._context

    def is_recording(self) -> bool:
        return self.end_time is None

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        tracer = self._tracer
        attrs = self._attributes
        if self.end_time is None and tracer.max_length is None and (
                tracer.max_attributes is None
                or len(attrs) + len(attributes) <= tracer.max_attributes):
            # The common case in one pass: str keys, scalar values, room for all.
            for key, value in attributes.items():
                if type(value) not in _SCALAR_TYPES or type(key) is not str or not key:
                    break
                if key in attrs:
                    del attrs[key]  # a key set again moves to the end, as in the SDK
                attrs[key] = value
            else:
                return
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def set_attribute(self, key: str, value: Any) -> None:
        if self.end_time is not None:
            return
        if type(key) is not str or not key:
            _log.warning("invalid span attribute key %r: must be a non-empty string", key)
            self._dropped_attributes += 1
            return
        kind = type(value)
        if kind is str:
            limit = self._tracer.max_length
            if limit is not None and len(value) > limit:
                value = value[:limit]
        elif kind not in _SCALAR_TYPES:
            value = _cleaned(value, self._tracer.max_length)
        self._store(key, value)

    def _store(self, key: str, value: Any) -> None:
        """As the SDK's BoundedAttributes: a key set again moves to the end; a full map
        makes room by dropping its oldest pair."""
        attrs = self._attributes
        limit = self._tracer.max_attributes
        if limit == 0:
            self._dropped_attributes += 1
            return
        if key in attrs:
            del attrs[key]
        elif limit is not None and len(attrs) >= limit:
            del attrs[next(iter(attrs))]
            self._dropped_attributes += 1
        attrs[key] = value

    def add_event(self, name: str, attributes: Attributes = None,
                  timestamp: int | None = None) -> None:
        if self.end_time is not None:
            return
        from opentelemetry.sdk.trace import Event

        events = self._events if isinstance(self._events, list) else list(self._events)
        self._events = events
        limit = self._tracer.max_events
        if limit is not None and len(events) >= limit:
            if limit == 0:
                self._dropped_events += 1
                return
            events.pop(0)
            self._dropped_events += 1
        events.append(Event(name, _bounded(attributes, self._tracer.max_event_attributes,
                                                 self._tracer.max_other_length),
                                  timestamp if timestamp is not None else _time_ns()))

    def add_link(self, context: SpanContext, attributes: Attributes = None) -> None:
        if self.end_time is not None or context is None or not context.is_valid:
            return
        links = self._links if isinstance(self._links, list) else list(self._links)
        self._links = links
        limit = self._tracer.max_links
        if limit is not None and len(links) >= limit:
            self._dropped_links += 1
            if limit == 0:
                return
            links.pop(0)
        links.append(Link(context, _bounded(attributes, self._tracer.max_link_attributes,
                                                  self._tracer.max_other_length)))

    def update_name(self, name: str) -> None:
        if self.end_time is None:
            self.name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        if self.end_time is not None or self._status.status_code is StatusCode.OK:
            return
        if isinstance(status, Status):
            if status.status_code is not StatusCode.UNSET:
                self._status = status
        elif status is not StatusCode.UNSET:
            self._status = Status(status, description)

    def record_exception(self, exception: BaseException, attributes: Attributes = None,
                         timestamp: int | None = None, escaped: bool = False) -> None:
        module = type(exception).__module__
        qualname = type(exception).__qualname__
        event: dict[str, Any] = {
            "exception.type": f"{module}.{qualname}" if module and module != "builtins"
            else qualname,
            "exception.message": str(exception),
            "exception.stacktrace": "".join(traceback.format_exception(exception)),
            "exception.escaped": str(escaped),
        }
        if attributes:
            event.update(attributes)
        self.add_event("exception", event, timestamp)

    def end(self, end_time: int | None = None) -> None:
        if self.end_time is not None:
            return
        self.end_time = end_time if end_time is not None else _time_ns()
        self._tracer.finish(self)

    def __exit__(self, exc_type: Any, exc_val: BaseException | None, exc_tb: Any) -> None:
        if exc_val is not None and self.end_time is None:
            if self._record_exception:
                self.record_exception(exc_val, escaped=True)
            if self._set_status_on_exception:
                self.set_status(Status(StatusCode.ERROR, f"{type(exc_val).__name__}: {exc_val}"))
        self.end()

    # -- the read side (exporters, redaction) -------------------------------------------
    @property
    def context(self) -> SpanContext:
        return self._context

    @property
    def attributes(self) -> Mapping[str, Any]:
        return self._attributes

    @property
    def events(self) -> Sequence[Any]:
        return tuple(self._events)

    @property
    def links(self) -> Sequence[Link]:
        return tuple(self._links)

    @property
    def status(self) -> Status:
        return self._status

    @property
    def resource(self) -> Any:
        return self._tracer.resource

    @property
    def dropped_attributes(self) -> int:
        return self._dropped_attributes

    @property
    def instrumentation_scope(self) -> Any:
        return self._tracer.instrumentation_scope

    def __repr__(self) -> str:
        return f"LightSpan(name={self.name!r}, context={self._context!r})"


def _cleaned(value: Any, max_length: int | None) -> Any:
    """A value off the common path as the SDK stores it: sequences become tuples, unknown
    types their ``str`` (or None)."""
    from opentelemetry.attributes import BoundedAttributes

    return BoundedAttributes(None, {"v": value}, immutable=False,
                             max_value_len=max_length).get("v")


def _bounded(attributes: Attributes, maxlen: int | None, max_length: int | None) -> Any:
    from opentelemetry.attributes import BoundedAttributes

    return BoundedAttributes(maxlen, attributes, immutable=True, max_value_len=max_length)


def readable(span: LightSpan) -> Any:
    """The SDK ``ReadableSpan`` of a finished light span, for exporters that expect one
    (its dropped counts included)."""
    from opentelemetry.attributes import BoundedAttributes
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.util import BoundedList

    tracer = span._tracer
    attributes = BoundedAttributes(tracer.max_attributes, span._attributes, immutable=True,
                                   max_value_len=tracer.max_length)
    attributes.dropped = span._dropped_attributes
    events = BoundedList.from_seq(tracer.max_events, span._events)
    events.dropped = span._dropped_events
    links = BoundedList.from_seq(tracer.max_links, span._links)
    links.dropped = span._dropped_links
    return ReadableSpan(
        name=span.name, context=span._context, parent=span.parent, resource=span.resource,
        attributes=attributes, events=events, links=links, kind=span.kind,
        status=span._status, start_time=span.start_time, end_time=span.end_time,
        instrumentation_scope=tracer.instrumentation_scope)
