from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import json
import logging
import uuid
import warnings
from typing import Any

import orjson
import pydantic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchkeeper import logs
from watchkeeper.logs import _context


class Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Model(pydantic.BaseModel):
    name: str


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no")

    __repr__ = __str__


def test_record_shape(captured: Any) -> None:
    _context.request_id.set("rid-1")
    _context.trace_id.set("a" * 32)
    _context.span_id.set("b" * 16)
    logs.get_logger("app.orders").info("paid", order_id=1)
    (rec,) = captured.records
    assert rec["timestamp"].endswith("Z")
    assert len(rec["timestamp"]) == 24
    dt.datetime.fromisoformat(rec["timestamp"].replace("Z", "+00:00"))
    assert rec["level"] == "INFO"
    assert rec["message"] == "paid"
    assert rec["logger"] == "app.orders"
    assert (rec["service"], rec["version"], rec["environment"]) == ("svc", "1.2.3", "test")
    assert rec["host"]
    assert isinstance(rec["pid"], int)
    assert rec["module"] == __name__
    assert rec["function"] == "test_record_shape"
    assert isinstance(rec["line"], int)
    assert (rec["request_id"], rec["trace_id"], rec["span_id"]) == ("rid-1", "a" * 32, "b" * 16)
    assert rec["order_id"] == 1
    _context.request_id.set(None)
    _context.trace_id.set(None)
    _context.span_id.set(None)


def test_any_value_serialises(captured: Any) -> None:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    logs.get_logger("app").info(
        "values", when=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        price=decimal.Decimal("9.5"),
        id=uuid.UUID(int=1), raw=b"\xffbytes", tags={"a"}, colour=Colour.RED,
        point=Point(1, 2), model=Model(name="m"), obj=object(), bad=Unprintable(),
        big=2**80, loop=loop, surrogate="\ud800x", nested={1: "int key"},
    )
    (line,) = captured.lines
    assert line.count(b"\n") == 1
    rec = orjson.loads(line)
    assert rec["price"] == "9.5"
    assert rec["colour"] == "red"
    assert rec["point"] == {"x": 1, "y": 2}
    assert rec["model"] == {"name": "m"}
    assert rec["bad"].startswith("<unprintable")
    assert rec["big"] == str(2**80)
    assert rec["tags"] == ["a"]


def test_exception_shape(captured: Any) -> None:
    try:
        raise KeyError("missing")
    except KeyError:
        logging.getLogger("lib").exception("lookup failed")
    (rec,) = captured.records
    assert rec["exception"]["type"] == "KeyError"
    assert rec["exception"]["value"] == "'missing'"
    assert "Traceback" in rec["exception"]["traceback"]


def test_huge_message_is_truncated_with_marker(make_logs: Any) -> None:
    captured = make_logs(max_message_length=100)
    logs.get_logger("app").info("x" * 10_000, field="y" * 500)
    (rec,) = captured.records
    assert rec["message"].startswith("x" * 100)
    assert "[truncated 9900 chars]" in rec["message"]
    assert len(rec["field"]) < 200


def test_control_characters_cannot_inject_lines(captured: Any) -> None:
    evil = 'ok\n{"level":"CRITICAL","message":"forged"}\r\x00\x1b[31m'
    logs.get_logger("app").info(evil, user=evil)
    logging.getLogger("lib").info("user %s", evil)
    assert len(captured.lines) == 2
    for line in captured.lines:
        assert line.count(b"\n") == 1
        assert b"\r" not in line
        assert b"\x00" not in line
        assert orjson.loads(line)["level"] == "INFO"


def _unique_keys(line: bytes) -> dict[str, Any]:
    pairs: list[tuple[str, Any]] = json.loads(line, object_pairs_hook=list)
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), keys
    return dict(pairs)


def test_reserved_field_names_do_not_overwrite(captured: Any) -> None:
    with logs.bound(pid="bound-fake", tenant="t1"):
        logs.get_logger("app").info("real", level="fake", message="fake", service="fake")
    (line,) = captured.lines
    rec = _unique_keys(line)
    assert rec["level"] == "INFO"
    assert rec["message"] == "real"
    assert rec["level_"] == "fake"
    assert rec["message_"] == "fake"
    # Static fields are encoded once per pipeline and spliced in: still not overwritable.
    assert rec["service"] == "svc"
    assert rec["service_"] == "fake"
    assert isinstance(rec["pid"], int)
    assert rec["pid_"] == "bound-fake"
    assert rec["tenant"] == "t1"


def test_ecs_field_names(make_logs: Any) -> None:
    captured = make_logs(fields="ecs", rename={"message": "msg"})
    logs.get_logger("app").warning("hi")
    (rec,) = captured.records
    assert rec["@timestamp"]
    assert rec["log.level"] == "WARNING"
    assert rec["msg"] == "hi"
    assert rec["service.name"] == "svc"
    assert rec["log.logger"] == "app"


def test_stdlib_bridge_extras_and_library_loggers(captured: Any) -> None:
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42,
                                            extra={"color_message": "\x1b[1mx"})
    logging.getLogger("app").info("with extra", extra={"order_id": 5})
    uv, app = captured.records
    assert uv["message"] == "Started server process [42]"
    assert "color_message" not in uv
    assert app["order_id"] == 5
    assert app["module"] == "test_record"


def test_levels_http_and_debug_namespaces(make_logs: Any) -> None:
    captured = make_logs(level="info", debug=["app.db", "app.auth*"],
                         levels={"noisy": "error"})
    logging.getLogger("app.auth.tokens")  # exists before configure in real apps too
    logs.get_logger("app.db.pool").debug("db debug")
    logs.get_logger("app.auth").debug("auth debug")
    logs.get_logger("app.web").debug("hidden")
    logs.get_logger("noisy").warning("hidden too")
    logs.get_logger("watchkeeper.access").http("GET / 200")
    logs.get_logger("app.web").http("hidden http")
    assert [r["message"] for r in captured.records] == ["db debug", "auth debug", "GET / 200"]
    assert captured.records[-1]["level"] == "HTTP"


def test_warnings_are_captured(captured: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("old api", UserWarning, stacklevel=1)
    (rec,) = captured.records
    assert rec["logger"] == "py.warnings"
    assert "old api" in rec["message"]


def test_reset_restores_root(make_logs: Any) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    make_logs()
    assert any(isinstance(h, logs.BridgeHandler) for h in root.handlers)
    logs.reset()
    assert root.handlers == before


def test_pipeline_never_raises_into_the_app(captured: Any) -> None:
    class Boom:
        name = "boom"
        min_level = 0

        def write(self, entry: Any) -> None:
            raise OSError("disk full")

        def flush(self) -> None: ...

        def close(self, timeout: float) -> None: ...

    pipeline = logs._logger.state.pipeline
    assert pipeline is not None
    pipeline.sinks.insert(0, Boom())
    logs.get_logger("app").info("still written")
    assert captured.records[0]["message"] == "still written"


def _helper_logs(stacklevel: int) -> None:
    logging.getLogger("lib").info("from helper", stacklevel=stacklevel)


def test_fast_find_caller_matches_the_stdlib(captured: Any) -> None:
    from watchkeeper.logs import _caller

    def origin() -> tuple[Any, ...]:
        _helper_logs(1)
        _helper_logs(2)
        return tuple((r["function"], r["line"]) for r in captured.records[-2:])

    fast = origin()
    _caller.uninstall()
    try:
        slow = origin()
    finally:
        _caller.install()
    assert fast[0][0] == "_helper_logs"
    assert fast[1][0] == "origin"
    assert [f for f, _ in fast] == [f for f, _ in slow]
    assert fast[0][1] == slow[0][1]


def test_trace_provider_supplies_ids_when_context_has_none(captured: Any) -> None:
    logs.set_trace_provider(lambda: ("c" * 32, "d" * 16))
    try:
        logs.get_logger("app").info("traced")
    finally:
        logs.set_trace_provider(None)
    (rec,) = captured.records
    assert rec["trace_id"] == "c" * 32
    assert rec["span_id"] == "d" * 16


_anything = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
              st.text(), st.binary(max_size=20), st.decimals(allow_nan=False),
              st.datetimes(), st.uuids(), st.builds(object), st.builds(Unprintable)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(st.text(max_size=8), st.integers()),
                                            inner, max_size=4),
                            st.tuples(inner, inner), st.frozensets(st.integers(), max_size=3)),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=st.text(), fields=st.dictionaries(st.text(min_size=1, max_size=10),
                                                  _anything, max_size=5))
def test_any_input_is_one_valid_json_line(message: str, fields: dict[str, Any]) -> None:
    with logs.capture_logs() as captured:
        logs.get_logger("prop").info(message, **fields)
        logging.getLogger("prop").warning(message, extra={f"x_{k}": v for k, v in fields.items()})
    assert len(captured.lines) == 2
    for line in captured.lines:
        assert line.endswith(b"\n")
        assert line.count(b"\n") == 1
        orjson.loads(line)
        _unique_keys(line)
