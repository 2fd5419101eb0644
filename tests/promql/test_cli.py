"""``watchkeeper promql test|query`` through the command module's parser."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from watchkeeper.cli import _promql


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    _promql.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return int(args.func(args))


SCRIPT = """
load 1m
  m{a="1"} 0+1x10

eval instant at 5m m
  m{a="1"} 5

eval instant at 5m m
  m{a="1"} 6
"""


def test_test_command_counts_and_exit_code(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "x.test"
    f.write_text(SCRIPT)
    assert _run(["promql", "test", str(f)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "1 passed, 1 failed"
    assert out[0] == f"{f}: 1 passed, 1 failed, 0 skipped"


def test_query_command_over_exposition(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "d.prom"
    f.write_text('req_total{job="a"} 10 1700000000000\nreq_total{job="a"} 40 1700000030000\n')
    assert _run(["promql", "query", "increase(req_total[1m])", "--data", str(f)]) == 0
    out = capsys.readouterr().out
    assert '{job="a"}' in out
    assert "1700000030.000" in out
    assert _run(["promql", "query", "req_total", "--data", str(f), "--start", "1700000000",
                 "--end", "1700000030", "--step", "30s"]) == 0
