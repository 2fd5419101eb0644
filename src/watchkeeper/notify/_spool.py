"""A directory that carries alerts from processes that cannot send them to the one that can.

Under pre-fork workers only the elected worker runs the Alertmanager (or the forwarder);
security incidents happen in every worker. Each worker appends its alerts, one JSON line
per batch, to its own file; the leader drains every file. Writers and the drainer take the
file's flock, so a batch is either read whole or left for the next drain. A drained file
is truncated, not unlinked, so a writer never appends to a file nobody will read again.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import orjson

from ..rules._alert import Alert
from ._alert_json import alerts_from_json, alerts_to_json

__all__ = ["AlertSpool"]

_log = logging.getLogger("watchkeeper.notify")


class AlertSpool:
    """``append`` in any process, ``drain`` in the one that delivers.

    Example::

        spool = AlertSpool(shared_dir / "incidents")
        spool.append([alert])            # a worker without an Alertmanager
        send(spool.drain())              # the leader, periodically
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def append(self, alerts: Sequence[Alert]) -> None:
        """Add ``alerts`` for the drainer; raises OSError when the directory is unusable."""
        if not alerts:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        line = orjson.dumps(alerts_to_json(alerts)) + b"\n"
        fd = os.open(self.directory / f"{os.getpid()}.jsonl",
                     os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, line)
        finally:
            os.close(fd)  # releases the lock

    def drain(self) -> list[Alert]:
        """Every alert appended since the last drain, oldest file first. A line that does
        not parse (a writer killed mid-write) is logged and skipped."""
        try:
            paths = sorted(self.directory.glob("*.jsonl"), key=_mtime)
        except OSError:
            return []
        alerts: list[Alert] = []
        for path in paths:
            try:
                data = _take(path)
            except OSError:
                continue
            for number, line in enumerate(data.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    alerts.extend(alerts_from_json(orjson.loads(line)))
                except ValueError as exc:  # orjson.JSONDecodeError is one too
                    _log.warning("skipping unreadable alert batch %s:%d: %s", path, number, exc)
        return alerts


def _take(path: Path) -> bytes:
    """The file's content, leaving it empty, under its lock."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        if chunks:
            os.ftruncate(fd, 0)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
