"""The store: in-memory head + WAL + compacted blocks, with retention and counters."""

from __future__ import annotations

import bisect
import shutil
import struct
import threading
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..exceptions import DuplicateSampleError, OutOfOrderSampleError
from ._block import Block, write_block
from ._index import Index
from ._labels import Labels
from ._matchers import Matcher
from ._series import MemSeries, SeriesData
from ._wal import SAMPLE_DTYPE, SAMPLES_RECORD, SERIES_RECORD, WAL, FsyncPolicy

__all__ = ["TSDB", "Stats"]

_F64 = struct.Struct("<d")


@dataclass
class Stats:
    """Counters Prometheus exposes as ``prometheus_tsdb_*``."""

    samples_appended: int = 0
    out_of_order_rejected: int = 0
    duplicate_rejected: int = 0


class TSDB:
    """Metric history store.

    Args:
        path: directory for WAL and blocks; ``None`` keeps everything in memory.
        fsync: when a commit reaches the disk (see :class:`FsyncPolicy`).
        retention_ms: drop data older than newest sample minus this.
        retention_bytes: drop oldest blocks while blocks exceed this many bytes.
        block_range_ms: span of the data compacted into one block.

    Example:
        >>> db = TSDB()
        >>> app = db.appender()
        >>> app.append((("__name__", "up"),), 1000, 1.0)
        >>> app.commit()
    """

    def __init__(self, path: str | Path | None = None, *, fsync: FsyncPolicy | str = "always",
                 retention_ms: int | None = None, retention_bytes: int | None = None,
                 block_range_ms: int = 2 * 3_600_000, auto_compact: bool = True) -> None:
        self.path = Path(path) if path is not None else None
        self.fsync = FsyncPolicy(fsync)
        self.retention_ms = retention_ms
        self.retention_bytes = retention_bytes
        self.block_range_ms = block_range_ms
        self.auto_compact = auto_compact
        self._head_mint: int | None = None  # oldest sample time still only in the head
        self._newest = -(1 << 63)
        self.stats = Stats()
        self._lock = threading.RLock()
        self._series: dict[int, MemSeries] = {}
        self._by_labels: dict[Labels, MemSeries] = {}
        self._index = Index()
        self._next_id = 1
        self._blocks: list[Block] = []
        self._wal: WAL | None = None
        self._horizon = -(1 << 62)  # data older than this is past retention
        if self.path is not None:
            self.path.mkdir(parents=True, exist_ok=True)
            self._open_disk()

    # --- lifecycle -------------------------------------------------------------------
    def _open_disk(self) -> None:
        assert self.path is not None
        for d in sorted(self.path.glob("block-*")):
            if d.name.endswith(".tmp"):
                shutil.rmtree(d, ignore_errors=True)
            else:
                self._blocks.append(Block(d))
        ids: dict[int, MemSeries] = {}
        for kind, payload in WAL.replay(self.path):
            if kind == SERIES_RECORD:
                rec: tuple[int, Labels] = payload  # type: ignore[assignment]
                ids[rec[0]] = self._get_or_create(rec[1], rec[0])
            elif kind == SAMPLES_RECORD:
                arr: np.ndarray = payload  # type: ignore[assignment]
                for sid, t, v in zip(arr["id"].tolist(), arr["t"].tolist(),
                                     arr["v"].tolist(), strict=True):
                    s = ids.get(sid)
                    if s is not None and t > s.last_t:
                        s.ts.append(t)
                        s.vs.append(v)
                        s.last_t = t
        self._wal = WAL(self.path, self.fsync)

    def close(self) -> None:
        if self._wal is not None:
            self._wal.close()
            self._wal = None

    def __enter__(self) -> TSDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing -----------------------------------------------------------------------
    def _get_or_create(self, labels: Labels, sid: int | None = None) -> MemSeries:
        s = self._by_labels.get(labels)
        if s is None:
            if sid is None:
                sid = self._next_id
            self._next_id = max(self._next_id, sid + 1)
            s = MemSeries(sid, labels)
            self._series[sid] = s
            self._by_labels[labels] = s
            self._index.add(sid, labels)
        return s

    def appender(self) -> HeadAppender:
        return HeadAppender(self)

    def _commit(self, labels: list[Labels], ts: list[int], vs: list[float]) -> None:
        with self._lock:
            new_series: list[tuple[int, Labels]] = []
            refs: list[MemSeries] = []
            by_labels = self._by_labels
            for lb in labels:
                sr = by_labels.get(lb)
                if sr is None:
                    sr = self._get_or_create(lb)
                    new_series.append((sr.id, lb))
                refs.append(sr)
            if self._wal is not None:
                rows = np.empty(len(ts), dtype=SAMPLE_DTYPE)
                rows["id"] = [sr.id for sr in refs]
                rows["t"] = ts
                rows["v"] = vs
                self._wal.log(new_series, rows)
            for sr, t, v in zip(refs, ts, vs, strict=True):
                sr.ts.append(t)
                sr.vs.append(v)
                sr.last_t = t
            self.stats.samples_appended += len(ts)
            lo, hi = min(ts), max(ts)
            self._head_mint = lo if self._head_mint is None else min(self._head_mint, lo)
            self._newest = max(self._newest, hi)
            # Like Prometheus: once the head spans 1.5 block ranges, cut the oldest block.
            if (self.auto_compact and self.path is not None
                    and self._newest - self._head_mint > self.block_range_ms * 3 // 2):
                self.compact()

    def _check(self, labels: Labels, t: int, v: float,
               last: dict[Labels, tuple[int, float]]) -> bool:
        """Validate order; returns False for an exact duplicate (silently dropped)."""
        prev = last.get(labels)
        if prev is None:
            s = self._by_labels.get(labels)
            if s is None or s.last_t == -(1 << 63):
                return True
            if t > s.last_t:
                return True
            prev = (s.last_t, s.vs[-1])
        if t > prev[0]:
            return True
        if t < prev[0]:
            self.stats.out_of_order_rejected += 1
            raise OutOfOrderSampleError(f"out of order sample at t={t} for {labels}")
        if _F64.pack(v) == _F64.pack(prev[1]):
            return False
        self.stats.duplicate_rejected += 1
        raise DuplicateSampleError(f"duplicate sample for timestamp t={t} for {labels}")

    # --- reading -----------------------------------------------------------------------
    def querier(self) -> TSDB:
        return self

    def select(self, matchers: Sequence[Matcher], mint: int, maxt: int) -> list[SeriesData]:
        mint = max(mint, self._horizon)
        with self._lock:
            parts: dict[Labels, list[SeriesData]] = {}
            for b in self._blocks:
                for sd in b.select(matchers, mint, maxt):
                    parts.setdefault(sd.labels, []).append(sd)
            for sid in self._index.select(matchers):
                s = self._series[sid]
                ts, vs = s.range(mint, maxt)
                if len(ts):
                    parts.setdefault(s.labels, []).append(SeriesData(s.labels, ts, vs))
        out = []
        for labels in sorted(parts):
            chunks = parts[labels]
            if len(chunks) == 1:
                out.append(chunks[0])
            else:
                ts = np.concatenate([c.timestamps for c in chunks])
                vs = np.concatenate([c.values for c in chunks])
                order = np.argsort(ts, kind="stable")
                ts, vs = ts[order], vs[order]
                keep = np.concatenate([[True], np.diff(ts) > 0])
                out.append(SeriesData(labels, ts[keep], vs[keep]))
        return out

    def select_concat(self, matchers: Sequence[Matcher], mint: int, maxt: int
                      ) -> tuple[list[Labels], np.ndarray, np.ndarray, np.ndarray]:
        """Like :meth:`select`, but all samples in two flat arrays plus per-series counts.

        Avoids one numpy object per series; the evaluator slices views out of it.
        """
        mint = max(mint, self._horizon)
        if self._blocks:
            data = self.select(matchers, mint, maxt)
            lens = np.fromiter((len(d.timestamps) for d in data), np.int64, len(data))
            if not data:
                return [], np.empty(0, np.int64), np.empty(0, np.float64), lens
            return ([d.labels for d in data], np.concatenate([d.timestamps for d in data]),
                    np.concatenate([d.values for d in data]), lens)
        out_t: array[int] = array("q")
        out_v: array[float] = array("d")
        labels: list[Labels] = []
        counts: list[int] = []
        with self._lock:
            chosen = sorted((self._series[i] for i in self._index.select(matchers)),
                            key=lambda s: s.labels)
            for s in chosen:
                ts = s.ts
                if not ts or ts[-1] < mint or ts[0] > maxt:
                    continue
                lo = 0 if ts[0] >= mint else bisect.bisect_left(ts, mint)
                hi = len(ts) if ts[-1] <= maxt else bisect.bisect_right(ts, maxt)
                if hi > lo:
                    out_t.extend(ts[lo:hi])
                    out_v.extend(s.vs[lo:hi])
                    labels.append(s.labels)
                    counts.append(hi - lo)
        return (labels, np.frombuffer(out_t, np.int64) if out_t else np.empty(0, np.int64),
                np.frombuffer(out_v, np.float64) if out_v else np.empty(0, np.float64),
                np.array(counts, dtype=np.int64))

    def _matching_ids(self, matchers: Sequence[Matcher]) -> tuple[set[int], list[set[int]]]:
        return self._index.select(matchers), [b.index.select(matchers) for b in self._blocks]

    def label_names(self, matchers: Sequence[Matcher] = ()) -> list[str]:
        with self._lock:
            names = set(self._index.label_names(self._index.select(matchers) if matchers
                                                 else None))
            for b in self._blocks:
                names.update(b.index.label_names(b.index.select(matchers) if matchers else None))
        return sorted(names)

    def label_values(self, name: str, matchers: Sequence[Matcher] = ()) -> list[str]:
        with self._lock:
            vals = set(self._index.label_values(name, self._index.select(matchers) if matchers
                                                else None))
            for b in self._blocks:
                vals.update(b.index.label_values(name, b.index.select(matchers) if matchers
                                                 else None))
        return sorted(vals)

    def max_time(self) -> int | None:
        ts = [s.last_t for s in self._series.values() if len(s)]
        ts += [b.maxt for b in self._blocks]
        return max(ts) if ts else None

    def head_samples(self) -> int:
        return sum(len(s) for s in self._series.values())

    # --- compaction and retention ------------------------------------------------------
    def compact(self, *, all_data: bool = False) -> Path | None:
        """Move head samples older than one block range (or all) into a new block."""
        with self._lock:
            newest = self.max_time()
            if newest is None or self.path is None:
                return None
            cut = newest + 1 if all_data else newest - self.block_range_ms
            series = []
            mint, maxt = None, None
            for s in self._series.values():
                ts, vs = s.range(-(1 << 62), cut - 1)
                if len(ts):
                    series.append((s.labels, ts, vs))
                    mint = int(ts[0]) if mint is None else min(mint, int(ts[0]))
                    maxt = int(ts[-1]) if maxt is None else max(maxt, int(ts[-1]))
            if not series or mint is None or maxt is None:
                return None
            series.sort(key=lambda x: x[0])
            path = write_block(self.path, series, mint, maxt)
            self._blocks.append(Block(path))
            for s in self._series.values():
                s.truncate_before(cut)
            heads = [int(s.ts[0]) for s in self._series.values() if len(s)]
            self._head_mint = min(heads) if heads else None
            self._checkpoint()
            self.apply_retention()
            return path

    def _checkpoint(self) -> None:
        assert self.path is not None
        assert self._wal is not None
        self._wal.close()
        live = [(s.id, s.labels) for s in self._series.values()]
        live_series = [s for s in self._series.values() if len(s)]
        samples = np.empty(sum(len(s) for s in live_series), SAMPLE_DTYPE)
        pos = 0
        for s in live_series:
            n = len(s)
            samples["id"][pos:pos + n] = s.id
            samples["t"][pos:pos + n] = np.frombuffer(s.ts, np.int64)
            samples["v"][pos:pos + n] = np.frombuffer(s.vs, np.float64)
            pos += n
        WAL.rewrite(self.path, live, samples, self.fsync)
        self._wal = WAL(self.path, self.fsync)

    def apply_retention(self) -> None:
        """Drop data beyond the time and size limits (oldest first)."""
        with self._lock:
            newest = self.max_time()
            if self.retention_ms is not None and newest is not None:
                horizon = newest - self.retention_ms
                self._horizon = max(self._horizon, horizon)
                for b in [b for b in self._blocks if b.maxt < horizon]:
                    self._drop_block(b)
                for s in self._series.values():
                    s.truncate_before(horizon)
            if self.retention_bytes is not None:
                while self._blocks and self.disk_bytes() > self.retention_bytes:
                    self._drop_block(min(self._blocks, key=lambda b: b.mint))

    def _drop_block(self, b: Block) -> None:
        self._blocks.remove(b)
        shutil.rmtree(b.path, ignore_errors=True)

    def disk_bytes(self) -> int:
        total = sum(b.size_bytes() for b in self._blocks)
        if self._wal is not None:
            total += self._wal.size()
        return total

    def blocks(self) -> list[Block]:
        return list(self._blocks)


class HeadAppender:
    """Buffers samples for one commit; validation happens at append time."""

    def __init__(self, db: TSDB) -> None:
        self._db = db
        self._labels: list[Labels] = []
        self._ts: list[int] = []
        self._vs: list[float] = []
        self._last: dict[Labels, tuple[int, float]] = {}

    def append(self, labels: Labels, t: int, v: float) -> None:
        """Queue one sample; raises OutOfOrderSampleError / DuplicateSampleError."""
        if self._db._check(labels, t, v, self._last):
            self._labels.append(labels)
            self._ts.append(t)
            self._vs.append(v)
            self._last[labels] = (t, v)

    def commit(self) -> None:
        """Log to the WAL (fsync per policy) and make the samples visible."""
        if self._ts:
            self._db._commit(self._labels, self._ts, self._vs)
        self.rollback()

    def rollback(self) -> None:
        self._labels, self._ts, self._vs = [], [], []
        self._last = {}
