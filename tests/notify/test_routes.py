"""Routing tree: inheritance, continue, and ``routes-test`` against real amtool."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from watchkeeper.cli._notify import run
from watchkeeper.notify import build_route, load_config, parse_config

from ._servers import AMTOOL
from .conftest import CORPUS

TREE = """\
route:
  receiver: root
  group_by: [alertname]
  group_wait: 10s
  routes:
    - matchers: ['team="db"', 'env=~"prod|staging"']
      receiver: db
      group_by: ['...']
      continue: true
      routes:
        - match: {severity: critical}
          receiver: db-pager
          repeat_interval: 1h
        - match_re: {service: "^(pg|my)sql$"}
          receiver: db-sql
    - matchers: ['severity!="info"']
      receiver: ops
      group_interval: 1m
      routes:
        - matchers: ['team=~"web.*"', 'severity="critical"']
          receiver: web-pager
          continue: true
        - matchers: ['team=~"web.*"']
          receiver: web
    - receiver: catchall
receivers:
  - name: root
  - name: db
  - name: db-pager
  - name: db-sql
  - name: ops
  - name: web-pager
  - name: web
  - name: catchall
"""


def test_inheritance_and_continue() -> None:
    route = build_route(parse_config(TREE).route)
    hits = route.match({"team": "db", "env": "prod", "severity": "critical"})
    assert [r.opts.receiver for r in hits] == ["db-pager", "ops"]
    pager = hits[0]
    assert pager.opts.group_by_all is True  # inherited '...'
    assert pager.opts.group_wait == 10.0
    assert pager.opts.repeat_interval == 3600.0
    assert hits[1].opts.group_interval == 60.0
    assert hits[1].opts.group_by == {"alertname"}
    assert [r.opts.receiver for r in route.match({"severity": "info"})] == ["catchall"]
    assert pager.key() == '{}/{env=~"prod|staging",team="db"}/{severity="critical"}'


def _label_sets(n: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    vocab = {
        "team": ["db", "web", "webapp", "x", "team-Y", "team-X"],
        "env": ["prod", "staging", "dev"],
        "severity": ["critical", "info", "warning"],
        "service": ["pgsql", "mysql", "files", "database", "foo1", "baz", "redis"],
        "owner": ["team-Y", "team-X"], "owner2": ["team-X"],
    }
    out = []
    for _ in range(n):
        keys = rng.sample(sorted(vocab), rng.randint(0, len(vocab)))
        out.append([f"{k}={rng.choice(vocab[k])}" for k in keys])
    return out


def _amtool(config: Path, labels: list[str], tree: bool = False) -> str:
    assert AMTOOL is not None
    args = [AMTOOL, "config", "routes", "test", f"--config.file={config}"]
    if tree:
        args.append("--tree")
    out = subprocess.run([*args, *labels], capture_output=True, text=True, check=True,
                         timeout=20)
    return out.stdout


def _ours(config: Path, labels: list[str], capsys: pytest.CaptureFixture[str],
          tree: bool = False) -> str:
    capsys.readouterr()
    assert run(["routes-test", "--config", str(config), *(["--tree"] if tree else []),
                *labels]) == 0
    return capsys.readouterr().out


@pytest.mark.skipif(AMTOOL is None, reason="amtool not installed")
def test_routes_test_agrees_with_amtool(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    configs = [tmp_path / "tree.yml"]
    configs[0].write_text(TREE)
    if CORPUS.is_dir():
        configs.append(CORPUS / "conf.good.yml")
    checked = 0
    for config in configs:
        for i, labels in enumerate(_label_sets(60, seed=len(str(config)))):
            tree = i % 10 == 0
            assert _ours(config, labels, capsys, tree) == _amtool(config, labels, tree), labels
            checked += 1
    assert checked >= 60


@pytest.mark.skipif(AMTOOL is None, reason="amtool not installed")
def test_routes_show_agrees_with_amtool(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "tree.yml"
    config.write_text(TREE)
    assert AMTOOL is not None
    want = subprocess.run([AMTOOL, "config", "routes", f"--config.file={config}"],
                          capture_output=True, text=True, check=True).stdout
    capsys.readouterr()
    assert run(["routes", "--config", str(config)]) == 0
    assert capsys.readouterr().out == want


@pytest.mark.skipif(not CORPUS.is_dir(), reason="conformance corpus ../shared absent")
def test_corpus_oracle(capsys: pytest.CaptureFixture[str]) -> None:
    assert _ours(CORPUS / "conf.good.yml", ["service=database", "owner=team-Y"],
                 capsys) == "team-Y-pager\n"
    route = build_route(load_config(CORPUS / "conf.good.yml").route)
    assert route.tree().startswith("Routing tree:\n.\n└── default-route  receiver: team-X-mails")


def test_verify_receivers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "tree.yml"
    config.write_text(TREE)
    assert run(["routes-test", "--config", str(config), "--verify-receivers", "ops",
                "severity=warning"]) == 0
    assert run(["routes-test", "--config", str(config), "--verify-receivers", "db",
                "severity=warning"]) == 1
    assert "WARNING: Expected receivers" in capsys.readouterr().out
