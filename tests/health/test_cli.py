"""``watchkeeper export k8s-probes``."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import yaml

from watchkeeper.cli import _export


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    _export.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_probes_match_paths_and_seed_values(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHKEEPER_CONFIG", raising=False)
    config = tmp_path / "wk.yml"
    config.write_text("health:\n  live_path: /livez\n  ready_path: /readyz\n")
    assert run(["export", "k8s-probes", "--port", "8000", "--config", str(config)]) == 0
    probes = yaml.safe_load(capsys.readouterr().out)
    live, ready, startup = (probes["livenessProbe"], probes["readinessProbe"],
                            probes["startupProbe"])
    assert live["httpGet"] == {"path": "/livez", "port": 8000, "scheme": "HTTP"}
    assert (live["initialDelaySeconds"], live["periodSeconds"]) == (30, 10)
    assert ready["httpGet"]["path"] == "/readyz"
    assert (ready["initialDelaySeconds"], ready["periodSeconds"]) == (10, 5)
    assert startup["httpGet"]["path"] == "/health/startup"
    assert startup["failureThreshold"] == 30


def test_named_port(capsys: pytest.CaptureFixture[str],
                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHKEEPER_CONFIG", raising=False)
    assert run(["export", "k8s-probes", "--port", "http"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["livenessProbe"]["httpGet"]["port"] == "http"


def test_registered_in_main() -> None:
    from watchkeeper.cli import _main

    assert "watchkeeper.cli._export" in _main.COMMAND_MODULES
