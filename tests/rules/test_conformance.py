"""promtool's rule unit-test corpus (../shared/conformance/promtool-rules), run by ``rules test``.

The target is the upstream expectation column of the corpus README. Files whose upstream
pass needs a feature we lack are listed in ``KNOWN_GAPS`` with the reason, and pinned to
the exact per-group counts we reach so a regression still fails.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from watchkeeper.rules._unittest import run_test_file

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "promtool-rules"

# file -> (--run patterns, --ignore-unknown-fields, upstream expects pass)
EXPECTED: dict[str, tuple[tuple[str, ...], bool, bool]] = {
    "long-period.yml": ((), False, True),
    "no-test-group-interval.yml": ((), False, True),
    "at-modifier-test.yml": ((), False, True),
    "negative-offset-test.yml": ((), False, True),
    "start-time-test.yml": ((), False, True),
    "failing.yml": ((), False, False),
    "rules_run.yml": (("correct",), False, True),
    "rules_run_extrafields.yml": ((), True, True),
    "rules_run_fuzzy.yml": (("correct",), False, True),
    "rules_run_fuzzy.yml --run wrong": (("wrong",), False, False),
    "rules_run_no_fuzzy.yml": ((), False, False),
    "bad-input-series.yml": ((), False, False),
    "bad-promql.yml": ((), False, False),
    "bad-rules-error-test.yml": ((), False, False),
    "bad-rules-syntax-test.yml": ((), False, False),
}

# Upstream passes these; we do not yet. file -> (passed, failed) test groups we reach.
KNOWN_GAPS = {
    # Its first test group loads native histograms ({{schema:1 ...}}), which the TSDB
    # does not store; the other four groups pass.
    "unittest.yml": (4, 1),
}

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS}")


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_upstream_expectation(case: str) -> None:
    run, ignore, should_pass = EXPECTED[case]
    res = run_test_file(CORPUS / case.split(maxsplit=1)[0], run=run, ignore_unknown_fields=ignore)
    assert res.ok == should_pass, "\n".join(res.errors)
    if should_pass:
        assert res.passed >= 1


@pytest.mark.parametrize("name", sorted(KNOWN_GAPS))
def test_known_gaps_are_pinned(name: str) -> None:
    res = run_test_file(CORPUS / name)
    assert (res.passed, res.failed) == KNOWN_GAPS[name]
    assert all("native histogram" in e for e in res.errors)


def test_every_corpus_test_file_is_covered() -> None:
    test_files = {p.name for p in CORPUS.glob("*.yml")
                  if "test" in p.name or p.name.startswith(("failing", "unittest", "long",
                                                             "bad-input", "bad-promql",
                                                             "rules_run", "no-test"))}
    covered = {c.split()[0] for c in EXPECTED} | set(KNOWN_GAPS)
    assert test_files == covered


def test_cli_output_and_exit_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CORPUS)
    ok = subprocess.run([sys.executable, "-m", "watchkeeper.cli", "rules", "test",
                         "long-period.yml", "rules_run.yml", "--run", "correct"],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0  # --run also filters long-period.yml's unnamed group out
    assert ok.stdout == ("Unit Testing:  long-period.yml\n  SUCCESS\n\n"
                         "Unit Testing:  rules_run.yml\n  SUCCESS\n\n1 passed, 0 failed\n")
    bad = subprocess.run([sys.executable, "-m", "watchkeeper.cli", "rules", "test",
                          "failing.yml"], capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert bad.stdout.endswith("0 passed, 2 failed\n")
    assert bad.stderr.startswith("  FAILED:\n    name: Failing test,\n    alertname: Test, "
                                 "time: 0s, \n        exp:[\n            0:\n")
    assert '        exp: {__name__="test"} 1E+00\n        got: {__name__="test"} 0E+00' \
        in bad.stderr
