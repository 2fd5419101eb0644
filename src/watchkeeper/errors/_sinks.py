"""Where events go besides the in-process store: the hub (HTTP) and Sentry."""

from __future__ import annotations

import logging
import queue
import threading
import urllib.request
from typing import Any, Protocol

import orjson

__all__ = ["EventSink", "HubSink", "SentrySink"]

_log = logging.getLogger("watchkeeper.errors")


class EventSink(Protocol):
    """Receives every event that passed the rules; must not block the caller."""

    def send(self, event: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


class HubSink:
    """POSTs events as JSON to the hub's error intake (``{hub}/api/v1/errors``) from a
    background thread; a bounded queue, so an unreachable hub costs only dropped events."""

    def __init__(self, hub_url: str, *, max_queue: int = 1000, timeout: float = 5.0) -> None:
        self.url = hub_url.rstrip("/") + "/api/v1/errors"
        self.timeout = timeout
        self.sent = 0
        self.dropped = 0
        self.failed = 0
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(max_queue)
        self._thread = threading.Thread(target=self._run, name="watchkeeper-error-hub",
                                        daemon=True)
        self._thread.start()

    def send(self, event: dict[str, Any]) -> None:
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self.dropped += 1

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            body = orjson.dumps(event, default=str)
            request = urllib.request.Request(self.url, data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    response.read()
                self.sent += 1
            except Exception as exc:
                self.failed += 1
                _log.debug("error event not delivered to the hub: %s", exc)

    def close(self) -> None:
        try:
            self._queue.put(None, timeout=1.0)
        except queue.Full:
            return
        self._thread.join(timeout=self.timeout)


class SentrySink:
    """Forwards events to Sentry with ``sentry_sdk`` (installed separately: the
    ``[sentry]`` extra). An app that already called ``sentry_sdk.init`` keeps its client;
    otherwise one is started with ``dsn`` and no default integrations, so Sentry adds no
    per-request cost of its own."""

    def __init__(self, dsn: str | None, *, release: str, environment: str) -> None:
        import sentry_sdk

        self._sdk = sentry_sdk
        if not sentry_sdk.get_client().is_active():
            sentry_sdk.init(dsn=dsn, release=release, environment=environment,
                            default_integrations=False, traces_sample_rate=None)

    def send(self, event: dict[str, Any]) -> None:
        self._sdk.capture_event(to_sentry(event))  # type: ignore[arg-type]

    def close(self) -> None:
        self._sdk.flush(timeout=2.0)


def to_sentry(event: dict[str, Any]) -> dict[str, Any]:
    """A watchkeeper event in Sentry's event schema."""
    out: dict[str, Any] = {
        "event_id": event["event_id"],
        "timestamp": event["timestamp"],
        "level": event["level"] if event["level"] != "critical" else "fatal",
        "release": event.get("release"),
        "environment": event.get("environment"),
        "tags": {k: str(v) for k, v in (event.get("tags") or {}).items()},
        "user": event.get("user") or {},
        "extra": event.get("extra") or {},
        "fingerprint": [event["fingerprint"]],
        "platform": "python",
    }
    if "exception" in event:
        out["exception"] = {"values": [
            {"type": v["type"], "value": v["value"],
             "stacktrace": {"frames": [_sentry_frame(f) for f in v["frames"]]}}
            for v in event["exception"]["values"]]}
    else:
        out["message"] = {"formatted": event["message"]}
    request = event.get("request")
    if request:
        out["request"] = {"method": request["method"], "url": request["path"],
                          "query_string": request["query_string"],
                          "headers": request["headers"]}
        out["transaction"] = request.get("route")
    if event.get("trace_id"):
        out["contexts"] = {"trace": {"trace_id": event["trace_id"],
                                     "span_id": event.get("span_id")}}
    return out


def _sentry_frame(frame: dict[str, Any]) -> dict[str, Any]:
    out = {"filename": frame["filename"], "abs_path": frame["filename"],
           "module": frame["module"], "function": frame["function"],
           "lineno": frame["lineno"], "in_app": frame["in_app"]}
    for key in ("pre_context", "context_line", "post_context"):
        if key in frame:
            out[key] = frame[key]
    if "locals" in frame:
        out["vars"] = frame["locals"]
    return out
