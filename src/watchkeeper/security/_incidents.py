"""Security incidents as Alertmanager-style alerts, handed to a sink off the request path.

A brute-force or abuse incident becomes one alert (``SecurityBruteForce`` or
``SecurityAbnormalTokenRate``); a temporary block adds ``SecurityClientBlocked`` whose
``endsAt`` is the end of the block, so the alert resolves when the block does. The sink is
called on one daemon thread in submission order: a slow or failing sink never holds a
request, and a full queue drops (counted) rather than grows.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..notify import Alert
    from ._guard import Incident

__all__ = ["IncidentSink", "SinkDispatcher", "incident_alerts", "subject_label"]

IncidentSink = Callable[[Sequence["Alert"]], None]
_log = logging.getLogger("watchkeeper.security")
_QUEUE_SIZE = 1024
_NAMES = {"brute_force_ip": ("SecurityBruteForce", "brute_force", "critical"),
          "brute_force_user": ("SecurityBruteForce", "brute_force", "warning"),
          "abnormal_token_rate": ("SecurityAbnormalTokenRate", "abuse", "warning")}


def subject_label(value: str, policy: str) -> str:
    """A client IP or user name as it may appear in an alert: ``hash`` (a short stable
    digest, the same on every replica so alerts group), ``plain`` or ``omit``."""
    if policy == "plain":
        return value
    if policy == "omit":
        return ""
    return hashlib.blake2b(value.encode("utf-8", "replace"), digest_size=6,
                           person=b"wk-security").hexdigest()


def incident_alerts(incident: Incident, *, service: str, environment: str,
                    subject_policy: str, now: datetime | None = None) -> list[Alert]:
    """The alerts that report ``incident`` (one, or two when it blocked a client)."""
    from ..notify import Alert

    start = now or datetime.now(UTC)
    name, category, severity = _NAMES.get(incident.kind, ("SecurityIncident", "abuse",
                                                          "warning"))
    subject_key = {"brute_force_ip": "client", "brute_force_user": "user"}.get(
        incident.kind, "token")
    # Abnormal token rates are already a digest; they are never shown in clear.
    policy = subject_policy if subject_key != "token" else "plain"
    subject = subject_label(incident.subject, policy)
    labels = {"alertname": name, "severity": severity, "category": category,
              "kind": incident.kind, "service": service, "environment": environment}
    if subject:
        labels[subject_key] = subject
    shown = subject or "a client"
    what = incident.kind.replace("_", " ")
    annotations = {
        "summary": f"Possible {what} against {service}",
        "description": (f"{incident.count} failures for {subject_key} {shown} within "
                        f"{incident.window:g}s"
                        + (f"; blocked for {incident.blocked_for:g}s"
                           if incident.blocked_for else "")),
    }
    # The alert lasts while the evidence does: the block, else the counting window.
    lasts = incident.blocked_for or incident.window
    out = [Alert(labels, annotations, starts_at=start,
                 ends_at=start + timedelta(seconds=lasts))]
    if incident.blocked_for:
        block_labels = {**labels, "alertname": "SecurityClientBlocked", "severity": "warning",
                        "category": "block"}
        out.append(Alert(block_labels, {
            "summary": f"Client temporarily blocked by {service}",
            "description": f"{subject_key} {shown} is refused for {incident.blocked_for:g}s "
                           f"after {what}"},
            starts_at=start, ends_at=start + timedelta(seconds=incident.blocked_for)))
    return out


class SinkDispatcher:
    """Calls ``sink(alerts)`` on its own daemon thread, in submission order."""

    def __init__(self, sink: IncidentSink, on_error: Callable[[str], None]) -> None:
        self.sink = sink
        self._on_error = on_error
        self._queue: queue.Queue[Callable[[], Sequence[Any]] | None] = queue.Queue(
            _QUEUE_SIZE)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._warned = False

    def submit(self, make: Callable[[], Sequence[Alert]]) -> None:
        """Queue ``make`` (which builds the alerts on the sink's thread, so the request
        never imports or builds anything) without waiting; dropped and counted when the
        queue is full."""
        if self._thread is None:
            self._start()
        try:
            self._queue.put_nowait(make)
        except queue.Full:
            self._on_error("security_incident_sink_dropped")

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="watchkeeper-security-incidents")
                self._thread.start()

    def _run(self) -> None:
        while True:
            make = self._queue.get()
            try:
                if make is None:
                    return
                self.sink(make())
            except Exception:
                self._on_error("security_incident_sink")
                if not self._warned:
                    self._warned = True
                    _log.exception("the security incident sink failed (logged once)")
            finally:
                self._queue.task_done()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued batch was handed to the sink (tests, shutdown)."""
        import time

        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def close(self) -> None:
        if self._thread is not None:
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(None)
