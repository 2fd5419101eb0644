"""The in-process Alertmanager's API on the instrumented app itself: reads and writes
(alerts, silences, acknowledgements) under notify.api_prefix, from ASGI and WSGI apps and
from the CLI."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests._servers import SRC, free_port, serve, uvicorn

AM = """
route:
  receiver: oncall
  group_wait: 1h
receivers:
  - name: oncall
"""


@pytest.fixture
def am_file(tmp_path: Path) -> Path:
    path = tmp_path / "am.yml"
    path.write_text(AM)
    return path


def _alert(name: str) -> list[dict[str, object]]:
    return [{"labels": {"alertname": name, "severity": "critical"}}]


async def test_asgi_app_serves_alerts_silences_and_acks(am_file: Path) -> None:
    from starlette.applications import Starlette

    import watchkeeper

    app = Starlette()
    watchkeeper.instrument(app, notify={"config_file": str(am_file), "escalations": [
        {"name": "p1", "levels": [{"after": "1h", "receivers": ["oncall"]}]}]})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        api = "/alertmanager/api/v2"
        assert (await client.post(f"{api}/alerts", json=_alert("Down"))).status_code == 200
        alerts = (await client.get(f"{api}/alerts")).json()
        assert [a["labels"]["alertname"] for a in alerts] == ["Down"]
        fingerprint = alerts[0]["fingerprint"]

        created = await client.post(f"{api}/silences", json={
            "matchers": [{"name": "alertname", "value": "Down", "isRegex": False}],
            "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2099-01-01T00:00:00Z",
            "createdBy": "ana", "comment": "deploy"})
        assert created.status_code == 200
        silence_id = created.json()["silenceID"]
        filtered = await client.get(f"{api}/silences", params={"filter": 'alertname="Down"'})
        assert [s["id"] for s in filtered.json()] == [silence_id]
        assert (await client.delete(f"{api}/silence/{silence_id}")).status_code == 200
        assert (await client.get(f"{api}/silence/{silence_id}")).json()["status"]["state"] \
            == "expired"

        ack = await client.post(f"{api}/escalations/ack/{fingerprint}", json={"by": "ana"})
        assert ack.json() == {"acknowledged": True}

        bad = await client.post(f"{api}/alerts", json={"labels": {}})
        assert bad.status_code == 400
        assert "JSON list" in bad.json()
        assert (await client.put(f"{api}/alerts", json=[])).status_code == 405
        huge = await client.post(f"{api}/alerts", content=b"[" + b" " * (2 << 20) + b"]")
        assert huge.status_code == 413


def test_wsgi_app_accepts_a_silence(am_file: Path) -> None:
    from flask import Flask

    import watchkeeper

    app = Flask(__name__)
    watchkeeper.instrument(app, notify={"config_file": str(am_file)})
    client = app.test_client()
    response = client.post("/alertmanager/api/v2/silences", json={
        "matchers": [{"name": "alertname", "value": "Down", "isRegex": False}],
        "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2099-01-01T00:00:00Z",
        "createdBy": "ana", "comment": "maintenance"})
    assert response.status_code == 200
    listed = client.get("/alertmanager/api/v2/silences").get_json()
    assert [s["createdBy"] for s in listed] == ["ana"]


@pytest.fixture
def served_app(am_file: Path) -> Iterator[str]:
    port = free_port()
    env = {"WATCHKEEPER_NOTIFY__CONFIG_FILE": str(am_file)}
    with serve(uvicorn("starlette_app:app", port), port, env=env) as base:
        yield base


def test_cli_silences_and_acks_against_a_running_app(served_app: str) -> None:
    base = served_app + "/alertmanager"
    httpx.post(f"{base}/api/v2/alerts", json=_alert("Down")).raise_for_status()

    def cli(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "watchkeeper.cli", "notify", *argv],
                              check=False, capture_output=True, text=True, timeout=60,
                              env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"})

    added = cli("silence", "add", "--url", base, "--duration", "1h", "--author", "ana",
                'alertname="Down"')
    assert added.returncode == 0, added.stderr
    deadline = time.monotonic() + 5
    silenced = False
    while time.monotonic() < deadline and not silenced:
        alerts = httpx.get(f"{base}/api/v2/alerts").json()
        silenced = bool(alerts[0]["status"]["silencedBy"])
    assert silenced
    fingerprint = alerts[0]["fingerprint"]
    acked = cli("ack", "--url", base, "--by", "ana", fingerprint)
    assert acked.returncode == 0, acked.stderr
