"""In-process alerting end to end: a real uvicorn app scrapes itself, evaluates the seed
error-rate rule and notifies a webhook capture server, firing then resolved."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests._servers import APPS, SRC, free_port, wait_until_up
from tests.notify._servers import AM_BINARY, AlertmanagerProcess, CaptureServer

RULES = """
groups:
  - name: seed
    interval: 1s
    rules:
      - alert: HighErrorRate
        expr: >
          sum(rate(http_requests_total{status_code=~"5.."}[4s]))
            / sum(rate(http_requests_total[4s])) > 0.05
        labels: {severity: page}
        annotations:
          summary: "error ratio {{ $value | humanizePercentage }}"
"""

AM_CONFIG = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: {url}/hook
        send_resolved: true
"""


def _write_config(tmp: Path, hook_url: str) -> dict[str, str]:
    (tmp / "rules.yml").write_text(RULES)
    (tmp / "am.yml").write_text(AM_CONFIG.replace("{url}", hook_url))
    return {
        "WATCHKEEPER_RULES__FILES": str(tmp / "rules.yml"),
        "WATCHKEEPER_RULES__SCRAPE_INTERVAL": "500ms",
        "WATCHKEEPER_RULES__EVALUATION_INTERVAL": "1s",
        "WATCHKEEPER_RULES__STATE_DIR": str(tmp / "rules-state"),
        "WATCHKEEPER_NOTIFY__CONFIG_FILE": str(tmp / "am.yml"),
        "WATCHKEEPER_NOTIFY__DATA_DIR": str(tmp / "notify-data"),
        "WATCHKEEPER_SERVICE__NAME": "shop",
        "FAIL_FLAG": str(tmp / "failing"),
    }


class App:
    """The alerting app under uvicorn; restartable, killable with SIGKILL."""

    def __init__(self, env: dict[str, str], workers: int = 0, preload: bool = False) -> None:
        self.env = env
        self.workers = workers
        self.preload = preload
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> App:
        environment = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{APPS}",
                       "PYTHONUNBUFFERED": "1", **self.env}
        argv = [sys.executable, "-m", "uvicorn", "alerting_app:app", "--host", "127.0.0.1",
                "--port", str(self.port), "--log-level", "warning"]
        if self.workers:
            argv = [sys.executable, "-m", "gunicorn", "alerting_app:app", "--bind",
                    f"127.0.0.1:{self.port}", "-w", str(self.workers),
                    "-k", "uvicorn_worker.UvicornWorker", "--log-level", "warning"]
            if self.preload:
                argv.append("--preload")
        self.process = subprocess.Popen(
            argv,
            cwd=APPS, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True)
        wait_until_up(self.base + "/metrics", self.process)
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(15)
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()


def _drive(base: str, until: Callable[[], bool], timeout: float) -> None:
    """Send steady traffic until ``until()`` holds (or fail after ``timeout``)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base, timeout=5.0) as client:
        while time.monotonic() < deadline:
            for _ in range(5):
                client.get("/work")
            if until():
                return
            time.sleep(0.1)
    raise AssertionError(f"condition not met within {timeout}s")


def _traffic(base: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=base, timeout=5.0) as client:
        while time.monotonic() < deadline:
            client.get("/work")
            time.sleep(0.02)


def _statuses(hook: CaptureServer) -> list[str]:
    return [r.body["status"] for r in hook.bodies("/hook")]


@pytest.fixture
def hook() -> Iterator[CaptureServer]:
    server = CaptureServer().start()
    yield server
    server.stop()


def test_error_rate_rule_fires_then_resolves_through_the_webhook(
        tmp_path: Path, hook: CaptureServer) -> None:
    app = App(_write_config(tmp_path, hook.url)).start()
    try:
        _traffic(app.base, 3.0)  # healthy: nothing may fire
        assert _statuses(hook) == []
        httpx.get(app.base + "/fail/on")
        _drive(app.base, lambda: "firing" in _statuses(hook), 30)
        firing = hook.bodies("/hook")[0].body
        assert firing["version"] == "4"
        alert = firing["alerts"][0]
        assert alert["labels"]["alertname"] == "HighErrorRate"
        assert alert["labels"]["severity"] == "page"
        assert alert["annotations"]["summary"].startswith("error ratio ")
        assert alert["annotations"]["summary"].endswith("%")
        api = httpx.get(app.base + "/alertmanager/api/v2/alerts").json()
        assert [a["labels"]["alertname"] for a in api] == ["HighErrorRate"]
        assert api[0]["receivers"] == [{"name": "hook"}]
        assert httpx.get(app.base + "/alertmanager/api/v2/silences").json() == []
        missing = httpx.get(app.base + "/alertmanager/api/v2/silence/nope")
        assert missing.status_code == 404
        httpx.get(app.base + "/fail/off")
        _drive(app.base, lambda: "resolved" in _statuses(hook), 40)
        assert _statuses(hook) == ["firing", "resolved"]
        metrics = httpx.get(app.base + "/metrics").text
        assert 'notifications_total{integration="webhook",receiver="hook",status="success"}' \
            in metrics
    finally:
        app.kill(signal.SIGTERM)


def test_kill_9_before_delivery_then_restart_sends_exactly_one_notification(
        tmp_path: Path, hook: CaptureServer) -> None:
    hook.status_for["/hook"] = 503  # deliveries fail until the process is gone
    env = _write_config(tmp_path, hook.url)
    app = App(env).start()
    try:
        httpx.get(app.base + "/fail/on")
        _drive(app.base, lambda: len(hook.bodies("/hook")) > 0, 30)  # an attempt was made
    finally:
        app.kill(signal.SIGKILL)  # between firing and a successful notification
    hook.requests.clear()
    hook.status_for.clear()
    restarted = App(env).start()
    try:
        httpx.get(restarted.base + "/fail/on")
        _drive(restarted.base, lambda: len(hook.bodies("/hook")) > 0, 30)
        _traffic(restarted.base, 4.0)  # more group_intervals: a duplicate would arrive now
        firing = [r for r in hook.bodies("/hook") if r.body["status"] == "firing"]
        assert len(firing) == 1
    finally:
        restarted.kill(signal.SIGKILL)
    restarted2 = App(env).start()  # and a second restart, with delivery done: nothing more
    try:
        time.sleep(4)
        assert len([r for r in hook.bodies("/hook") if r.body["status"] == "firing"]) == 1
    finally:
        restarted2.kill(signal.SIGTERM)


def test_under_gunicorn_one_worker_leads_and_notifies_once(
        tmp_path: Path, hook: CaptureServer) -> None:
    app = App(_write_config(tmp_path, hook.url), workers=2).start()
    try:
        httpx.get(app.base + "/fail/on")
        _drive(app.base, lambda: "firing" in _statuses(hook), 40)
        _traffic(app.base, 3.0)  # a second leader would have sent its own by now
        assert _statuses(hook) == ["firing"]
        assert hook.bodies("/hook")[0].body["alerts"][0]["annotations"]["summary"] \
            == "error ratio 100%"
    finally:
        app.kill(signal.SIGTERM)


def test_under_gunicorn_every_workers_incidents_page_through_the_leader(
        tmp_path: Path, hook: CaptureServer) -> None:
    env = {**_write_config(tmp_path, hook.url), "WATCHKEEPER_SECURITY__ALERT_SUBJECT": "plain"}
    app = App(env, workers=2).start()
    try:
        workers: dict[str, str] = {}  # client ip -> pid of the worker that saw it
        for n in range(60):
            if len(set(workers.values())) == 2:
                break
            ip = f"198.51.100.{n}"
            with httpx.Client(base_url=app.base, timeout=5.0) as client:  # a new connection
                workers[ip] = client.get("/burst", params={"ip": ip}).text
        assert len(set(workers.values())) == 2, "requests never reached both workers"

        def paged() -> set[str]:
            return {a["labels"].get("client", "") for r in hook.bodies("/hook")
                    for a in r.body["alerts"]
                    if a["labels"]["alertname"] == "SecurityBruteForce"}

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not set(workers) <= paged():
            time.sleep(0.2)
        assert set(workers) <= paged()
    finally:
        app.kill(signal.SIGTERM)


def test_under_gunicorn_every_worker_answers_the_alertmanager_api(
        tmp_path: Path, hook: CaptureServer) -> None:
    app = App(_write_config(tmp_path, hook.url), workers=2).start()
    clients: dict[str, httpx.Client] = {}  # worker pid -> a keep-alive connection to it
    try:
        for _ in range(60):
            client = httpx.Client(base_url=app.base + "/alertmanager/api/v2", timeout=10.0)
            worker = client.get(app.base + "/pid").text
            if worker in clients:
                client.close()
            else:
                clients[worker] = client
            if len(clients) == 2:
                break
        assert len(clients) == 2, "connections never reached both workers"
        ids = []
        deadline = time.monotonic() + 15
        for worker, client in clients.items():
            body = {"matchers": [{"name": "alertname", "value": f"Maintenance{worker}",
                                  "isRegex": False}],
                    "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2099-01-01T00:00:00Z",
                    "createdBy": "test", "comment": f"via worker {worker}"}
            answer = client.post("/silences", json=body)
            while answer.status_code == 503 and time.monotonic() < deadline:
                time.sleep(0.2)  # the leader is still being elected
                answer = client.post("/silences", json=body)
            assert answer.status_code == 200, answer.text
            ids.append(answer.json()["silenceID"])
        for client in clients.values():
            listed = client.get("/silences")
            assert listed.status_code == 200, listed.text
            assert {s["id"] for s in listed.json()} >= set(ids)
            assert client.get("/status").json()["config"]["original"]
            assert client.delete(f"/silence/{ids[0]}").status_code == 200
            assert client.get("/silence/nonexistent").status_code == 404
    finally:
        for client in clients.values():
            client.close()
        app.kill(signal.SIGTERM)


NO_TRAFFIC = """
groups:
  - name: traffic
    interval: 500ms
    rules:
      - alert: NoTraffic
        expr: absent(http_requests_total)
        for: 2s
      - alert: Served
        expr: sum(http_requests_total) > 5
"""


def test_gunicorn_preload_master_runs_no_rules_of_its_own(
        tmp_path: Path, hook: CaptureServer) -> None:
    env = _write_config(tmp_path, hook.url)
    (tmp_path / "rules.yml").write_text(NO_TRAFFIC)
    app = App(env, workers=2, preload=True).start()
    try:
        # The workers see traffic all along and one of them pages Served; the master
        # (which loaded the app before forking) sees none, and would page NoTraffic
        # after 2s if it ran rules of its own.
        def names() -> list[str]:
            return [a["labels"]["alertname"] for r in hook.bodies("/hook")
                    for a in r.body["alerts"]]

        _drive(app.base, lambda: "Served" in names(), 30)
        _traffic(app.base, 4.0)
        assert names() == ["Served"]
    finally:
        app.kill(signal.SIGTERM)


def test_invalid_rule_file_fails_startup_naming_file_and_line(tmp_path: Path) -> None:
    import watchkeeper
    from watchkeeper.exceptions import RuleFileError

    bad = tmp_path / "bad.yml"
    bad.write_text("groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: rate(\n")
    with pytest.raises(RuleFileError) as caught:
        watchkeeper.init(rules={"files": [str(bad)]})
    assert str(bad) in str(caught.value)
    assert ": 5:15: " in str(caught.value)


def test_invalid_alertmanager_config_fails_startup(tmp_path: Path) -> None:
    import watchkeeper
    from watchkeeper.exceptions import NotifyConfigError

    bad = tmp_path / "am.yml"
    bad.write_text("route:\n  receiver: nobody\nreceivers: []\n")
    with pytest.raises(NotifyConfigError, match="nobody"):
        watchkeeper.init(notify={"config_file": str(bad)})


def test_init_without_rules_stops_the_running_alerting(tmp_path: Path) -> None:
    import threading

    import watchkeeper
    from watchkeeper import _alerting

    rules = tmp_path / "rules.yml"
    rules.write_text("groups:\n  - name: g\n    rules:\n"
                     "      - record: r\n        expr: vector(1)\n")
    watchkeeper.init(rules={"files": [str(rules)], "scrape_interval": "100ms"})
    running = _alerting.current()
    assert running is not None
    assert running.scraper is not None
    deadline = time.monotonic() + 5
    while running.scraper.last is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.scraper.last is not None
    assert running.scraper.last.up
    watchkeeper.init()
    assert _alerting.current() is None
    names = {t.name for t in threading.enumerate()}
    assert "watchkeeper-scrape" not in names
    assert "watchkeeper-rules" not in names


@pytest.mark.skipif(AM_BINARY is None,
                    reason="alertmanager binary not installed (Debian package "
                           "'prometheus-alertmanager')")
def test_forward_url_hands_alerts_to_a_real_alertmanager(tmp_path: Path) -> None:
    import watchkeeper

    rules = tmp_path / "rules.yml"
    rules.write_text("groups:\n  - name: g\n    interval: 200ms\n    rules:\n"
                     "      - alert: AppUp\n        expr: up == 1\n"
                     "        labels: {severity: info}\n")
    am = AlertmanagerProcess("route:\n  receiver: none\nreceivers:\n  - name: none\n", tmp_path)
    try:
        watchkeeper.init(service={"name": "shop"},
                         rules={"files": [str(rules)], "scrape_interval": "100ms"},
                         notify={"forward_url": am.url})
        deadline = time.monotonic() + 20
        alerts: list[dict[str, object]] = []
        while time.monotonic() < deadline and not alerts:
            time.sleep(0.2)
            alerts = am.post("/api/v2/alerts", None, method="GET")
        assert alerts, "the external Alertmanager never received the alert"
        labels = alerts[0]["labels"]
        assert isinstance(labels, dict)
        assert labels["alertname"] == "AppUp"
        assert labels["job"] == "shop"
        assert labels["severity"] == "info"
    finally:
        watchkeeper.init()  # stops the rules before Alertmanager goes away
        am.stop()


def test_brute_force_incidents_page_through_the_in_process_alertmanager(
        tmp_path: Path, hook: CaptureServer) -> None:
    import watchkeeper
    from watchkeeper import security

    am = tmp_path / "am.yml"
    am.write_text(AM_CONFIG.replace("{url}", hook.url).replace("group_wait: 1s",
                                                               "group_wait: 100ms"))
    watchkeeper.init(service={"name": "shop"}, notify={"config_file": str(am)},
                     security={"mode": "block"})
    for _ in range(20):
        security.auth_failed("alice", "203.0.113.7")
    deadline = time.monotonic() + 15
    names: set[str] = set()
    while time.monotonic() < deadline and "SecurityClientBlocked" not in names:
        time.sleep(0.1)
        names = {a["labels"]["alertname"] for r in hook.bodies("/hook")
                 for a in r.body["alerts"]}
    assert names == {"SecurityBruteForce", "SecurityClientBlocked"}
    watchkeeper.init()
