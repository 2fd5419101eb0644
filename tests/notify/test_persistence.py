"""Silences, the notification log and active alerts survive restarts, kill -9 included."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from watchkeeper.exceptions import SilenceError
from watchkeeper.notify import Alert, AlertManager, NotificationLog, Silence, Silences, parse_config

from ._servers import CaptureServer
from .helpers import T0, FakeClock, Recorder, no_sleep, step

REPO = Path(__file__).resolve().parents[2]


def test_silences_create_update_expire_persist(tmp_path: Path) -> None:
    clock = FakeClock()
    store = Silences(tmp_path / "s.json", clock)
    sil = Silence.from_text('alertname="A", env=~"prod.*"', duration=3600, starts_at=T0,
                            created_by="me", comment="deploy")
    sid = store.set(sil)
    assert store.mutes({"alertname": "A", "env": "prod-eu"}, clock())
    assert not store.mutes({"alertname": "A", "env": "dev"}, clock())
    # Extending an active silence with the same matchers updates it in place.
    got = store.get(sid)
    same = store.set(Silence(got.matchers, got.starts_at, got.ends_at + timedelta(hours=1),
                             "me", "longer", id=sid))
    assert same == sid
    # Other matchers: the old one expires, a new id is issued.
    other = store.set(Silence.from_text('alertname="B"', starts_at=T0).__class__(
        Silence.from_text('alertname="B"').matchers, got.starts_at, got.ends_at, id=sid))
    assert other != sid
    assert store.get(sid).state(clock()) == "expired"
    reloaded = Silences(tmp_path / "s.json", clock)
    assert {s.id for s in reloaded.list()} == {sid, other}
    assert reloaded.get(other).state(clock()) == "active"
    reloaded.expire(other)
    assert Silences(tmp_path / "s.json", clock).list("active") == []


@pytest.mark.parametrize(
    ("matchers", "problem"),
    [('x=""', "must not match the empty string"), ('x=~".*"', "must not match the empty")],
)
def test_invalid_silences(tmp_path: Path, matchers: str, problem: str) -> None:
    with pytest.raises(SilenceError, match=problem):
        Silences().set(Silence.from_text(matchers))


def test_unknown_silence_id() -> None:
    with pytest.raises(SilenceError, match="not found"):
        Silences().expire("nope")


def test_nflog_survives_restart_and_torn_line(tmp_path: Path) -> None:
    log = NotificationLog(tmp_path / "n.jsonl")
    log.log("g", "r", "webhook", 0, frozenset({1, 2}), frozenset(), T0)
    log.log("g", "r", "webhook", 0, frozenset({1}), frozenset({2}), T0 + timedelta(minutes=1))
    with open(tmp_path / "n.jsonl", "ab") as fh:
        fh.write(b'{"g": "torn')
    again = NotificationLog(tmp_path / "n.jsonl", clock=lambda: T0)
    entry = again.query("g", "r", "webhook", 0)
    assert entry is not None
    assert entry.firing == {1}
    assert entry.resolved == {2}
    assert len((tmp_path / "n.jsonl").read_bytes().splitlines()) == 1  # compacted


CFG = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 30s
  group_interval: 1m
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs: [{url: http://h/hook}]
"""


async def test_restart_in_process_no_duplicate_no_loss(tmp_path: Path) -> None:
    rec, clock = Recorder(), FakeClock()

    def make() -> AlertManager:
        return AlertManager(parse_config(CFG), data_dir=tmp_path, clock=clock,
                            transport=httpx.MockTransport(rec), sleep=no_sleep)

    am = make()
    am.put_alerts([Alert({"alertname": "A"}, ends_at=T0 + timedelta(hours=2))])
    await step(am, clock, 10)  # "crash" before group_wait
    am = make()
    assert len(am.active_alerts()) == 1
    await step(am, clock, 29)  # a new group after restart waits group_wait again
    assert rec.to("/hook") == []
    await step(am, clock, 1)
    assert len(rec.to("/hook")) == 1
    am = make()
    await step(am, clock, 5)
    await step(am, clock, 60)
    assert len(rec.to("/hook")) == 1


CHILD = textwrap.dedent("""
    import asyncio, sys
    from datetime import UTC, datetime, timedelta
    from watchkeeper.notify import Alert, AlertManager, load_config

    async def main():
        am = AlertManager.from_file(sys.argv[1], data_dir=sys.argv[2])
        await am.start()
        if sys.argv[3] == "post":
            am.put_alerts([Alert({"alertname": "KillTest", "severity": "page"},
                                 ends_at=datetime.now(UTC) + timedelta(hours=1))])
        print("ready", flush=True)
        await asyncio.sleep(60)

    asyncio.run(main())
""")


def _child(tmp: Path, config: Path, mode: str) -> subprocess.Popen[str]:
    script = tmp / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen([sys.executable, str(script), str(config), str(tmp / "data"), mode],
                            stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _kill9(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(5)
    if proc.stdout is not None:
        proc.stdout.close()


def _wait_for(capture: CaptureServer, n: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(capture.requests) < n:
        time.sleep(0.05)


@pytest.mark.slow
def test_kill_9_between_firing_and_notification(tmp_path: Path, capture: CaptureServer) -> None:
    config = tmp_path / "am.yml"
    config.write_text(CFG.replace("30s", "1500ms").replace("http://h", capture.url))
    proc = _child(tmp_path, config, "post")
    _kill9(proc)  # the alert is accepted; its group has not flushed yet
    assert capture.requests == []
    proc = _child(tmp_path, config, "run")
    _wait_for(capture, 1, 5)
    time.sleep(0.3)
    _kill9(proc)
    assert len(capture.requests) == 1
    proc = _child(tmp_path, config, "run")  # notified before the kill: no repeat
    time.sleep(2.0)
    _kill9(proc)
    assert len(capture.requests) == 1
    body = capture.requests[0].body
    assert body["status"] == "firing"
    assert body["alerts"][0]["labels"]["alertname"] == "KillTest"
