"""The same config and alert sequence posted to real Alertmanager 0.25 and to watchkeeper;
a webhook capture server records both sides, and the notifications must agree."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from watchkeeper.notify import AlertManager, create_app, parse_config

from ._servers import AM_BINARY, AlertmanagerProcess, CaptureServer, free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(AM_BINARY is None, reason="prometheus-alertmanager binary not installed"),
]

CONFIG = """
route:
  receiver: default
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  routes:
    - matchers: ['team="db"']
      receiver: db
      group_by: [alertname, instance]
      continue: true
    - match_re:
        severity: critical|page
      receiver: pager
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [alertname]
receivers:
  - name: default
    webhook_configs: [{url: "BASE/default"}]
  - name: db
    webhook_configs: [{url: "BASE/db"}]
  - name: pager
    webhook_configs:
      - {url: "BASE/pager", send_resolved: true}
      - {url: "BASE/pager2", send_resolved: false}
"""


@contextlib.asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def _norm(captured: list[Any], prefix: str, t0: float) -> list[dict[str, Any]]:
    out = []
    for r in captured:
        b = r.body
        out.append({
            "path": r.path[len(prefix):],
            "status": b["status"],
            "receiver": b["receiver"],
            "groupKey": b["groupKey"],
            "groupLabels": b["groupLabels"],
            "commonLabels": b["commonLabels"],
            "commonAnnotations": b["commonAnnotations"],
            "alerts": [(json.dumps(a["labels"], sort_keys=True), a["status"], a["fingerprint"],
                        a["annotations"], a["generatorURL"],
                        a["endsAt"] == "0001-01-01T00:00:00Z") for a in b["alerts"]],
            "version": b["version"],
            "truncatedAlerts": b["truncatedAlerts"],
            "keys": list(b),
            "alert_keys": [list(a) for a in b["alerts"]],
            "at": r.at - t0,
        })
    out.sort(key=lambda n: (n["path"], n["groupKey"], n["at"]))
    return out


def _norm_api(alerts: list[dict[str, Any]]) -> list[Any]:
    """GET /api/v2/alerts without server-side times and silence ids (UUIDs differ)."""
    out = []
    for a in alerts:
        st = a["status"]
        out.append((a["fingerprint"], a["labels"], a["annotations"],
                    sorted(r["name"] for r in a["receivers"]), st["state"],
                    len(st["silencedBy"]), sorted(st["inhibitedBy"]), a["generatorURL"]))
    return sorted(out, key=lambda x: x[0])


def _alert(name: str, ends: datetime | None = None, **labels: str) -> dict[str, Any]:
    body: dict[str, Any] = {"labels": {"alertname": name, **labels},
                            "annotations": {"summary": f"{name} on {labels.get('instance')}"},
                            "generatorURL": "http://prom.example/graph"}
    if ends is not None:
        body["endsAt"] = ends.isoformat().replace("+00:00", "Z")
    return body


async def test_same_notifications_as_alertmanager(capture: CaptureServer, tmp_path: Path) -> None:
    am_cfg = CONFIG.replace("BASE", capture.url + "/am")
    wk_cfg = CONFIG.replace("BASE", capture.url + "/wk")
    am = await asyncio.to_thread(AlertmanagerProcess, am_cfg, tmp_path)
    try:
        ours = AlertManager(parse_config(wk_cfg, "wk.yml"), data_dir=tmp_path / "wk",
                            external_url=am.url)
        async with serve(create_app(ours, manage_lifespan=True)) as wk_url, \
                httpx.AsyncClient(timeout=5) as client:

            async def post_both(path: str, data: Any) -> list[Any]:
                r1, r2 = await asyncio.gather(
                    asyncio.to_thread(am.post, path, data),
                    client.post(wk_url + path, json=data))
                assert r2.status_code == 200, r2.text
                return [r1, r2.json() if r2.content else None]

            async def get_both(path: str) -> list[Any]:
                r1, r2 = await asyncio.gather(
                    asyncio.to_thread(am.post, path, None, "GET"),
                    client.get(wk_url + path))
                return [r1, r2.json()]

            now = datetime.now(UTC)
            silence = {"matchers": [{"name": "alertname", "value": "Silenced.*",
                                     "isRegex": True, "isEqual": True}],
                       "startsAt": now.isoformat().replace("+00:00", "Z"),
                       "endsAt": (now + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
                       "createdBy": "test", "comment": "differential"}
            await post_both("/api/v2/silences", silence)
            t0 = time.monotonic()
            await post_both("/api/v2/alerts", [
                _alert("HighLatency", instance="a", team="db", severity="warning"),
                _alert("HighLatency", instance="b", severity="critical"),
                _alert("DiskFull", instance="a", team="db", severity="warning"),
                _alert("SilencedThing", instance="c", severity="critical"),
                _alert("Page", instance="d", severity="page"),
            ])
            await asyncio.sleep(0.3)
            am_alerts, wk_alerts = await get_both("/api/v2/alerts")
            assert _norm_api(wk_alerts) == _norm_api(am_alerts)
            await asyncio.sleep(2.2)
            # A new alert joins an already flushed group; one resolves (lifting inhibition).
            await post_both("/api/v2/alerts", [
                _alert("DiskFull", instance="b", severity="warning"),
                _alert("HighLatency", instance="b", severity="critical",
                       ends=datetime.now(UTC) - timedelta(milliseconds=10)),
            ])
            await asyncio.sleep(4.8)
        got_am = _norm(capture.bodies("/am/"), "/am/", t0)
        got_wk = _norm(capture.bodies("/wk/"), "/wk/", t0)
    finally:
        await asyncio.to_thread(am.stop)

    assert got_am, "real Alertmanager sent nothing"
    for n in got_am:
        print("AM", round(n["at"], 2), n["path"], n["status"], n["groupLabels"],
              [x[:2] for x in n["alerts"]])
    for n in got_wk:
        print("WK", round(n["at"], 2), n["path"], n["status"], n["groupLabels"],
              [x[:2] for x in n["alerts"]])
    strip = [{k: v for k, v in n.items() if k != "at"} for n in got_am]
    strip_wk = [{k: v for k, v in n.items() if k != "at"} for n in got_wk]
    assert strip_wk == strip
    for a, w in zip(got_am, got_wk, strict=True):
        assert abs(a["at"] - w["at"]) < 0.75, (a, w)
