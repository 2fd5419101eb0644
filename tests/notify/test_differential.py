"""The same config and alert sequence posted to real Alertmanager 0.25 and to watchkeeper;
a webhook capture server records both sides, and the notifications must agree."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from watchkeeper.notify import Alert, AlertManager, AlertmanagerForwarder, create_app, parse_config

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
    deadline = time.monotonic() + 10
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"uvicorn did not start on port {port}")
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


class Both:
    """Posts to real Alertmanager and to watchkeeper at the same moment."""

    def __init__(self, am: AlertmanagerProcess, client: httpx.AsyncClient, url: str) -> None:
        self.am, self.client, self.url = am, client, url

    async def post(self, path: str, data: Any) -> list[Any]:
        r1, r2 = await asyncio.gather(asyncio.to_thread(self.am.post, path, data),
                                      self.client.post(self.url + path, json=data))
        assert r2.status_code == 200, r2.text
        return [r1, r2.json() if r2.content else None]

    async def get(self, path: str) -> list[Any]:
        r1, r2 = await asyncio.gather(asyncio.to_thread(self.am.post, path, None, "GET"),
                                      self.client.get(self.url + path))
        return [r1, r2.json()]

    async def delete(self, am_path: str, wk_path: str) -> None:
        r2 = await self.client.delete(self.url + wk_path)
        await asyncio.to_thread(self.am.post, am_path, None, "DELETE")
        assert r2.status_code == 200


Scenario = Callable[[Both], Awaitable[None]]


async def _run(config: str, capture: CaptureServer, tmp_path: Path,
               scenario: Scenario) -> tuple[list[Any], list[Any]]:
    am = await asyncio.to_thread(AlertmanagerProcess, config.replace("BASE", capture.url + "/am"),
                                 tmp_path)
    try:
        ours = AlertManager(parse_config(config.replace("BASE", capture.url + "/wk"), "wk.yml"),
                            data_dir=tmp_path / "wk", external_url=am.url)
        async with serve(create_app(ours, manage_lifespan=True)) as wk_url, \
                httpx.AsyncClient(timeout=5) as client:
            t0 = time.monotonic()
            await scenario(Both(am, client, wk_url))
        got_am = _norm(capture.bodies("/am/"), "/am/", t0)
        got_wk = _norm(capture.bodies("/wk/"), "/wk/", t0)
    finally:
        await asyncio.to_thread(am.stop)
    for side, got in (("AM", got_am), ("WK", got_wk)):
        for n in got:
            print(side, round(n["at"], 2), n["path"], n["status"], n["groupLabels"],
                  [x[:2] for x in n["alerts"]])
    assert got_am, "real Alertmanager sent nothing"
    strip = [{k: v for k, v in n.items() if k != "at"} for n in got_am]
    strip_wk = [{k: v for k, v in n.items() if k != "at"} for n in got_wk]
    assert strip_wk == strip
    for a, w in zip(got_am, got_wk, strict=True):
        assert abs(a["at"] - w["at"]) < 0.75, (a, w)
    return got_am, got_wk


def _silence(matchers: list[dict[str, Any]]) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"matchers": matchers,
            "startsAt": now.isoformat().replace("+00:00", "Z"),
            "endsAt": (now + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
            "createdBy": "test", "comment": "differential"}


async def run_both(config: str, capture: CaptureServer, tmp_path: Path,
                   scenario: Scenario) -> None:
    """Run ``scenario`` against real Alertmanager and watchkeeper, both delivering to
    ``capture`` (under /am and /wk), with the same config."""
    am = await asyncio.to_thread(AlertmanagerProcess,
                                 config.replace("BASE", capture.url + "/am"), tmp_path)
    try:
        ours = AlertManager(parse_config(config.replace("BASE", capture.url + "/wk")),
                            external_url=am.url)
        async with serve(create_app(ours, manage_lifespan=True)) as wk_url, \
                httpx.AsyncClient(timeout=5) as client:
            await scenario(Both(am, client, wk_url))
    finally:
        await asyncio.to_thread(am.stop)


async def test_grouping_inhibition_silences_continue(capture: CaptureServer,
                                                      tmp_path: Path) -> None:
    async def scenario(both: Both) -> None:
        await both.post("/api/v2/silences", _silence([
            {"name": "alertname", "value": "Silenced.*", "isRegex": True, "isEqual": True}]))
        await both.post("/api/v2/alerts", [
            _alert("HighLatency", instance="a", team="db", severity="warning"),
            _alert("HighLatency", instance="b", severity="critical"),
            _alert("DiskFull", instance="a", team="db", severity="warning"),
            _alert("SilencedThing", instance="c", severity="critical"),
            _alert("Page", instance="d", severity="page"),
        ])
        await asyncio.sleep(0.3)
        am_alerts, wk_alerts = await both.get("/api/v2/alerts")
        assert _norm_api(wk_alerts) == _norm_api(am_alerts)
        await asyncio.sleep(2.2)
        # A new alert joins an already flushed group; one resolves (lifting inhibition).
        await both.post("/api/v2/alerts", [
            _alert("DiskFull", instance="b", severity="warning"),
            _alert("HighLatency", instance="b", severity="critical",
                   ends=datetime.now(UTC) - timedelta(milliseconds=10)),
        ])
        await asyncio.sleep(4.8)

    got, _ = await _run(CONFIG, capture, tmp_path, scenario)
    assert {n["status"] for n in got} == {"firing", "resolved"}


CONFIG2 = """
route:
  receiver: default
  group_by: ['...']
  group_wait: 500ms
  group_interval: 1s
  repeat_interval: 1500ms
  routes:
    - matchers: [muted="yes"]
      receiver: default
      mute_time_intervals: [always]
    - matchers: [active="never"]
      receiver: default
      active_time_intervals: [never]
time_intervals:
  - name: always
    time_intervals: [{times: [{start_time: "00:00", end_time: "24:00"}]}]
  - name: never
    time_intervals: [{years: ["2001"]}]
receivers:
  - name: default
    webhook_configs: [{url: "BASE/default"}]
"""


async def test_time_intervals_group_by_all_repeat_and_silence_expiry(
        capture: CaptureServer, tmp_path: Path) -> None:
    async def scenario(both: Both) -> None:
        ids = await both.post("/api/v2/silences", _silence([
            {"name": "x", "value": "2", "isRegex": False, "isEqual": True}]))
        alerts = [_alert("A", x="1"), _alert("B", muted="yes"), _alert("C", active="never"),
                  _alert("D", x="2")]
        await both.post("/api/v2/alerts", alerts)
        await asyncio.sleep(1.0)  # between flushes at 0.5 s and 1.5 s
        await both.delete(f"/api/v2/silence/{ids[0]['silenceID']}",
                          f"/api/v2/silence/{ids[1]['silenceID']}")
        await both.post("/api/v2/alerts", alerts)  # clients re-send while firing
        await asyncio.sleep(1.5)
        await both.post("/api/v2/alerts", alerts)
        await asyncio.sleep(1.6)

    got, _ = await _run(CONFIG2, capture, tmp_path, scenario)
    names = [n["groupLabels"]["alertname"] for n in got]
    assert "B" not in names
    assert "C" not in names
    assert names.count("A") >= 2  # repeat_interval
    assert "D" in names  # after its silence expired


async def test_forwarding_to_external_alertmanager(tmp_path: Path,
                                                   capture: CaptureServer) -> None:
    am = await asyncio.to_thread(AlertmanagerProcess,
                                 CONFIG.replace("BASE", capture.url + "/am"), tmp_path)
    try:
        fwd = AlertmanagerForwarder(am.url, timeout=5)
        now = datetime.now(UTC)
        await fwd.send([Alert({"alertname": "Fwd", "severity": "page"}, {"summary": "s"},
                              starts_at=now, generator_url="http://wk/x")])
        await fwd.aclose()
        got = await asyncio.to_thread(am.post, "/api/v2/alerts", None, "GET")
    finally:
        await asyncio.to_thread(am.stop)
    assert [a["labels"] for a in got] == [{"alertname": "Fwd", "severity": "page"}]
    assert got[0]["receivers"] == [{"name": "pager"}]
    assert got[0]["fingerprint"] == Alert({"alertname": "Fwd", "severity": "page"}) \
        .fingerprint_hex


DATA = Path(__file__).parent / "data"


async def test_templates_render_like_alertmanager(capture: CaptureServer,
                                                  tmp_path: Path) -> None:
    """Go text/template semantics: the same Slack templates rendered by both sides."""
    async def scenario(both: Both) -> None:
        alerts = [_alert("DiskFull", instance="host-1", team="infra", severity="critical"),
                  _alert("DiskFull", instance="host-22", team="infra", severity="warning")]
        await both.post("/api/v2/alerts", alerts)
        await asyncio.sleep(0.8)
        ends = datetime.now(UTC) - timedelta(milliseconds=10)
        await both.post("/api/v2/alerts", [_alert("DiskFull", ends=ends, instance="host-1",
                                                  team="infra", severity="critical")])
        await asyncio.sleep(1.2)

    # Slack templates exercising Go text/template: range/else, with, if/else if,
    # variables, pipelines, printf flags, define/template/block from a templates file.
    config = (DATA / "slack_templates.yml").read_text().replace("TMPL", str(DATA))
    await run_both(config, capture, tmp_path, scenario)
    keys = ["title", "title_link", "text", "pretext", "footer", "fallback", "callback_id"]

    def pick(prefix: str) -> list[dict[str, Any]]:
        out = []
        for r in capture.bodies(prefix):
            att = r.body["attachments"][0]
            out.append({"channel": r.body["channel"], "username": r.body["username"],
                        "fields": att.get("fields"), **{k: att.get(k, "") for k in keys}})
        return out

    got_am, got_wk = pick("/am/"), pick("/wk/")
    assert len(got_am) == 2, got_am
    assert got_am[0]["fields"][0]["title"] == "slack/2"
    for a, w in zip(got_am, got_wk, strict=True):
        for key in a:
            assert w[key] == a[key], (key, a[key], w[key])
    # And the whole request body, omitted-when-empty fields included.
    for a, w in zip(capture.bodies("/am/"), capture.bodies("/wk/"), strict=True):
        assert json.dumps(w.body, sort_keys=True, indent=1) == \
            json.dumps(a.body, sort_keys=True, indent=1)


async def test_pagerduty_events_like_alertmanager(capture: CaptureServer,
                                                  tmp_path: Path) -> None:
    """Events API v2 bodies, dedup_key (sha256 of the group key) included, trigger and
    resolve, compared field for field with what Alertmanager posts."""
    async def scenario(both: Both) -> None:
        await both.post("/api/v2/alerts", [
            _alert("DiskFull", instance="h1", cluster="eu", severity="critical")])
        await asyncio.sleep(0.8)
        await both.post("/api/v2/alerts", [
            _alert("DiskFull", instance="h1", cluster="eu", severity="critical",
                   ends=datetime.now(UTC) - timedelta(milliseconds=10))])
        await asyncio.sleep(1.2)

    config = (DATA / "pagerduty.yml").read_text()
    await run_both(config, capture, tmp_path, scenario)
    got_am = [r.body for r in capture.bodies("/am/")]
    got_wk = [r.body for r in capture.bodies("/wk/")]
    assert [b["event_action"] for b in got_am] == ["trigger", "resolve"]
    for a, w in zip(got_am, got_wk, strict=True):
        assert json.dumps(w, sort_keys=True, indent=1) == json.dumps(a, sort_keys=True, indent=1)


async def test_email_like_alertmanager(capture: CaptureServer, tmp_path: Path) -> None:
    """Both sides mail a real SMTP server (aiosmtpd); headers and bodies must agree."""
    controller_mod = pytest.importorskip("aiosmtpd.controller")
    import email as email_lib
    import email.policy

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append((envelope.rcpt_tos, email_lib.message_from_bytes(
                envelope.content, policy=email.policy.default)))
            return "250 OK"

    port = free_port()
    controller = controller_mod.Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    config = (DATA / "email.yml").read_text().replace("SMTP", f"127.0.0.1:{port}")
    am = await asyncio.to_thread(AlertmanagerProcess, config.replace("SIDE", "am"), tmp_path)
    try:
        ours = AlertManager(parse_config(config.replace("SIDE", "wk")), external_url=am.url)
        async with serve(create_app(ours, manage_lifespan=True)) as wk_url, \
                httpx.AsyncClient(timeout=5) as client:
            both = Both(am, client, wk_url)
            await both.post("/api/v2/alerts", [
                _alert("Mail", instance="h<1>", team="ops"), _alert("Mail", instance="h'2",
                                                                    team="ops")])
            await asyncio.sleep(1.0)
    finally:
        await asyncio.to_thread(am.stop)
        controller.stop()

    def view(side: str) -> list[dict[str, Any]]:
        out = []
        for rcpt, msg in received:
            if rcpt != [f"{side}-oncall@example.org"]:
                continue
            text, html = msg.get_body(("plain",)), msg.get_body(("html",))
            out.append({"Subject": msg["Subject"], "From": msg["From"], "X-Team": msg["X-Team"],
                        "multipart": msg.get_content_type(),
                        "text": text.get_content().replace("\r\n", "\n") if text else None,
                        "html": html.get_content().replace("\r\n", "\n") if html else None})
        return out

    got_am, got_wk = view("am"), view("wk")
    assert len(got_am) == 1, received
    assert got_wk == got_am


async def test_telegram_like_alertmanager(capture: CaptureServer, tmp_path: Path) -> None:
    """sendMessage body as Alertmanager (telebot) posts it; HTML mode escapes values."""
    capture.reply = json.dumps({"ok": True, "result": {
        "message_id": 1, "date": 0, "chat": {"id": -1001, "type": "group"}}}).encode()
    config = (DATA / "telegram.yml").read_text()
    am = await asyncio.to_thread(AlertmanagerProcess,
                                 config.replace("BASE", capture.url + "/am"), tmp_path)
    try:
        ours = AlertManager(parse_config(config.replace("BASE", capture.url + "/wk")),
                            external_url=am.url)
        async with serve(create_app(ours, manage_lifespan=True)) as wk_url, \
                httpx.AsyncClient(timeout=5) as client:
            await Both(am, client, wk_url).post("/api/v2/alerts", [
                _alert("TG", instance="<h1>"), _alert("TG", instance="h'2")])
            await asyncio.sleep(0.9)
    finally:
        await asyncio.to_thread(am.stop)
    got_am = [(r.path[3:], r.body) for r in capture.bodies("/am/")]
    got_wk = [(r.path[3:], r.body) for r in capture.bodies("/wk/")]
    assert len(got_am) == 1, got_am
    assert got_wk == got_am


async def test_default_templates_like_alertmanager(capture: CaptureServer,
                                                   tmp_path: Path) -> None:
    """With no templates configured, Slack, PagerDuty and Telegram bodies match
    Alertmanager's (except the product name: "watchkeeper" for "Alertmanager")."""
    capture.reply = json.dumps({"ok": True, "result": {
        "message_id": 1, "date": 0, "chat": {"id": 1, "type": "group"}}}).encode()
    config = (DATA / "defaults.yml").read_text()
    am = await asyncio.to_thread(AlertmanagerProcess,
                                 config.replace("BASE", capture.url + "/am"), tmp_path)
    try:
        ours = AlertManager(parse_config(config.replace("BASE", capture.url + "/wk")),
                            external_url=am.url)
        async with serve(create_app(ours, manage_lifespan=True)) as wk_url, \
                httpx.AsyncClient(timeout=5) as client:
            both = Both(am, client, wk_url)
            await both.post("/api/v2/alerts", [
                {**_alert("X", instance="h1", severity="critical"),
                 "annotations": {"summary": "sum1", "description": "d1"}},
                _alert("X", instance="h2", severity="critical")])
            await asyncio.sleep(0.8)
            await both.post("/api/v2/alerts", [_alert(
                "X", instance="h1", severity="critical",
                ends=datetime.now(UTC) - timedelta(milliseconds=10))])
            await asyncio.sleep(1.2)
    finally:
        await asyncio.to_thread(am.stop)

    def bodies(prefix: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for r in capture.bodies(prefix):
            text = json.dumps(r.body, sort_keys=True, indent=1)
            out.setdefault(r.path[len(prefix):], []).append(
                text.replace('"watchkeeper"', '"Alertmanager"'))
        return out

    got_am, got_wk = bodies("/am/"), bodies("/wk/")
    assert sorted(got_am) == ["pd", "slack", "tg/botx:y/sendMessage"]
    for path, items in got_am.items():
        assert len(items) == 2, (path, items)  # firing, then one resolved + one firing
        assert got_wk[path] == items, path
