"""The test-script runner's own rules (annotation expectations, @st lines)."""

from __future__ import annotations

import pytest

from watchkeeper.promql._testscript import check_annotations, parse_st_line, run_script

_LOAD = """
load 1m
    metric 0+60x10
"""


@pytest.mark.parametrize(("expects", "passes"), [
    ("", True),  # upstream: without expect lines annotations are not checked
    ("    expect info", True),
    ("    expect no_info", False),
    ('    expect info msg: PromQL info: metric might not be a counter, name does not end '
     'in _total/_sum/_count/_bucket: "metric" (1:6)', True),
    ("    expect info msg: PromQL info: something else", False),
    ("    expect info regex: might not be a counter", True),
    ("    expect warn", False),
])
def test_annotation_expectations(expects: str, passes: bool) -> None:
    body = [expects] if expects else []
    script = "\n".join([_LOAD, "eval instant at 5m rate(metric[5m])", *body, "    {} 1", ""])
    report = run_script(script)
    assert (report.passed, report.failed) == ((1, 0) if passes else (0, 1)), report.failures


def test_every_annotation_must_be_expected_once_a_kind_is() -> None:
    assert check_annotations([("warn", "regex", "a")], ["a1", "b"], []) == (
        "unexpected warn annotation 'b'")
    assert check_annotations([("warn", "regex", "a"), ("warn", "regex", "b")],
                             ["a1", "b"], []) is None
    assert check_annotations([("info", None, None)], [], []) == (
        "expected info annotations but none were found")
    assert check_annotations([("no_warn", None, None)], [], ["i"]) is None


def test_st_lines() -> None:
    labels, offs = parse_st_line('m{a="b"}@st _ -30s-1mx2 0 1ms +1m _x2')
    assert labels == {"__name__": "m", "a": "b"}
    assert offs == [None, -30_000, -90_000, -150_000, 0, 1, 60_000, None, None]
    with pytest.raises(ValueError, match="invalid ST item"):
        parse_st_line("m@st 5q")
