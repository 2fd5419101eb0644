"""Totals across pre-fork workers (gunicorn, ``uvicorn --workers``) with no user setup.

Each worker writes its series into its own shard (see ``ShardStore``); the worker that
answers a scrape reads every shard of its server and combines them: counters and
histograms are summed over all workers, dead ones included, so totals never go back;
gauges combine over live workers by the family's mode. Each histogram bucket shows the
newest exemplar any worker (dead ones included) left in its exemplar slots. A torn or
corrupt shard record or exemplar slot is skipped, never fatal.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import tempfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..config import MetricsSettings
from ._exemplars import Exemplar, RunCache, read_runs
from ._names import escape_label
from ._snapshot import FamilySnapshot
from ._values import PAGE_SLOTS, ShardStore

__all__ = ["ShardReader", "is_prefork_master", "open_shard", "shard_directory"]

_SERVERS = ("gunicorn", "uvicorn", "hypercorn", "granian", "daphne")


def shard_directory(settings: MetricsSettings) -> str | None:
    """The directory this process' server shares, or None when running alone."""
    if settings.multiprocess == "off":
        return None
    if settings.multiprocess_dir is not None:
        return str(settings.multiprocess_dir)
    parent = _parent()
    if parent is None:
        return None
    pid, created, argv = parent
    if settings.multiprocess == "auto" and not _is_server(argv):
        return None
    base = Path(tempfile.gettempdir()) / f"watchkeeper-{os.getuid()}"
    # The parent's start time makes the name unique even when its pid is reused.
    return str(base / f"{pid}-{int(created * 1000)}")


def _parent() -> tuple[int, float, list[str]] | None:
    import psutil

    try:
        proc = psutil.Process(os.getppid())
        return proc.pid, proc.create_time(), proc.cmdline()
    except (psutil.Error, OSError):
        return None


def _is_server(argv: list[str]) -> bool:
    """Whether the parent is a pre-fork server's master: the server program itself
    (``gunicorn ...``, ``python -m uvicorn ...``, gunicorn's ``gunicorn: master`` title),
    not merely a command line that mentions one (``timeout 60 uvicorn``, a shell script)."""
    return _server_program(argv) is not None


def _server_program(argv: list[str]) -> str | None:
    if not argv:
        return None
    program = os.path.basename(argv[0]).lower()
    if program.startswith("python"):
        rest = [a for a in argv[1:3] if a != "-m"]
        if not rest:
            return None
        program = os.path.basename(rest[0]).lower()
    return next((server for server in _SERVERS if program.startswith(server)), None)


def is_prefork_master() -> bool:
    """Whether this process is gunicorn's master with the app loaded before the fork
    (``--preload``): it serves no requests, the workers it forks do."""
    import psutil

    try:
        own = psutil.Process().cmdline()
    except (psutil.Error, OSError):
        return False
    if _server_program(own) != "gunicorn":
        return False
    parent = _parent()
    return parent is None or not _is_server(parent[2])


def open_shard(directory: str) -> ShardStore:
    os.makedirs(directory, mode=0o700, exist_ok=True)
    sweep_stale(os.path.dirname(directory), keep=directory)
    return ShardStore(directory, f"{os.getpid()}-{secrets.token_hex(4)}")


STALE_AFTER_SECONDS = 3600.0


def sweep_stale(base: str, keep: str, now: float | None = None) -> list[str]:
    """Remove server directories under ``base`` whose every worker is gone and that
    nothing touched for an hour (servers that stopped long ago). Returns what went."""
    import shutil
    import time

    removed: list[str] = []
    now = time.time() if now is None else now
    try:
        entries = [e for e in os.scandir(base) if e.is_dir() and e.path != keep]
    except OSError:
        return removed
    for entry in entries:
        try:
            names = os.listdir(entry.path)
            newest = max([entry.stat().st_mtime] + [
                os.stat(os.path.join(entry.path, n)).st_mtime for n in names])
        except OSError:
            continue
        if now - newest < STALE_AFTER_SECONDS:
            continue
        if any(_is_locked(os.path.join(entry.path, n)) for n in names if n.endswith(".keys")):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.path)
    return removed


@dataclass
class _Shard:
    """What has been parsed of one shard's key file so far."""

    pid: str
    offset: int = 0
    families: dict[str, dict[str, Any]] = field(default_factory=dict)
    slots: dict[int, tuple[str, tuple[str, ...], int]] = field(default_factory=dict)
    # value slot of a histogram series -> (first exemplar slot, bucket count)
    exemplar_runs: dict[int, tuple[int, int]] = field(default_factory=dict)
    exemplar_cache: RunCache = field(default_factory=dict)
    dead_values: array[float] | None = None
    dead_exemplars: dict[int, dict[int, Exemplar]] = field(default_factory=dict)
    dead_stamp: tuple[int, int] = (-1, -1)


class ShardReader:
    """Reads and combines all shards of one directory; caches parsed key files."""

    def __init__(self, directory: str, own: ShardStore | None = None) -> None:
        self.directory = directory
        self.own = own
        self._shards: dict[str, _Shard] = {}
        self._labels: dict[tuple[str, tuple[str, ...], str], str] = {}

    def snapshot(self) -> list[FamilySnapshot]:
        meta: dict[str, dict[str, Any]] = {}
        # (family, label values, pid or "") -> combined values
        combined: dict[tuple[str, tuple[str, ...], str], list[float]] = {}
        exemplars: dict[tuple[str, tuple[str, ...]], dict[int, Exemplar]] = {}
        for shard, alive, values, marks in self._read_all():
            meta.update(shard.families)
            if marks:
                _newest(shard, marks, exemplars)
            for slot, (family, label_values, count) in shard.slots.items():
                info = shard.families.get(family)
                if info is None or slot + count > len(values):
                    continue
                mode = info.get("mode", "sum")
                if not alive and mode not in ("sum",):
                    continue
                pid = shard.pid if mode == "per_worker" else ""
                key = (family, label_values, pid)
                current = values[slot : slot + count].tolist()
                previous = combined.get(key)
                if previous is None:
                    combined[key] = current
                elif mode == "max":
                    combined[key] = [max(a, b) for a, b in zip(previous, current, strict=True)]
                elif mode == "min":
                    combined[key] = [min(a, b) for a, b in zip(previous, current, strict=True)]
                elif len(previous) == len(current):
                    combined[key] = [a + b for a, b in zip(previous, current, strict=True)]
        return self._families(meta, combined, exemplars)

    def _families(
        self,
        meta: dict[str, dict[str, Any]],
        combined: dict[tuple[str, tuple[str, ...], str], list[float]],
        exemplars: dict[tuple[str, tuple[str, ...]], dict[int, Exemplar]],
    ) -> list[FamilySnapshot]:
        out: dict[str, FamilySnapshot] = {}
        for name, info in meta.items():
            out[name] = FamilySnapshot(
                name=name, kind=info["type"], documentation=info.get("help", ""),
                unit=info.get("unit", ""), bounds=tuple(info.get("buckets", ())),
            )
        for (family, label_values, pid), values in combined.items():
            snap = out.get(family)
            if snap is None:
                continue
            labels = self._labels_text(meta[family], label_values, pid)
            snap.series.append((labels, values))
            marks = exemplars.get((family, label_values))
            if marks and snap.kind == "histogram":
                snap.exemplars[labels] = marks
        return [out[name] for name in sorted(out)]

    def _labels_text(self, info: dict[str, Any], values: tuple[str, ...], pid: str) -> str:
        key = (info["family"], values, pid)
        text = self._labels.get(key)
        if text is None:
            parts = [f'{k}="{escape_label(str(v))}"' for k, v in info.get("const", {}).items()]
            parts += [f'{n}="{escape_label(v)}"' for n, v in zip(info["labels"], values,
                                                               strict=False)]
            if pid:
                parts.append(f'pid="{pid}"')
            text = self._labels[key] = ",".join(parts)
        return text

    def _read_all(
        self,
    ) -> Iterator[tuple[_Shard, bool, array[float], dict[int, dict[int, Exemplar]]]]:
        try:
            names = [n[:-5] for n in os.listdir(self.directory) if n.endswith(".keys")]
        except OSError:
            return
        for name in names:
            shard = self._shards.get(name)
            if shard is None:
                shard = self._shards[name] = _Shard(pid=name.split("-", 1)[0])
            keys_path = os.path.join(self.directory, f"{name}.keys")
            values_path = os.path.join(self.directory, f"{name}.values")
            exemplars_path = os.path.join(self.directory, f"{name}.exemplars")
            alive = (self.own is not None and self.own.name == name) or _is_locked(keys_path)
            stamp = _stamp(keys_path, values_path, exemplars_path)
            if not alive and shard.dead_values is not None and stamp == shard.dead_stamp:
                # a dead worker's shard is final
                yield shard, False, shard.dead_values, shard.dead_exemplars
                continue
            self._parse_keys(shard, keys_path)
            values = _read_values(values_path)
            if values is None:
                continue
            marks = (read_runs(exemplars_path, shard.exemplar_runs, shard.exemplar_cache)
                     if shard.exemplar_runs else {})
            if not alive:
                shard.dead_values, shard.dead_stamp = values, stamp
                shard.dead_exemplars = marks
            yield shard, alive, values, marks

    @staticmethod
    def _parse_keys(shard: _Shard, path: str) -> None:
        try:
            with open(path, "rb") as fh:
                fh.seek(shard.offset)
                data = fh.read()
        except OSError:
            return
        end = data.rfind(b"\n") + 1  # a torn last line waits for the next scrape
        for line in data[:end].splitlines():
            try:
                record = orjson.loads(line)
                if "s" in record:
                    shard.slots[record["s"]] = (record["f"], tuple(record["v"]), record["n"])
                elif "x" in record:
                    run = (record["e"], record["x"], record["n"])
                    if all(type(n) is int for n in run) and run[1] >= 0 and (
                            0 < run[2] <= PAGE_SLOTS):
                        shard.exemplar_runs[run[0]] = (run[1], run[2])
                elif "family" in record:
                    shard.families[record["family"]] = record
                elif "rm" in record:
                    shard.slots.pop(record["rm"], None)
            except (orjson.JSONDecodeError, KeyError, TypeError):
                continue  # a corrupt record loses that series only
        shard.offset += end


def _newest(shard: _Shard, marks: dict[int, dict[int, Exemplar]],
            into: dict[tuple[str, tuple[str, ...]], dict[int, Exemplar]]) -> None:
    """Merge one shard's exemplars (by value slot) into ``into``: newest wins per bucket."""
    for slot, by_bucket in marks.items():
        series = shard.slots.get(slot)
        if series is None:
            continue  # removed, or its key record not written yet
        family, label_values, count = series
        info = shard.families.get(family)
        if info is None or info.get("type") != "histogram" or count < 2:
            continue
        merged = into.setdefault((family, label_values), {})
        for bucket, exemplar in by_bucket.items():
            if bucket >= count - 1:
                continue  # the last value slot is the sum, not a bucket
            seen = merged.get(bucket)
            if seen is None or exemplar[2] > seen[2]:
                merged[bucket] = exemplar


def _stamp(*paths: str) -> tuple[int, int]:
    """Total size and newest mtime: changes whenever a writer appended anything."""
    size = mtime = 0
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            continue
        size += info.st_size
        mtime = max(mtime, info.st_mtime_ns)
    return size, mtime


def _is_locked(path: str) -> bool:
    """Whether a live writer still holds the shard (a shared probe never blocks others)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False


def _read_values(path: str) -> array[float] | None:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    usable = len(data) - len(data) % (PAGE_SLOTS * 8)
    values = array("d")
    values.frombytes(data[:usable])
    return values
