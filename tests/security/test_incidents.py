"""Incidents reach a sink as Alertmanager-style alerts, on the sink's own thread."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import watchkeeper
from tests._servers import value
from watchkeeper import security
from watchkeeper.metrics._endpoint import render_registry
from watchkeeper.notify import Alert


class ListSink:
    def __init__(self, fail_first: bool = False) -> None:
        self.batches: list[Sequence[Alert]] = []
        self.threads: list[str] = []
        self.fail_first = fail_first
        self.done = threading.Event()

    def __call__(self, alerts: Sequence[Alert]) -> None:
        self.threads.append(threading.current_thread().name)
        if self.fail_first:
            self.fail_first = False
            raise RuntimeError("sink down")
        self.batches.append(alerts)
        self.done.set()


def _init(**extra: Any) -> None:
    watchkeeper.init(service={"name": "shop", "environment": "staging"},
                     security={"mode": "block", "audit": {"enabled": False},
                               "brute_force": {"threshold": 10, "block_ttl": "15m"},
                               **extra})


def _flush() -> None:
    dispatcher = security.current().dispatcher
    assert dispatcher is not None
    assert dispatcher.flush()


def test_brute_force_becomes_an_incident_and_a_block_alert() -> None:
    _init()
    sink = ListSink()
    security.set_incident_sink(sink)
    for _ in range(20):
        security.auth_failed("alice", "203.0.113.7")
    _flush()
    alerts = [alert for batch in sink.batches for alert in batch]
    names = sorted(a.labels["alertname"] for a in alerts)
    # the IP crosses once (blocked), the user name crosses once (no block: it is no client)
    assert names == ["SecurityBruteForce", "SecurityBruteForce", "SecurityClientBlocked"]
    by_kind = {(a.labels["alertname"], a.labels["kind"]): a for a in alerts}
    ip_alert = by_kind[("SecurityBruteForce", "brute_force_ip")]
    assert ip_alert.labels["severity"] == "critical"
    assert ip_alert.labels["category"] == "brute_force"
    assert ip_alert.labels["service"] == "shop"
    assert ip_alert.labels["environment"] == "staging"
    client = ip_alert.labels["client"]
    assert "203.0.113.7" not in client
    assert len(client) == 12
    assert ip_alert.annotations["summary"] == "Possible brute force ip against shop"
    assert "11 failures" in ip_alert.annotations["description"]
    assert ip_alert.ends_at is not None
    assert ip_alert.ends_at - ip_alert.starts_at == timedelta(minutes=15)
    blocked = by_kind[("SecurityClientBlocked", "brute_force_ip")]
    assert blocked.labels["client"] == client  # the same digest: they group together
    assert blocked.ends_at == ip_alert.ends_at
    user_alert = by_kind[("SecurityBruteForce", "brute_force_user")]
    assert user_alert.labels["user"] != "alice"
    assert user_alert.ends_at is not None
    assert user_alert.ends_at - user_alert.starts_at == timedelta(minutes=5)  # the window
    assert set(sink.threads) == {"watchkeeper-security-incidents"}


def test_subject_in_clear_or_omitted_by_setting() -> None:
    _init(alert_subject="plain")
    sink = ListSink()
    security.set_incident_sink(sink)
    for _ in range(11):
        security.auth_failed(None, "203.0.113.8")
    _flush()
    assert sink.batches[0][0].labels["client"] == "203.0.113.8"
    _init(alert_subject="omit")  # a new guard keeps the sink
    for _ in range(11):
        security.auth_failed(None, "203.0.113.9")
    _flush()
    last = sink.batches[-1][0]
    assert "client" not in last.labels
    assert "a client" in last.annotations["description"]


def test_detect_mode_reports_without_block_alert() -> None:
    watchkeeper.init(security={"audit": {"enabled": False}})
    sink = ListSink()
    security.set_incident_sink(sink)
    for _ in range(11):
        security.auth_failed(None, "198.51.100.1")
    _flush()
    assert [a.labels["alertname"] for b in sink.batches for a in b] == ["SecurityBruteForce"]


def test_a_failing_sink_is_counted_and_later_incidents_still_arrive() -> None:
    _init()
    sink = ListSink(fail_first=True)
    security.set_incident_sink(sink)
    for ip in ("192.0.2.1", "192.0.2.2"):
        for _ in range(11):
            security.auth_failed(None, ip)
    _flush()
    assert len(sink.threads) == 2
    assert len(sink.batches) == 1
    text = render_registry(security.current().registry)
    assert value(text, "watchkeeper_internal_errors_total",
                 component="security_incident_sink") == 1.0
    digest = sink.batches[0][0].labels["client"]
    assert digest == security._incidents.subject_label("192.0.2.2", "hash")


def test_no_sink_after_none() -> None:
    _init()
    sink = ListSink()
    security.set_incident_sink(sink)
    security.set_incident_sink(None)
    for _ in range(11):
        security.auth_failed(None, str(ipaddress.ip_address("192.0.2.50")))
    assert security.current().dispatcher is None
    assert sink.batches == []
