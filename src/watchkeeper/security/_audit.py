"""An append-only, hash-chained JSON-lines audit log, and its verifier.

Each record carries ``prev`` (the previous record's ``hash``) and its own ``hash``:
SHA-256 over the canonical JSON of the record without ``hash``. Editing, inserting or
deleting any line breaks the chain at that line. Retention drops whole lines from the
front; the first kept record's ``prev`` then names the dropped one, and the verifier
reports the chain as anchored there rather than at the genesis hash.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..exceptions import AuditChainError

__all__ = ["GENESIS", "AuditLog", "ChainReport", "verify_audit", "verify_records"]

GENESIS = "0" * 64
_MEMORY_RECORDS = 1000
_log = logging.getLogger("watchkeeper.security")


def _digest(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


class AuditLog:
    """Appends security events; safe across threads and (through ``flock``) across the
    worker processes of one host sharing the file.

    Args:
        path: the JSON-lines file, or None to keep the last records in memory only.
        retention: seconds a record is kept (applied by :meth:`prune`).
        clock: seconds since the epoch (injectable for tests).
    """

    def __init__(self, path: Path | None = None, *, retention: float = 90 * 86400.0,
                 fsync: bool = False, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.retention = retention
        self.fsync = fsync
        self.clock = clock
        self.records: deque[dict[str, Any]] = deque(maxlen=_MEMORY_RECORDS)
        self._lock = threading.Lock()
        self._last_hash = GENESIS
        self._seq = 0
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            last = _last_record(path)
            if last is not None:
                self._last_hash = str(last.get("hash", GENESIS))
                self._seq = int(last.get("seq", 0))

    def append(self, event: str, **fields: Any) -> dict[str, Any]:
        """Write one event; returns the record as written (with ``seq``, ``ts``, hashes).

        With a file, the append holds an exclusive ``flock`` and links to the file's own
        last record, so several worker processes can share one chain.
        """
        with self._lock:
            if self.path is None:
                return self._link(event, fields)
            with self.path.open("a+b") as handle:
                _lock_file(handle)
                try:
                    last = _last_record_of(handle)
                    if last is not None:
                        self._last_hash = str(last.get("hash", GENESIS))
                        self._seq = int(last.get("seq", 0))
                    record = self._link(event, fields)
                    handle.seek(0, os.SEEK_END)
                    handle.write(orjson.dumps(record) + b"\n")
                    handle.flush()
                    if self.fsync:
                        os.fsync(handle.fileno())
                finally:
                    _unlock_file(handle)
            return record

    def _link(self, event: str, fields: dict[str, Any]) -> dict[str, Any]:
        self._seq += 1
        record: dict[str, Any] = {"seq": self._seq, "ts": round(self.clock(), 6),
                                  "event": event, **fields, "prev": self._last_hash}
        record["hash"] = _digest(record)
        self._last_hash = record["hash"]
        self.records.append(record)
        return record

    def prune(self) -> int:
        """Drop records older than the retention period; returns how many were dropped."""
        if self.path is None or not self.path.exists():
            return 0
        cutoff = self.clock() - self.retention
        with self._lock, self.path.open("r+b") as handle:
            _lock_file(handle)
            lines = handle.read().splitlines(keepends=True)
            keep = 0
            while keep < len(lines) and _timestamp(lines[keep]) < cutoff:
                keep += 1
            if keep:
                tmp = self.path.with_suffix(self.path.suffix + ".tmp")
                tmp.write_bytes(b"".join(lines[keep:]))
                tmp.replace(self.path)
        return keep


def _timestamp(line: bytes) -> float:
    try:
        return float(orjson.loads(line).get("ts", 0))
    except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
        return float("inf")  # never drop past a damaged line: the verifier must see it


def _last_record(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return _last_record_of(handle)


def _last_record_of(handle: Any) -> dict[str, Any] | None:
    size = handle.seek(0, os.SEEK_END)
    if size == 0:
        return None
    tail = b""
    for span in (8192, 65536):  # records are small: the short read nearly always does
        handle.seek(max(0, size - span))
        tail = handle.read()
        if size <= span or tail.rstrip(b"\n").count(b"\n") >= 1:
            break
    for line in reversed(tail.splitlines()):
        if line.strip():
            try:
                record: dict[str, Any] = orjson.loads(line)
            except orjson.JSONDecodeError:
                _log.error("audit log ends with a damaged line; the chain restarts after it")
                return None
            return record
    return None


def _lock_file(handle: Any) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: one writer process only
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)


def _unlock_file(handle: Any) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@dataclass(frozen=True, slots=True)
class ChainReport:
    """A verified chain: how many records, and where it is anchored."""

    records: int
    anchor: str  # GENESIS, or the hash of the last record dropped by retention
    last_hash: str

    @property
    def complete(self) -> bool:
        return self.anchor == GENESIS


def verify_records(lines: Iterator[bytes]) -> ChainReport:
    """Check every record's hash and link; raise :class:`AuditChainError` at the first
    line that does not verify."""
    prev: str | None = None
    anchor = GENESIS
    count = 0
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise AuditChainError(number, f"not JSON ({exc})") from exc
        if not isinstance(record, dict) or "hash" not in record or "prev" not in record:
            raise AuditChainError(number, "not an audit record (no hash/prev)")
        if _digest(record) != record["hash"]:
            raise AuditChainError(number, "content does not match its hash (edited)")
        if prev is None:
            anchor = str(record["prev"])
        elif record["prev"] != prev:
            raise AuditChainError(number, "does not link to the previous record "
                                          "(inserted, deleted or reordered)")
        prev = str(record["hash"])
        count += 1
    return ChainReport(count, anchor, prev or GENESIS)


def verify_audit(path: str | Path) -> ChainReport:
    """Verify an audit file. Raises :class:`AuditChainError` (line, reason) on tampering.

    Example::

        report = verify_audit("/var/log/app/audit.jsonl")
        print(report.records, "records, chain intact")
    """
    with Path(path).open("rb") as handle:
        return verify_records(iter(handle))
