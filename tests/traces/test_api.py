"""span, traced, timer, ids and propagation, in process with the memory exporter."""

from __future__ import annotations

import asyncio
import queue
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import watchkeeper
from watchkeeper import traces
from watchkeeper.exceptions import ConfigError


def _init(**traces_settings: object) -> None:
    watchkeeper.init(traces={"exporters": ["memory"], **traces_settings},
                     metrics={"process": False})


def _by_name() -> dict[str, object]:
    return {s.name: s for s in traces.finished_spans()}


def test_span_nests_records_attributes_and_errors() -> None:
    _init()
    with watchkeeper.span("outer", order_id=7, items=[1, 2], obj=object()) as outer:
        outer_ids = (watchkeeper.current_trace_id(), watchkeeper.current_span_id())
        with pytest.raises(ValueError, match="nope"), watchkeeper.span("inner"):
            raise ValueError("nope")
        assert watchkeeper.current_span_id() == outer_ids[1]
    assert watchkeeper.current_trace_id() is None
    spans = _by_name()
    outer_span, inner_span = spans["outer"], spans["inner"]
    assert format(outer_span.context.trace_id, "032x") == outer_ids[0]  # type: ignore[attr-defined]
    assert inner_span.parent.span_id == outer_span.context.span_id  # type: ignore[attr-defined]
    assert outer_span.attributes["order_id"] == 7  # type: ignore[attr-defined]
    assert outer_span.attributes["items"] == (1, 2)  # type: ignore[attr-defined]
    assert outer_span.attributes["obj"].startswith("<object")  # type: ignore[attr-defined]
    assert inner_span.status.status_code.name == "ERROR"  # type: ignore[attr-defined]
    assert inner_span.events[0].name == "exception"  # type: ignore[attr-defined]
    assert outer is not None


def test_traced_covers_every_kind_of_function() -> None:
    _init()

    @watchkeeper.traced
    def plain(x: int) -> int:
        return x + 1

    @watchkeeper.traced(name="custom", attributes={"a": "b"})
    async def coro() -> str | None:
        return watchkeeper.current_span_id()

    @watchkeeper.traced
    def gen(n: int):  # type: ignore[no-untyped-def]
        for i in range(n):
            yield i, watchkeeper.current_span_id()

    @watchkeeper.traced
    async def agen(n: int):  # type: ignore[no-untyped-def]
        for i in range(n):
            await asyncio.sleep(0)
            yield i

    async def consume() -> list[int]:
        return [i async for i in agen(3)]

    assert plain(1) == 2
    inside = asyncio.run(coro())
    items = list(gen(2))
    assert [i for i, _ in items] == [0, 1]
    # Between items the consumer is not inside the generator's span.
    assert watchkeeper.current_span_id() is None
    assert asyncio.run(consume()) == [0, 1, 2]
    spans = _by_name()
    assert set(spans) >= {"test_traced_covers_every_kind_of_function.<locals>.plain", "custom"}
    assert format(spans["custom"].context.span_id, "016x") == inside  # type: ignore[attr-defined]
    assert spans["custom"].attributes["a"] == "b"  # type: ignore[attr-defined]
    gen_span = next(s for n, s in spans.items() if n.endswith(".gen"))
    assert {sid for _, sid in items} == {format(gen_span.context.span_id, "016x")}  # type: ignore[attr-defined]


def test_traced_generator_error_is_recorded() -> None:
    _init()

    @watchkeeper.traced
    def bad():  # type: ignore[no-untyped-def]
        yield 1
        raise KeyError("k")

    with pytest.raises(KeyError):
        list(bad())
    (s,) = traces.finished_spans()
    assert s.status.status_code.name == "ERROR"


def test_without_tracing_the_api_is_a_cheap_no_op() -> None:
    watchkeeper.init(traces={"enabled": False})
    with watchkeeper.span("x", a=1) as s:
        s.set_attribute("b", 2)
        assert watchkeeper.current_trace_id() is None
    assert traces.finished_spans() == []


def test_log_lines_inside_a_span_carry_its_ids() -> None:
    from watchkeeper.logs import capture_logs, get_logger

    _init()
    with capture_logs() as logs:
        with watchkeeper.span("work"):
            get_logger("app").info("inside")
            trace_id, span_id = watchkeeper.current_trace_id(), watchkeeper.current_span_id()
        get_logger("app").info("outside")
    inside = logs.find(message="inside")[0]
    assert (inside["trace_id"], inside["span_id"]) == (trace_id, span_id)
    assert "trace_id" not in logs.find(message="outside")[0]


def test_background_job_continues_the_trace_in_a_worker_thread() -> None:
    _init()
    jobs: queue.Queue[dict[str, object]] = queue.Queue()
    seen: list[str | None] = []

    def worker() -> None:
        job = jobs.get()
        with watchkeeper.continue_trace(job["headers"], "process job") as s:  # type: ignore[arg-type]
            seen.append(watchkeeper.current_trace_id())
            assert s is not None

    thread = threading.Thread(target=worker)
    thread.start()
    with watchkeeper.span("request"):
        producer_trace = watchkeeper.current_trace_id()
        headers = watchkeeper.inject({})
        jobs.put({"headers": headers})
    thread.join(5)
    assert headers["traceparent"].split("-")[1] == producer_trace
    assert seen == [producer_trace]
    spans = _by_name()
    assert spans["process job"].parent.span_id == spans["request"].context.span_id  # type: ignore[attr-defined]


def test_kafka_style_header_lists_are_accepted() -> None:
    _init()
    with watchkeeper.span("produce"):
        headers = [(k, v.encode()) for k, v in watchkeeper.inject().items()]
        expected = watchkeeper.current_trace_id()
    with watchkeeper.continue_trace(headers):
        assert watchkeeper.current_trace_id() == expected


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.text(max_size=120),
    st.builds(lambda v, t, s, f: f"{v}-{t}-{s}-{f}",
              st.text("0123456789abcdefxyz", min_size=0, max_size=3),
              st.text("0123456789abcdefABCDEF-", min_size=0, max_size=40),
              st.text("0123456789abcdefABCDEF", min_size=0, max_size=20),
              st.text("0123456789abcdefz", min_size=0, max_size=3)),
))
def test_malformed_traceparent_is_ignored_safely(header: str) -> None:
    if traces.current() is None:
        _init()
    with watchkeeper.continue_trace({"traceparent": header, "tracestate": header,
                                     "baggage": header}, "job"):
        trace_id = watchkeeper.current_trace_id()
    assert trace_id is None or (len(trace_id) == 32 and trace_id != "0" * 32)


def test_timer_records_histogram_event_and_debug_line() -> None:
    _init()
    with watchkeeper.span("outer"), watchkeeper.timer("render"):
        pass

    @watchkeeper.timer("decorated")
    def f() -> int:
        return 1

    assert f() == 1
    from watchkeeper import _runtime
    from watchkeeper.metrics import render_registry

    exposed = render_registry(_runtime.registry())
    assert 'timer_duration_seconds_count{name="render"} 1.0' in exposed
    assert 'timer_duration_seconds_count{name="decorated"} 1.0' in exposed
    (outer,) = traces.finished_spans()
    assert outer.events[0].name == "render"
    assert "duration_ms" in outer.events[0].attributes


def test_sampler_settings_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    _init(sample_ratio=0.0)
    with watchkeeper.span("unsampled"):
        assert watchkeeper.current_trace_id() is not None  # ids still flow into logs
    assert traces.finished_spans() == []
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    _init()
    with watchkeeper.span("off"):
        pass
    assert traces.finished_spans() == []
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "1.0")
    _init()
    with watchkeeper.span("on"):
        pass
    assert [s.name for s in traces.finished_spans()] == ["on"]


def test_resource_attributes_come_from_the_service_settings() -> None:
    watchkeeper.init(service={"name": "shop", "version": "1.2.3", "environment": "staging"},
                     traces={"exporters": ["memory"]})
    with watchkeeper.span("x"):
        pass
    (s,) = traces.finished_spans()
    attrs = s.resource.attributes
    assert attrs["service.name"] == "shop"
    assert attrs["service.version"] == "1.2.3"
    assert attrs["deployment.environment"] == "staging"
    assert "host.name" in attrs
    assert "process.pid" in attrs


def test_invalid_settings_are_named() -> None:
    with pytest.raises(ConfigError, match=r"traces\.exporters"):
        watchkeeper.init(traces={"exporters": ["zipkin"]})
    with pytest.raises(ConfigError, match=r"traces\.sample_ratio"):
        watchkeeper.init(traces={"sample_ratio": 2})


def test_exporters_follow_the_standard_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from watchkeeper.config import TracesSettings

    assert traces.exporter_names(TracesSettings()) == []
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert traces.exporter_names(TracesSettings()) == ["otlp"]
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console,otlp")
    assert traces.exporter_names(TracesSettings()) == ["console", "otlp"]
    assert traces.exporter_names(TracesSettings(exporters=["none"])) == []


def test_secrets_never_reach_exported_spans() -> None:
    _init()
    with pytest.raises(RuntimeError), watchkeeper.span(
            "login", password="hunter2", note="Authorization: Bearer abc.def.ghi"):
        raise RuntimeError("db url postgres://app:s3cretpw@db/app")
    (s,) = traces.finished_spans()
    text = repr(dict(s.attributes)) + repr([dict(e.attributes) for e in s.events]) + \
        str(s.status.description)
    for secret in ("hunter2", "abc.def.ghi", "s3cretpw"):
        assert secret not in text


def test_log_lines_inside_plain_opentelemetry_spans_carry_their_ids() -> None:
    from opentelemetry import trace

    from watchkeeper.logs import capture_logs, get_logger

    _init()
    with capture_logs() as logs, trace.get_tracer("lib").start_as_current_span("lib op") as s:
        get_logger("lib").info("from a library span")
    line = logs.find(message="from a library span")[0]
    assert line["trace_id"] == format(s.get_span_context().trace_id, "032x")
    assert line["span_id"] == format(s.get_span_context().span_id, "016x")


def test_spans_nest_through_the_context_api_when_the_runtime_is_not_contextvars(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Another OpenTelemetry runtime context (OTEL_PYTHON_CONTEXT) is used through the
    attach/detach API, with the same parenting and current ids."""
    from opentelemetry import trace

    from watchkeeper.traces import _active

    _init()
    _active._bind()
    monkeypatch.setattr(_active, "_VAR", None)
    with watchkeeper.span("outer") as outer:
        with watchkeeper.span("inner"):
            inner_ids = (watchkeeper.current_trace_id(), watchkeeper.current_span_id())
            assert trace.get_current_span().get_span_context().span_id == int(inner_ids[1], 16)
        assert watchkeeper.current_span_id() == format(
            outer.get_span_context().span_id, "016x")
    assert watchkeeper.current_trace_id() is None
    spans = _by_name()
    inner, outer_span = spans["inner"], spans["outer"]
    assert inner.parent.span_id == outer_span.context.span_id  # type: ignore[attr-defined]
    assert inner_ids[0] == format(outer_span.context.trace_id, "032x")  # type: ignore[attr-defined]
