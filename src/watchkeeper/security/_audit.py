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
    """Appends security events; thread-safe; one file per process group is fine as long
    as one process writes it (use one file per worker otherwise).

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
        """Write one event; returns the record as written (with ``seq``, ``ts``, hashes)."""
        with self._lock:
            self._seq += 1
            record: dict[str, Any] = {"seq": self._seq, "ts": round(self.clock(), 6),
                                      "event": event, **fields, "prev": self._last_hash}
            record["hash"] = _digest(record)
            self._last_hash = record["hash"]
            self.records.append(record)
            if self.path is not None:
                line = orjson.dumps(record) + b"\n"
                with self.path.open("ab") as handle:
                    handle.write(line)
                    if self.fsync:
                        handle.flush()
                        os.fsync(handle.fileno())
        return record

    def prune(self) -> int:
        """Drop records older than the retention period; returns how many were dropped."""
        if self.path is None or not self.path.exists():
            return 0
        cutoff = self.clock() - self.retention
        with self._lock:
            lines = self.path.read_bytes().splitlines(keepends=True)
            keep = 0
            while keep < len(lines) and orjson.loads(lines[keep]).get("ts", 0) < cutoff:
                keep += 1
            if keep:
                tmp = self.path.with_suffix(self.path.suffix + ".tmp")
                tmp.write_bytes(b"".join(lines[keep:]))
                tmp.replace(self.path)
        return keep


def _last_record(path: Path) -> dict[str, Any] | None:
    if not path.exists() or path.stat().st_size == 0:
        return None
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 65536))
        tail = handle.read().splitlines()
    for line in reversed(tail):
        if line.strip():
            try:
                record: dict[str, Any] = orjson.loads(line)
            except orjson.JSONDecodeError:
                _log.error("audit log %s ends with a damaged line; chain continues from it",
                           path)
                return None
            return record
    return None


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
