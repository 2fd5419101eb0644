"""Prometheus' own PromQL test corpus (../shared/conformance/promql), run by our runner.

Per file we pin the evals that must pass; a drop is a regression. Files with known
failures list them with the reason in ``KNOWN_FAILURES`` so the list stays honest.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from watchkeeper.promql._testscript import run_file

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "promql"

# file -> minimum evals that must pass (current state of the engine).
MIN_PASSED = {
    "aggregators.test": 125,
    "at_modifier.test": 78,
    "collision.test": 2,
    "duration_expression.test": 59,
    "extended_vectors.test": 120,
    "fill-modifier.test": 46,
    "functions.test": 323,
    "histograms.test": 93,
    "info.test": 52,
    "limit.test": 1,
    "literals.test": 25,
    "name_label_dropping.test": 30,
    "operators.test": 142,
    "range_queries.test": 16,
    "selectors.test": 31,
    "staleness.test": 17,
    "start_timestamps.test": 16,
    "subquery.test": 32,
    "trig_functions.test": 19,
    "type_and_unit.test": 58,
}

# file -> (max failures allowed, why)
KNOWN_FAILURES: dict[str, tuple[int, str]] = {}

FILES = sorted(p.name for p in CORPUS.glob("*.test")) if CORPUS.is_dir() else []


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"conformance corpus not found at {CORPUS}")
@pytest.mark.parametrize("name", FILES)
def test_conformance_file(name: str) -> None:
    report = run_file(CORPUS / name)
    allowed, why = KNOWN_FAILURES.get(name, (0, ""))
    detail = "\n".join(report.failures[:20])
    assert report.failed <= allowed, f"{name}: {report.failed} failed ({why})\n{detail}"
    assert report.passed >= MIN_PASSED.get(name, 1), f"{name}: only {report.passed} passed"
