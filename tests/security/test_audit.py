"""Hash-chained audit log: append, verify, detect tampering, retention, CLI."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from watchkeeper.cli import main
from watchkeeper.exceptions import AuditChainError
from watchkeeper.security import GENESIS, AuditLog, verify_audit


def _log(path: Path, clock: list[float]) -> AuditLog:
    return AuditLog(path, retention=100.0, clock=lambda: clock[0])


def test_chain_verifies_and_continues_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    clock = [1000.0]
    log = _log(path, clock)
    for i in range(5):
        log.append("auth_failure", user=f"u{i}", client="10.0.0.1")
    log2 = _log(path, clock)  # a restart continues the same chain
    log2.append("config_loaded", mode="block")
    report = verify_audit(path)
    assert report.records == 6
    assert report.complete
    assert report.anchor == GENESIS
    records = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert records[5]["prev"] == records[4]["hash"]


@pytest.mark.parametrize("tamper", ["edit", "delete", "insert", "swap", "truncate_json"])
def test_tampering_is_detected_at_its_line(tmp_path: Path, tamper: str) -> None:
    path = tmp_path / "audit.jsonl"
    log = _log(path, [1000.0])
    for i in range(6):
        log.append("rule_hit", client=f"10.0.0.{i}", action="detected")
    lines = path.read_bytes().splitlines(keepends=True)
    if tamper == "edit":
        lines[2] = lines[2].replace(b"10.0.0.2", b"10.0.0.9")
    elif tamper == "delete":
        del lines[2]
    elif tamper == "insert":
        lines.insert(2, lines[1])
    elif tamper == "swap":
        lines[2], lines[3] = lines[3], lines[2]
    else:
        lines[2] = lines[2][:20] + b"\n"
    path.write_bytes(b"".join(lines))
    with pytest.raises(AuditChainError) as info:
        verify_audit(path)
    assert info.value.line == 3


def test_retention_drops_old_records_and_keeps_an_anchor(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    clock = [1000.0]
    log = _log(path, clock)
    log.append("a")
    log.append("b")
    clock[0] = 1200.0
    log.append("c")
    assert log.prune() == 2
    report = verify_audit(path)
    assert report.records == 1
    assert not report.complete
    assert report.anchor != GENESIS


def test_cli_verify_audit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "audit.jsonl"
    log = _log(path, [1000.0])
    log.append("a")
    log.append("b")
    assert main(["security", "verify-audit", str(path)]) == 0
    assert "OK, 2 records" in capsys.readouterr().out
    path.write_bytes(path.read_bytes().replace(b'"a"', b'"x"'))
    assert main(["security", "verify-audit", str(path)]) == 1
    assert "line 1" in capsys.readouterr().err
    assert main(["security", "verify-audit", str(tmp_path / "missing")]) == 2


def _append_many(path: str, count: int) -> None:
    log = AuditLog(Path(path))
    for i in range(count):
        log.append("auth_failure", n=i)


def test_worker_processes_share_one_chain(tmp_path: Path) -> None:
    import multiprocessing

    path = tmp_path / "audit.jsonl"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(str(path), 50)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert verify_audit(path).records == 150
