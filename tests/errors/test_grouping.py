"""Fingerprints, grouping into issues, rules and limits — in process."""

from __future__ import annotations

import random
import uuid

import pytest

import watchkeeper
from watchkeeper import errors
from watchkeeper.config import load_settings
from watchkeeper.errors import ErrorCapture, normalise_message


class PaymentDeclined(Exception):
    pass


def charge(order_id: int) -> None:
    raise PaymentDeclined(f"card declined for order {order_id} at {object()!r}")


def load(user: str) -> None:
    {}[f"user:{user}"]  # a KeyError with a varying key


def parse(raw: str) -> int:
    return int(raw)


def test_a_thousand_errors_from_three_paths_make_exactly_three_issues() -> None:
    watchkeeper.init(errors={"rate_limit": 50}, traces={"enabled": False})
    paths = [(charge, lambda i: i), (load, lambda i: uuid.uuid4().hex),
             (parse, lambda i: f"x{i}")]
    expected = {0: 0, 1: 0, 2: 0}
    rng = random.Random(7)
    for i in range(1000):
        which = rng.randrange(3)
        fn, arg = paths[which]
        try:
            fn(arg(i))  # type: ignore[operator]
        except Exception as exc:
            watchkeeper.capture_exception(exc, user={"id": f"u{i % 17}"})
        expected[which] += 1
    issues = errors.issues()
    assert len(issues) == 3
    by_type = {i.type: i for i in issues}
    assert set(by_type) == {f"{__name__}.PaymentDeclined", "KeyError", "ValueError"}
    assert by_type[f"{__name__}.PaymentDeclined"].count == expected[0]
    assert by_type["KeyError"].count == expected[1]
    assert by_type["ValueError"].count == expected[2]
    for issue in issues:
        assert issue.affected_users == 17
        assert len(issue.samples) == 10  # last N samples, bounded
        assert issue.first_seen <= issue.last_seen
    assert by_type["KeyError"].culprit == f"{__name__} in load"


def test_fingerprint_ignores_line_drift_and_addresses() -> None:
    watchkeeper.init(traces={"enabled": False})
    fingerprints = set()
    for padding in (0, 7):
        namespace: dict[str, object] = {"__name__": "app.billing"}
        source = "\n" * padding + "def fail(x):\n    raise RuntimeError(f'bad {x} {object()!r}')\n"
        exec(compile(source, "/srv/app/billing.py", "exec"), namespace)
        try:
            namespace["fail"](padding)  # type: ignore[operator]
        except RuntimeError as exc:
            fingerprints.add(watchkeeper.capture_exception(exc))
    assert len(fingerprints) == 1
    assert errors.issues()[0].count == 2


def test_messages_group_by_their_template() -> None:
    watchkeeper.init(traces={"enabled": False})
    a = watchkeeper.capture_message("refund 120.50 for order 991 by 'ann'", level="warning")
    b = watchkeeper.capture_message("refund 7 for order 12 by 'bob'", level="warning")
    c = watchkeeper.capture_message("refund 7 for order 12 by 'bob'", level="error")
    assert a == b != c
    assert normalise_message("id 0x7f3a9c 5f1e2d3c-0000-4000-8000-000000000001") == \
        "id <hex> <uuid>"


def test_rate_limit_counts_but_does_not_store_or_send() -> None:
    sent: list[dict[str, object]] = []

    class Sink:
        def send(self, event: dict[str, object]) -> None:
            sent.append(event)

        def close(self) -> None: ...

    now = [1000.0]
    settings = load_settings(errors={"rate_limit": 3, "rate_window": "1m"})
    capture = ErrorCapture(settings, sinks=[Sink()], clock=lambda: now[0])
    for _ in range(10):
        try:
            parse("x")
        except ValueError as exc:
            capture.capture_exception(exc)
    (issue,) = capture.store.issues()
    assert issue.count == 10
    assert len(sent) == 3
    assert capture.dropped["rate_limited"] == 7
    now[0] += 61
    try:
        parse("y")
    except ValueError as exc:
        capture.capture_exception(exc)
    assert len(sent) == 4


def test_sampling_and_before_send() -> None:
    def scrub(event: dict[str, object]) -> dict[str, object] | None:
        if "drop me" in str(event["message"]):
            return None
        event["tags"] = {**event["tags"], "scrubbed": True}  # type: ignore[dict-item]
        return event

    settings = load_settings(errors={"sample_rate": 0.5, "before_send": scrub})
    draws = iter([0.2, 0.9, 0.1])
    capture = ErrorCapture(settings, rng=lambda: next(draws))
    assert capture.capture_message("kept one") is not None
    assert capture.capture_message("sampled out") is None
    assert capture.capture_message("drop me") is None
    assert capture.capture_message("kept two") is not None
    assert capture.dropped == {"ignored": 0, "before_send": 1, "sampled": 1,
                               "rate_limited": 0}
    assert all(i.samples[0]["tags"] == {"scrubbed": True} for i in capture.store.issues())


def test_before_send_as_import_string_and_bad_ones() -> None:
    from watchkeeper.exceptions import ConfigError, ErrorCaptureError

    watchkeeper.init(errors={"before_send": "json:loads"}, traces={"enabled": False})
    with pytest.raises(ErrorCaptureError):
        watchkeeper.init(errors={"before_send": "no_such_module:f"})
    with pytest.raises(ConfigError, match="before_send"):
        watchkeeper.init(errors={"before_send": "nocolon"})


def test_ignored_exception_types() -> None:
    watchkeeper.init(errors={"ignore_exceptions": ["PaymentDeclined", "builtins.KeyError"]},
                     traces={"enabled": False})
    results = []
    for fn, arg in ((charge, 1), (load, "a")):
        try:
            fn(arg)  # type: ignore[operator]
        except Exception as exc:
            results.append(watchkeeper.capture_exception(exc))
    assert results == [None, None]
    assert errors.issues() == []


def test_capture_exception_defaults_to_the_one_being_handled() -> None:
    watchkeeper.init(traces={"enabled": False})
    assert watchkeeper.capture_exception() is None
    try:
        parse("z")
    except ValueError:
        assert watchkeeper.capture_exception(tags={"job": "import"}) is not None
    (issue,) = errors.issues()
    event = issue.samples[0]
    assert event["tags"] == {"job": "import"}
    frames = event["exception"]["values"][-1]["frames"]
    mine = next(f for f in frames if f["function"] == "parse")
    assert mine["in_app"] is True
    assert mine["context_line"].strip() == "return int(raw)"
    assert mine["locals"] == {"raw": "'z'"}
    assert not any(f["in_app"] for f in frames if "site-packages" in f["filename"])
    assert event["release"] == "unknown"
    assert event["environment"] == "production"


def test_chained_exceptions_are_kept() -> None:
    watchkeeper.init(traces={"enabled": False})
    try:
        try:
            parse("q")
        except ValueError as inner:
            raise RuntimeError("import failed") from inner
    except RuntimeError as exc:
        watchkeeper.capture_exception(exc)
    values = errors.issues()[0].samples[0]["exception"]["values"]
    assert [v["type"] for v in values] == ["ValueError", "RuntimeError"]


def test_store_is_bounded() -> None:
    watchkeeper.init(errors={"max_issues": 5}, traces={"enabled": False})
    for i in range(20):
        watchkeeper.capture_message(f"distinct message kind {chr(65 + i)}")
    assert len(errors.issues()) == 5
    assert errors.issues()[0].title.endswith("T")
