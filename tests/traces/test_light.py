"""watchkeeper's light spans behave as SDK spans: same sampling decision, same recorded
content under the same limits, and SDK spans again as soon as the app attaches its own
span processor."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry import trace as trace_api
from opentelemetry.sdk.trace import SpanLimits, TracerProvider, sampling
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
)

from watchkeeper.traces._light import LightSpan, LightTracer, readable, sampler_rule

SRC = Path(__file__).resolve().parents[2] / "src"
LIMITS = {"max_span_attributes": 4, "max_events": 3, "max_links": 2,
          "max_event_attributes": 2, "max_link_attributes": 2, "max_span_attribute_length": 12}


class _Collect:
    """Stands in for the switch processor: what LightTracer.finish hands over."""

    def __init__(self) -> None:
        self.spans: list[Any] = []
        self.processors = (self,)

    def enqueue(self, span: Any) -> None:
        self.spans.append(span)

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        return None

    def _on_ending(self, span: Any) -> None:
        return None

    def on_end(self, span: Any) -> None:
        return None

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class _FixedIds:
    """An id generator that hands out the ids a test chose."""

    def __init__(self, trace_id: int = 0x1234, span_id: int = 0x99) -> None:
        self.trace_id = trace_id
        self.span_id = span_id

    def generate_trace_id(self) -> int:
        return self.trace_id

    def generate_span_id(self) -> int:
        return self.span_id

    def is_trace_id_random(self) -> bool:
        return True


def _light_tracer(sampler: Any = None, ids: Any = None, rule: Any = (True, 1.0),
                  limits: dict[str, int] = LIMITS) -> tuple[LightTracer, _Collect]:
    collect = _Collect()
    provider = TracerProvider(sampler=sampler, id_generator=ids,
                              span_limits=SpanLimits(**limits))
    provider.add_span_processor(collect)  # type: ignore[arg-type]
    return LightTracer(provider.get_tracer("t"), provider, collect, rule), collect


def _sdk_tracer(sampler: Any = None, ids: Any = None) -> tuple[Any, InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler, id_generator=ids,
                              span_limits=SpanLimits(**LIMITS))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return provider.get_tracer("t"), memory


class _Custom:
    def __str__(self) -> str:
        return "custom"


_values = st.one_of(
    st.text(max_size=20), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False),
    st.booleans(), st.lists(st.text(max_size=5), max_size=3),
    st.lists(st.integers(0, 9), max_size=3), st.none(), st.just(_Custom()),
)
_keys = st.sampled_from(["a", "b", "c", "d", "e", "f", ""])
_ops = st.lists(st.one_of(
    st.tuples(st.just("attr"), _keys, _values),
    st.tuples(st.just("attrs"), st.dictionaries(_keys, _values, max_size=4)),
    st.tuples(st.just("event"), st.text(max_size=5), st.dictionaries(_keys, _values,
                                                                     max_size=3)),
    st.tuples(st.just("link"), st.integers(1, 2**64), st.dictionaries(_keys, _values,
                                                                       max_size=3)),
    st.tuples(st.just("status"), st.sampled_from(list(StatusCode)),
              st.one_of(st.none(), st.text(max_size=5)), st.booleans()),
    st.tuples(st.just("name"), st.text(max_size=8)),
    st.tuples(st.just("exception"), st.text(max_size=8)),
    st.tuples(st.just("end"),),
), max_size=14)


def _apply(span: Any, ops: list[tuple[Any, ...]]) -> None:
    for op in ops:
        kind = op[0]
        if kind == "attr":
            span.set_attribute(op[1], op[2])
        elif kind == "attrs":
            span.set_attributes(op[1])
        elif kind == "event":
            span.add_event(op[1], op[2], timestamp=1)
        elif kind == "link":
            span.add_link(SpanContext(op[1], 7, is_remote=True), op[2])
        elif kind == "status":
            if op[3]:
                span.set_status(Status(op[1], op[2] if op[1] is StatusCode.ERROR else None))
            else:
                span.set_status(op[1], op[2] if op[1] is StatusCode.ERROR else None)
        elif kind == "name":
            span.update_name(op[1])
        elif kind == "exception":
            span.record_exception(ValueError(op[1]), timestamp=1)
        else:
            span.end(end_time=2)


def _content(span: Any) -> dict[str, Any]:
    return {
        "name": span.name, "kind": span.kind, "parent": span.parent,
        "attributes": dict(span.attributes), "dropped_attributes": span.dropped_attributes,
        "events": [(e.name, dict(e.attributes), e.timestamp) for e in span.events],
        "dropped_events": span.dropped_events,
        "links": [(link.context, dict(link.attributes)) for link in span.links],
        "dropped_links": span.dropped_links,
        "status": (span.status.status_code, span.status.description),
        "start": span.start_time,
    }


@settings(max_examples=300, deadline=None)
@given(ops=_ops, start=st.dictionaries(_keys, _values, max_size=6))
def test_light_spans_record_what_sdk_spans_record(ops: list[tuple[Any, ...]],
                                                  start: dict[str, Any]) -> None:
    light, collected = _light_tracer()
    sdk, memory = _sdk_tracer()
    for tracer in (light, sdk):
        span = tracer.start_span("op", kind=SpanKind.SERVER, attributes=start, start_time=1)
        _apply(span, ops)
        span.end(end_time=2)
    assert len(collected.spans) == 1
    ours = collected.spans[0]
    assert isinstance(ours, LightSpan)
    theirs = memory.get_finished_spans()[0]
    assert _content(readable(ours)) == _content(theirs)
    assert ours.end_time == theirs.end_time == 2


_parents = st.one_of(
    st.none(),
    st.builds(lambda trace_id, remote, sampled, state: SpanContext(
        trace_id, 5, is_remote=remote, trace_flags=TraceFlags(int(sampled)),
        trace_state=TraceState([("v", state)]) if state else TraceState()),
        st.integers(1, 2**128 - 1), st.booleans(), st.booleans(),
        st.sampled_from(["", "x1"])),
)


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(["always_on", "always_off", "traceidratio",
                             "parentbased_always_on", "parentbased_always_off",
                             "parentbased_traceidratio"]),
       ratio=st.sampled_from([0.0, 0.01, 0.25, 0.5, 0.999, 1.0]),
       trace_id=st.integers(1, 2**128 - 1), parent=_parents)
def test_inline_sampling_decides_as_the_sdk_samplers(name: str, ratio: float, trace_id: int,
                                                     parent: SpanContext | None) -> None:
    if name.endswith("traceidratio"):
        root = sampling.TraceIdRatioBased(ratio)
        sampler: Any = sampling.ParentBased(root) if name.startswith("parent") else root
    else:
        sampler = sampling._KNOWN_SAMPLERS[name]
    context = None if parent is None else trace_api.set_span_in_context(
        NonRecordingSpan(parent))
    light, _ = _light_tracer(sampler, _FixedIds(trace_id), sampler_rule(name, ratio))
    generic, _ = _light_tracer(sampler, _FixedIds(trace_id), None)
    sdk, _ = _sdk_tracer(sampler, _FixedIds(trace_id))
    expected = sdk.start_span("s", context=context)
    for tracer in (light, generic):
        span = tracer.start_span("s", context=context)
        assert span.get_span_context() == expected.get_span_context()
        assert span.get_span_context().trace_state == expected.get_span_context().trace_state
        assert span.is_recording() == expected.is_recording()


def test_light_spans_parent_sdk_spans_and_back() -> None:
    light, collected = _light_tracer()
    outer = light.start_span("outer")
    with trace_api.use_span(outer, end_on_exit=True):
        sdk_child = trace_api.get_tracer("other").start_span("child")
        inner = light.start_span("inner")
        inner.end()
    assert sdk_child.get_span_context().trace_id == outer.get_span_context().trace_id
    inner_span = collected.spans[0]
    assert inner_span.parent == outer.get_span_context()
    assert [s.name for s in collected.spans] == ["inner", "outer"]


def test_start_as_current_span_records_the_escaping_exception() -> None:
    light, collected = _light_tracer(limits={})
    try:
        with light.start_as_current_span("work") as span:
            assert trace_api.get_current_span() is span
            raise KeyError("gone")
    except KeyError:
        pass
    (done,) = collected.spans
    assert done.status.status_code is StatusCode.ERROR
    assert [e.name for e in done.events] == ["exception"]
    assert done.events[0].attributes["exception.type"] == "KeyError"


SCRIPT = """
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import watchkeeper
from watchkeeper import traces
from watchkeeper.traces._light import LightSpan

watchkeeper.init(traces={"exporters": ["memory"]})
with watchkeeper.span("before") as s:
    assert isinstance(s, LightSpan), type(s)
theirs = InMemorySpanExporter()
trace.get_tracer_provider().add_span_processor(SimpleSpanProcessor(theirs))
with watchkeeper.span("after") as s:
    assert not isinstance(s, LightSpan), type(s)
assert [s.name for s in theirs.get_finished_spans()] == ["after"]
assert sorted(s.name for s in traces.finished_spans()) == ["after", "before"]
print("ok")
"""


def test_a_processor_the_app_adds_sees_every_later_span() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         check=False, env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
                         timeout=60)
    assert out.stdout.strip() == "ok", out.stderr
