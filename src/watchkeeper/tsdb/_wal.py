"""Write-ahead log: CRC-framed records so a torn tail after kill -9 is detected and cut."""

from __future__ import annotations

import enum
import json
import os
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ._labels import Labels

__all__ = ["SAMPLE_DTYPE", "ST_SAMPLE_DTYPE", "WAL", "FsyncPolicy"]

_HEADER = struct.Struct("<BII")  # type, payload length, crc32(payload)
_SERIES, _SAMPLES, _ST_SAMPLES = 1, 2, 3
SAMPLE_DTYPE = np.dtype([("id", "<u4"), ("t", "<i8"), ("v", "<f8")])
# Samples that carry start timestamps get their own record type, so logs without any
# stay byte-identical to before.
ST_SAMPLE_DTYPE = np.dtype([("id", "<u4"), ("t", "<i8"), ("v", "<f8"), ("st", "<i8")])


class FsyncPolicy(enum.Enum):
    """When an acknowledged commit reaches the disk.

    ``ALWAYS`` fsyncs before ``commit()`` returns (survives power loss); ``INTERVAL``
    fsyncs at most once per second (group commit: a power cut loses at most that second);
    ``NEVER`` leaves it to the OS. Every policy survives kill -9 of the process: a commit
    is written to the file (page cache) before it is acknowledged.
    """

    ALWAYS = "always"
    INTERVAL = "interval"
    NEVER = "never"


class WAL:
    """Appends series and sample records to ``dir/wal``."""

    def __init__(self, directory: Path, fsync: FsyncPolicy = FsyncPolicy.ALWAYS) -> None:
        self.path = directory / "wal"
        self.fsync = fsync
        self.fsync_interval = 1.0
        self._last_sync = time.monotonic()
        self._fh = open(self.path, "ab")  # noqa: SIM115 - lives as long as the WAL
        self._dirty = False
        self._cond = threading.Condition()
        self._syncer: threading.Thread | None = None
        if fsync is FsyncPolicy.INTERVAL:
            # Group commit off the append path: a slow disk's fsync (hundreds of ms on a
            # shared VM) must not stall every scrape; the loss bound stays one interval.
            self._syncer = threading.Thread(target=self._sync_loop, name="wal-fsync",
                                            daemon=True)
            self._syncer.start()

    def _sync_loop(self) -> None:
        with self._cond:
            while not self._fh.closed:
                self._cond.wait(self.fsync_interval)
                if self._dirty and not self._fh.closed:
                    self._dirty = False
                    os.fsync(self._fh.fileno())

    def log(self, series: list[tuple[int, Labels]], samples: np.ndarray) -> None:
        """Write one commit's records in a single write call, then fsync per policy."""
        parts: list[bytes] = []
        for sid, labels in series:
            payload = json.dumps([sid, labels], separators=(",", ":")).encode()
            parts.append(_HEADER.pack(_SERIES, len(payload), zlib.crc32(payload)) + payload)
        if len(samples):
            payload = samples.tobytes()
            kind = _ST_SAMPLES if samples.dtype == ST_SAMPLE_DTYPE else _SAMPLES
            parts.append(_HEADER.pack(kind, len(payload), zlib.crc32(payload)) + payload)
        if not parts:
            return
        self._fh.write(b"".join(parts))
        self._fh.flush()
        if self.fsync is FsyncPolicy.ALWAYS:
            os.fsync(self._fh.fileno())
        elif self.fsync is FsyncPolicy.INTERVAL:
            self._dirty = True

    def close(self) -> None:
        with self._cond:
            if self.fsync is not FsyncPolicy.NEVER and not self._fh.closed:
                self._fh.flush()
                os.fsync(self._fh.fileno())
            self._fh.close()
            self._cond.notify_all()
        if self._syncer is not None:
            self._syncer.join()

    def size(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    @staticmethod
    def replay(directory: Path) -> Iterator[tuple[int, object]]:
        """Yield ``(kind, payload)`` records; stop at (and truncate) a torn or corrupt tail."""
        path = directory / "wal"
        if not path.exists():
            return
        data = path.read_bytes()
        pos = 0
        while pos + _HEADER.size <= len(data):
            kind, length, crc = _HEADER.unpack_from(data, pos)
            start = pos + _HEADER.size
            payload = data[start:start + length]
            if len(payload) != length or zlib.crc32(payload) != crc or kind not in (1, 2, 3):
                break
            if kind == _SERIES:
                sid, labels = json.loads(payload)
                yield _SERIES, (int(sid), tuple((str(k), str(v)) for k, v in labels))
            elif kind == _ST_SAMPLES:
                yield _SAMPLES, np.frombuffer(payload, dtype=ST_SAMPLE_DTYPE)
            else:
                yield _SAMPLES, np.frombuffer(payload, dtype=SAMPLE_DTYPE)
            pos = start + length
        if pos < len(data):
            with open(path, "r+b") as fh:
                fh.truncate(pos)

    @staticmethod
    def rewrite(directory: Path, series: list[tuple[int, Labels]], samples: np.ndarray,
                fsync: FsyncPolicy) -> None:
        """Checkpoint: replace the log atomically by what is still only in the head."""
        tmp = directory / "wal.tmp"
        tmp.unlink(missing_ok=True)
        w = WAL.__new__(WAL)
        w.path, w.fsync = tmp, FsyncPolicy.ALWAYS
        w.fsync_interval, w._last_sync = 1.0, 0.0
        w._fh = open(tmp, "ab")  # noqa: SIM115
        w._dirty, w._cond, w._syncer = False, threading.Condition(), None
        w.log(series, samples)
        w.close()
        os.replace(tmp, directory / "wal")
        del fsync


SERIES_RECORD = _SERIES
SAMPLES_RECORD = _SAMPLES
