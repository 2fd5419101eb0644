"""Write-ahead log: CRC-framed records so a torn tail after kill -9 is detected and cut."""

from __future__ import annotations

import enum
import json
import os
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ._labels import Labels

__all__ = ["SAMPLE_DTYPE", "WAL", "FsyncPolicy"]

_HEADER = struct.Struct("<BII")  # type, payload length, crc32(payload)
_SERIES, _SAMPLES = 1, 2
SAMPLE_DTYPE = np.dtype([("id", "<u4"), ("t", "<i8"), ("v", "<f8")])


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

    def log(self, series: list[tuple[int, Labels]], samples: np.ndarray) -> None:
        """Write one commit's records in a single write call, then fsync per policy."""
        parts: list[bytes] = []
        for sid, labels in series:
            payload = json.dumps([sid, labels], separators=(",", ":")).encode()
            parts.append(_HEADER.pack(_SERIES, len(payload), zlib.crc32(payload)) + payload)
        if len(samples):
            payload = samples.tobytes()
            parts.append(_HEADER.pack(_SAMPLES, len(payload), zlib.crc32(payload)) + payload)
        if not parts:
            return
        self._fh.write(b"".join(parts))
        self._fh.flush()
        if self.fsync is FsyncPolicy.ALWAYS:
            os.fsync(self._fh.fileno())
        elif self.fsync is FsyncPolicy.INTERVAL:
            now = time.monotonic()
            if now - self._last_sync >= self.fsync_interval:
                os.fsync(self._fh.fileno())
                self._last_sync = now

    def close(self) -> None:
        if self.fsync is not FsyncPolicy.NEVER and not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
        self._fh.close()

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
            if len(payload) != length or zlib.crc32(payload) != crc or kind not in (1, 2):
                break
            if kind == _SERIES:
                sid, labels = json.loads(payload)
                yield _SERIES, (int(sid), tuple((str(k), str(v)) for k, v in labels))
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
        w.log(series, samples)
        w.close()
        os.replace(tmp, directory / "wal")
        del fsync


SERIES_RECORD = _SERIES
SAMPLES_RECORD = _SAMPLES
