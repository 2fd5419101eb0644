"""Write-ahead log: CRC-framed records so a torn tail after kill -9 is detected and cut."""

from __future__ import annotations

import enum
import json
import os
import struct
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

    ``ALWAYS`` fsyncs before ``commit()`` returns (survives power loss); ``NEVER`` leaves
    it to the OS (survives kill -9 of the process, since written data is in the page cache).
    """

    ALWAYS = "always"
    NEVER = "never"


class WAL:
    """Appends series and sample records to ``dir/wal``."""

    def __init__(self, directory: Path, fsync: FsyncPolicy = FsyncPolicy.ALWAYS) -> None:
        self.path = directory / "wal"
        self.fsync = fsync
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

    def close(self) -> None:
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
        w._fh = open(tmp, "ab")  # noqa: SIM115
        w.log(series, samples)
        w.close()
        os.replace(tmp, directory / "wal")
        del fsync


SERIES_RECORD = _SERIES
SAMPLES_RECORD = _SAMPLES
