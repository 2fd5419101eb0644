"""Shipping sinks that POST batches over HTTP: Loki, Elasticsearch/OpenSearch, OTLP, generic.

They use the standard library's ``http.client`` on the shipper's own thread (one
keep-alive connection per sink), so no HTTP client dependency is needed and nothing
runs on the application's event loop.
"""

from __future__ import annotations

import http.client
import ssl
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import orjson

from ._pipeline import level_name
from ._shipper import PermanentError, Shipped, Shipper

__all__ = ["ElasticsearchSink", "HttpJsonSink", "LokiSink", "OtlpLogSink"]


class _HttpShipper(Shipper):
    """A shipper that POSTs one body per batch to ``url``."""

    content_type = "application/json"

    def __init__(self, name: str, url: str, *, headers: Mapping[str, str] | None = None,
                 timeout: float = 5.0, **kwargs: Any) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{name}: not an http(s) URL: {url!r}")
        self.url = url
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.headers = {"Content-Type": self.content_type, **(headers or {})}
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        super().__init__(name, **kwargs)

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self._https:
                self._conn = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self.timeout,
                    context=ssl.create_default_context())
            else:
                self._conn = http.client.HTTPConnection(self._host, self._port,
                                                        timeout=self.timeout)
        return self._conn

    def post(self, body: bytes, path: str | None = None) -> bytes:
        conn = self._connection()
        try:
            conn.request("POST", path or self._path, body=body, headers=self.headers)
            response = conn.getresponse()
            data = response.read()
        except Exception:
            conn.close()
            self._conn = None
            raise
        status = response.status
        if status == 429 or status >= 500:
            raise ConnectionError(f"{self.name}: HTTP {status}")
        if status >= 400:
            raise PermanentError(f"{self.name}: HTTP {status}: {data[:200]!r}")
        return data

    def send(self, batch: Sequence[Shipped]) -> None:
        self._ensure_connected()
        self.post(self.encode(batch))

    def _ensure_connected(self) -> None:
        # Connect before encoding: a receiver that refuses costs no body building.
        conn = self._connection()
        if conn.sock is None:
            try:
                conn.connect()
            except Exception:
                conn.close()
                self._conn = None
                raise

    def encode(self, batch: Sequence[Shipped]) -> bytes:
        raise NotImplementedError

    def shutdown(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class HttpJsonSink(_HttpShipper):
    """POST each batch as a JSON array of records to any HTTP endpoint."""

    def __init__(self, url: str, *, name: str = "http", **kwargs: Any) -> None:
        super().__init__(name, url, **kwargs)

    def encode(self, batch: Sequence[Shipped]) -> bytes:
        return b"[" + b",".join(e.line.rstrip(b"\n") for e in batch) + b"]"


class LokiSink(_HttpShipper):
    """Grafana Loki push API (``/loki/api/v1/push``), one stream per label set.

    Args:
        url: the push URL, e.g. ``http://loki:3100/loki/api/v1/push``.
        labels: static stream labels (keep them few: service, environment).
        level_label: also split streams by level (a label Loki users filter on).
    """

    def __init__(self, url: str, *, labels: Mapping[str, str] | None = None,
                 level_label: bool = True, name: str = "loki", **kwargs: Any) -> None:
        self.labels = dict(labels or {})
        self.level_label = level_label
        super().__init__(name, url, **kwargs)

    def encode(self, batch: Sequence[Shipped]) -> bytes:
        streams: dict[str, dict[str, Any]] = {}
        for entry in batch:
            level = level_name(entry.level).lower() if self.level_label else ""
            stream = streams.get(level)
            if stream is None:
                labels = dict(self.labels)
                if level:
                    labels["level"] = level
                stream = streams[level] = {"stream": labels, "values": []}
            stream["values"].append(
                [str(int(entry.time * 1e9)), entry.line.rstrip(b"\n").decode("utf-8", "replace")]
            )
        return orjson.dumps({"streams": list(streams.values())})


class ElasticsearchSink(_HttpShipper):
    """Elasticsearch/OpenSearch ``_bulk``; items rejected with 429/5xx are retried alone.

    Args:
        url: the cluster URL (``http://es:9200``); ``/_bulk`` is appended.
        index: target index or data stream; ``strftime`` fields use the record's UTC day
            (``logs-app-%Y.%m.%d``).
    """

    content_type = "application/x-ndjson"

    def __init__(self, url: str, *, index: str = "logs-watchkeeper", name: str = "elasticsearch",
                 **kwargs: Any) -> None:
        self.index = index
        super().__init__(name, url.rstrip("/") + "/_bulk", **kwargs)

    def _index_for(self, entry: Shipped) -> str:
        if "%" not in self.index:
            return self.index
        return time.strftime(self.index, time.gmtime(entry.time))

    def encode(self, batch: Sequence[Shipped]) -> bytes:
        parts: list[bytes] = []
        for entry in batch:
            parts.append(orjson.dumps({"create": {"_index": self._index_for(entry)}}))
            parts.append(b"\n")
            parts.append(entry.line)
        return b"".join(parts)

    def send(self, batch: Sequence[Shipped]) -> None:
        pending = list(batch)
        self._ensure_connected()
        data = self.post(self.encode(pending))
        try:
            reply = orjson.loads(data)
        except orjson.JSONDecodeError:
            return
        if not reply.get("errors"):
            return
        retry: list[Shipped] = []
        for entry, item in zip(pending, reply.get("items", []), strict=False):
            result: dict[str, Any] = next(iter(item.values()), {})
            status = int(result.get("status", 200))
            if status == 429 or status >= 500:
                retry.append(entry)
            elif status >= 400:
                self._drop(1)
        if retry:
            # Only the rejected items go round again; the rest are stored.
            self.send(retry) if len(retry) < len(pending) else self._raise(len(retry))

    def _raise(self, count: int) -> None:
        raise ConnectionError(f"{self.name}: {count} bulk items rejected, retrying")


_SEVERITY = {"DEBUG": 5, "HTTP": 7, "INFO": 9, "WARNING": 13, "ERROR": 17, "CRITICAL": 21}


class OtlpLogSink(_HttpShipper):
    """OTLP/HTTP logs in the JSON encoding (``/v1/logs``), no OpenTelemetry SDK needed.

    Args:
        url: e.g. ``http://collector:4318/v1/logs``.
        resource: resource attributes (``service.name``, ...).
    """

    def __init__(self, url: str, *, resource: Mapping[str, str] | None = None,
                 name: str = "otlp", **kwargs: Any) -> None:
        self.resource = [{"key": k, "value": {"stringValue": v}}
                         for k, v in (resource or {}).items()]
        super().__init__(name, url, **kwargs)

    def encode(self, batch: Sequence[Shipped]) -> bytes:
        records = []
        skip = {"timestamp", "level", "message", "trace_id", "span_id"}
        for entry in batch:
            rec = entry.record
            level = str(rec.get("level", "INFO"))
            item: dict[str, Any] = {
                "timeUnixNano": str(int(entry.time * 1e9)),
                "severityNumber": _SEVERITY.get(level, 9),
                "severityText": level,
                "body": {"stringValue": str(rec.get("message", ""))},
                "attributes": [
                    {"key": k, "value": {"stringValue": v if isinstance(v, str)
                                         else orjson.dumps(v, default=str).decode()}}
                    for k, v in rec.items() if k not in skip
                ],
            }
            if rec.get("trace_id"):
                item["traceId"] = rec["trace_id"]
            if rec.get("span_id"):
                item["spanId"] = rec["span_id"]
            records.append(item)
        return orjson.dumps({"resourceLogs": [{
            "resource": {"attributes": self.resource},
            "scopeLogs": [{"scope": {"name": "watchkeeper.logs"}, "logRecords": records}],
        }]})
