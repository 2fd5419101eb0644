"""Receivers over real local servers: payloads checked against the services' documented
schemas on a capture server; e-mail through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest

from watchkeeper.exceptions import ReceiverError
from watchkeeper.notify import Alert, AlertManager, NotifyContext, parse_config
from watchkeeper.notify.receivers import build_notifier
from watchkeeper.notify.receivers.webhook import webhook_payload

from ._servers import CaptureServer, free_port

jsonschema = pytest.importorskip("jsonschema")

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
CTX = NotifyContext(NOW, '{}:{alertname="DiskFull"}', {"alertname": "DiskFull"}, "team-x",
                    3600.0, external_url="http://wk.example")
ALERTS = [
    Alert({"alertname": "DiskFull", "instance": "a", "severity": "critical"},
          {"summary": "disk full on a", "description": "95% used"}, starts_at=NOW,
          generator_url="http://prom/graph"),
    Alert({"alertname": "DiskFull", "instance": "b", "severity": "critical"},
          {"summary": "disk full on b"}, starts_at=NOW, ends_at=NOW),
]

# https://api.slack.com/messaging/webhooks + legacy attachments reference
SLACK_SCHEMA = {
    "type": "object",
    "anyOf": [{"required": ["text"]}, {"required": ["attachments"]}],
    "properties": {
        "channel": {"type": "string"}, "username": {"type": "string"},
        "icon_emoji": {"type": "string"}, "icon_url": {"type": "string"},
        "link_names": {"type": "boolean"},
        "attachments": {"type": "array", "items": {
            "type": "object",
            "required": ["fallback"],
            "properties": {
                "fallback": {"type": "string", "minLength": 1},
                "color": {"type": "string"}, "pretext": {"type": "string"},
                "title": {"type": "string"}, "title_link": {"type": "string"},
                "text": {"type": "string"}, "footer": {"type": "string"},
                "callback_id": {"type": "string"},
                "mrkdwn_in": {"type": "array", "items": {
                    "enum": ["pretext", "text", "fields", "fallback"]}},
                "fields": {"type": "array", "items": {
                    "type": "object", "required": ["title", "value"],
                    "properties": {"title": {"type": "string"}, "value": {"type": "string"},
                                   "short": {"type": "boolean"}}}},
            },
        }},
    },
}
# https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
PAGERDUTY_SCHEMA = {
    "type": "object",
    "required": ["routing_key", "event_action"],
    "properties": {
        "routing_key": {"type": "string", "minLength": 1},
        "event_action": {"enum": ["trigger", "acknowledge", "resolve"]},
        "dedup_key": {"type": "string", "maxLength": 255},
        "client": {"type": "string"}, "client_url": {"type": "string"},
        "payload": {
            "type": "object",
            "required": ["summary", "source", "severity"],
            "properties": {
                "summary": {"type": "string", "minLength": 1, "maxLength": 1024},
                "source": {"type": "string", "minLength": 1},
                "severity": {"enum": ["critical", "error", "warning", "info"]},
                "component": {"type": "string"}, "group": {"type": "string"},
                "class": {"type": "string"}, "custom_details": {"type": "object"},
            },
        },
        "images": {"type": "array", "items": {"type": "object", "required": ["src"]}},
        "links": {"type": "array", "items": {"type": "object", "required": ["href"]}},
    },
    "if": {"properties": {"event_action": {"const": "trigger"}}},
    "then": {"required": ["payload"]},
}
# https://core.telegram.org/bots/api#sendmessage
TELEGRAM_SCHEMA = {
    "type": "object",
    "required": ["chat_id", "text"],
    "properties": {
        "chat_id": {"type": ["integer", "string"]},
        "text": {"type": "string", "minLength": 1, "maxLength": 4096},
        "parse_mode": {"enum": ["HTML", "Markdown", "MarkdownV2"]},
        # Alertmanager's client sends these as strings; the Bot API accepts both.
        "disable_notification": {"type": ["boolean", "string"]},
        "disable_web_page_preview": {"type": ["boolean", "string"]},
        "message_thread_id": {"type": ["integer", "string"]},
    },
}
# https://learn.microsoft.com/outlook/actionable-messages/message-card-reference
MSTEAMS_SCHEMA = {
    "type": "object",
    "required": ["@type", "@context", "text"],
    "properties": {
        "@type": {"const": "MessageCard"},
        "@context": {"const": "http://schema.org/extensions"},
        "title": {"type": "string"}, "summary": {"type": "string"},
        "text": {"type": "string", "minLength": 1},
        "themeColor": {"type": "string", "pattern": "^[0-9A-Fa-f]{6}$"},
    },
}


async def _send(kind: str, settings: dict[str, Any]) -> None:
    notifier = build_notifier(kind, settings, timeout=5)
    try:
        await notifier.notify(CTX, ALERTS)
    finally:
        await notifier.aclose()  # type: ignore[attr-defined]


async def test_slack(capture: CaptureServer) -> None:
    await _send("slack", {"api_url": capture.url + "/slack", "channel": "#ops",
                          "fields": [{"title": "sev", "value": "{{ .CommonLabels.severity }}",
                                      "short": True}]})
    body = capture.requests[0].body
    jsonschema.validate(body, SLACK_SCHEMA)
    att = body["attachments"][0]
    assert att["title"] == "[FIRING:1] DiskFull (critical)"
    assert att["color"] == "danger"
    assert att["fields"] == [{"title": "sev", "value": "critical", "short": True}]
    assert att["text"] == ""  # Alertmanager's default Slack text is empty too


async def test_pagerduty_trigger_and_resolve(capture: CaptureServer) -> None:
    settings = {"routing_key": "0123456789abcdef0123456789abcdef",
                "url": capture.url + "/v2/enqueue", "severity": "critical",
                "links": [{"href": "http://runbook", "text": "runbook"}]}
    await _send("pagerduty", settings)
    notifier = build_notifier("pagerduty", settings)
    resolved_ctx = NotifyContext(NOW, CTX.group_key, CTX.group_labels, "team-x", 1.0)
    await notifier.notify(resolved_ctx, [ALERTS[1]])
    await notifier.aclose()  # type: ignore[attr-defined]
    trigger, resolve = (r.body for r in capture.requests)
    for body in (trigger, resolve):
        jsonschema.validate(body, PAGERDUTY_SCHEMA)
    assert trigger["event_action"] == "trigger"
    assert resolve["event_action"] == "resolve"
    assert trigger["dedup_key"] == resolve["dedup_key"]
    assert len(trigger["dedup_key"]) == 64
    assert trigger["payload"]["custom_details"]["num_firing"] == "1"


async def test_telegram(capture: CaptureServer) -> None:
    await _send("telegram", {"bot_token": "123:abc", "chat_id": -1001,
                             "api_url": capture.url})
    req = capture.requests[0]
    assert req.path == "/bot123:abc/sendMessage"
    jsonschema.validate(req.body, TELEGRAM_SCHEMA)
    assert "Alerts Firing" in req.body["text"]


async def test_msteams_generic_template(capture: CaptureServer) -> None:
    await _send("msteams", {"webhook_url": capture.url + "/teams",
                            "title": "{{ .Status | title }}: {{ .CommonLabels.alertname }}"})
    body = capture.requests[0].body
    jsonschema.validate(body, MSTEAMS_SCHEMA)
    assert body["title"] == "Firing: DiskFull"


def test_webhook_payload_shape() -> None:
    body = webhook_payload(CTX, ALERTS, max_alerts=1)
    assert list(body) == ["receiver", "status", "alerts", "groupLabels", "commonLabels",
                          "commonAnnotations", "externalURL", "version", "groupKey",
                          "truncatedAlerts"]
    assert body["truncatedAlerts"] == 1
    assert body["alerts"][0]["fingerprint"] == ALERTS[0].fingerprint_hex
    assert body["alerts"][0]["startsAt"] == "2026-03-02T12:00:00Z"


async def test_bad_template_is_not_retried(capture: CaptureServer) -> None:
    with pytest.raises(ReceiverError) as info:
        await _send("slack", {"api_url": capture.url + "/slack", "title": "{{ .Nope.x "})
    assert not info.value.retryable
    assert capture.requests == []


class _Handler:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.auth: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, _Handler, list[str]]]:
    controller_mod = pytest.importorskip("aiosmtpd.controller")
    smtp_mod = pytest.importorskip("aiosmtpd.smtp")
    handler = _Handler()
    logins: list[str] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> Any:
        ok = auth_data.login == b"alice" and auth_data.password == b"s3cret"
        if ok:
            logins.append(auth_data.login.decode())
        return smtp_mod.AuthResult(success=ok)

    port = free_port()
    controller = controller_mod.Controller(
        handler, hostname="127.0.0.1", port=port, authenticator=authenticator,
        auth_require_tls=False)
    controller.start()
    yield port, handler, logins
    controller.stop()


async def test_email_over_real_smtp(smtp: tuple[int, _Handler, list[str]]) -> None:
    port, handler, logins = smtp
    notifier = build_notifier("email", {
        "to": "oncall@example.org", "from": "wk@example.org",
        "smarthost": f"127.0.0.1:{port}", "require_tls": False,
        "auth_username": "alice", "auth_password": "s3cret",
        "headers": {"X-Team": "{{ .GroupLabels.alertname }}"},
    })
    await notifier.notify(CTX, ALERTS)
    msg = handler.messages[0]
    assert logins == ["alice"]
    assert msg["Subject"] == "[FIRING:1] DiskFull (critical)"
    assert msg["To"] == "oncall@example.org"
    assert msg["X-Team"] == "DiskFull"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None
    assert "disk full on a" in text.get_content()
    assert html is not None
    assert "<h3>[1] Firing</h3>" in html.get_content()


async def test_email_require_tls_without_starttls_fails(
        smtp: tuple[int, _Handler, list[str]]) -> None:
    port, handler, _ = smtp
    notifier = build_notifier("email", {"to": "a@example.org", "from": "b@example.org",
                                        "smarthost": f"127.0.0.1:{port}"})
    with pytest.raises(ReceiverError, match="STARTTLS"):
        await notifier.notify(CTX, ALERTS)
    assert handler.messages == []


HANG_CFG = """
route:
  receiver: both
  group_wait: 100ms
  group_interval: 1s
receivers:
  - name: both
    webhook_configs:
      - url: BASE/hang
      - url: BASE/fail
      - url: BASE/ok
"""


@pytest.mark.slow
async def test_hanging_and_failing_endpoints_retry_without_blocking_others(
        capture: CaptureServer) -> None:
    capture.hang.add("/hang")
    capture.status_for["/fail"] = 500
    am = AlertManager(parse_config(HANG_CFG.replace("BASE", capture.url)), timeout=0.3)
    async with am:
        started = time.monotonic()
        am.put_alerts([Alert({"alertname": "X"})])
        while not capture.bodies("/ok") and time.monotonic() - started < 3:
            await asyncio.sleep(0.02)
        ok_at = capture.bodies("/ok")[0].at - started
        while am.statistics()["notifications_failed"] < 1 and time.monotonic() - started < 6:
            await asyncio.sleep(0.05)
    # Not held up by the hanging endpoint (5 s) or the failing one's retries (1 s budget).
    assert ok_at < 0.9
    assert len(capture.bodies("/fail")) >= 2  # retried
    failures = am.registry.get_sample_value(
        "notifications_total", {"receiver": "both", "integration": "webhook",
                                "status": "failure"})
    assert failures is not None
    assert failures >= 3
    assert am.statistics()["notifications_failed"] >= 1


@pytest.fixture
def tls_smtp(tmp_path: Any) -> Iterator[tuple[int, _Handler]]:
    import shutil
    import ssl
    import subprocess

    controller_mod = pytest.importorskip("aiosmtpd.controller")
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed (needed for a self-signed certificate)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    handler = _Handler()
    port = free_port()
    controller = controller_mod.Controller(handler, hostname="127.0.0.1", port=port,
                                           tls_context=context, require_starttls=True)
    controller.start()
    yield port, handler
    controller.stop()


async def test_email_starttls(tls_smtp: tuple[int, _Handler]) -> None:
    port, handler = tls_smtp
    notifier = build_notifier("email", {
        "to": "a@example.org, b@example.org", "from": "wk@example.org",
        "smarthost": f"127.0.0.1:{port}", "tls_config": {"insecure_skip_verify": True}})
    await notifier.notify(CTX, ALERTS)
    assert len(handler.messages) == 1
    assert handler.messages[0]["To"] == "a@example.org, b@example.org"
