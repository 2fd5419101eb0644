"""The store: in-memory head + WAL + compacted blocks, with retention and counters."""

from __future__ import annotations

import bisect
import shutil
import threading
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._appender import HeadAppender
from ._block import Block, write_block
from ._index import Index
from ._labels import Labels
from ._matchers import Matcher
from ._series import MemSeries, SeriesData
from ._wal import (
    SAMPLE_DTYPE,
    SAMPLES_RECORD,
    SERIES_RECORD,
    ST_SAMPLE_DTYPE,
    WAL,
    FsyncPolicy,
)

__all__ = ["TSDB", "Stats"]



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
        self._pending: list[np.ndarray] = []  # packed rows (WAL dtypes) not yet sealed
        self._pending_rows = 0
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
        for kind, payload in WAL.replay(self.path):
            if kind == SERIES_RECORD:
                rec: tuple[int, Labels] = payload  # type: ignore[assignment]
                self._get_or_create(rec[1], rec[0])
            elif kind == SAMPLES_RECORD:
                arr: np.ndarray = payload  # type: ignore[assignment]
                self._push(arr)
        self._seal()
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
            s = MemSeries(self._new_id() if sid is None else sid, labels)
            self._register(s)
        return s

    def _new_id(self) -> int:
        with self._lock:
            sid = self._next_id
            self._next_id += 1
            return sid

    def _register(self, s: MemSeries) -> None:
        self._next_id = max(self._next_id, s.id + 1)
        self._series[s.id] = s
        self._by_labels[s.labels] = s
        self._index.add(s.id, s.labels)

    def appender(self) -> HeadAppender:
        return HeadAppender(self)

    def _commit(self, sids: list[int], ts: list[int], vs: list[float],
                sts: list[int] | None, new: list[MemSeries]) -> None:
        with self._lock:
            new_series: list[tuple[int, Labels]] = []
            sid_arr = np.array(sids, dtype=np.int64)
            for sr in new:
                have = self._by_labels.get(sr.labels)
                if have is None:
                    self._register(sr)
                    new_series.append((sr.id, sr.labels))
                else:
                    # Another appender created the same series first: use its id.
                    sid_arr[sid_arr == sr.id] = have.id
                    have.last_t, have.last_v = max(have.last_t, sr.last_t), sr.last_v
            # One packed row per sample: the WAL record and the queued head data at once.
            rows = np.empty(len(ts), dtype=SAMPLE_DTYPE if sts is None else ST_SAMPLE_DTYPE)
            rows["id"] = sid_arr
            rows["t"] = ts
            rows["v"] = vs
            if sts is not None:
                rows["st"] = sts
            if self._wal is not None:
                self._wal.log(new_series, rows)
            self._push(rows)
            self.stats.samples_appended += len(ts)
            t_col = rows["t"]
            lo, hi = int(t_col.min()), int(t_col.max())
            self._head_mint = lo if self._head_mint is None else min(self._head_mint, lo)
            self._newest = max(self._newest, hi)
            # Like Prometheus: once the head spans 1.5 block ranges, cut the oldest block.
            if (self.auto_compact and self.path is not None
                    and self._newest - self._head_mint > self.block_range_ms * 3 // 2):
                self.compact()

    def _push(self, rows: np.ndarray) -> None:
        """Queue a commit's packed rows; per-series arrays are filled in bulk by
        :meth:`_seal`, so a scrape costs a few numpy calls instead of one Python
        operation per series."""
        self._pending.append(rows)
        self._pending_rows += len(rows)
        if self._pending_rows >= max(1 << 16, 32 * len(self._series)):
            self._seal()

    def _seal(self) -> None:
        """Move queued samples into their series (one stable sort by series id)."""
        if not self._pending:
            return
        pend, self._pending, self._pending_rows = self._pending, [], 0
        with_st = any(p.dtype == ST_SAMPLE_DTYPE for p in pend)
        if with_st and not all(p.dtype == ST_SAMPLE_DTYPE for p in pend):
            pend = [p if p.dtype == ST_SAMPLE_DTYPE else _with_st(p) for p in pend]
        rows = pend[0] if len(pend) == 1 else np.concatenate(pend)
        sids = rows["id"]
        order = np.argsort(sids, kind="stable")
        rows = rows[order]
        sids, ts, vs = rows["id"], rows["t"], rows["v"]
        sts = rows["st"] if with_st else None
        cuts = np.flatnonzero(sids[1:] != sids[:-1]) + 1
        starts_a = np.concatenate([[0], cuts]).astype(np.int64)
        ends_a = np.concatenate([cuts, [len(sids)]]).astype(np.int64)
        # Runs that are not strictly increasing (only racing appenders produce them).
        same = sids[1:] == sids[:-1]
        bad = set(sids[1:][same & (ts[1:] <= ts[:-1])].tolist())
        series = self._series
        # Per series only memoryview slices and array.frombytes: no numpy call per series.
        t_mv = memoryview(np.ascontiguousarray(ts).tobytes())
        v_mv = memoryview(np.ascontiguousarray(vs).tobytes())
        st_mv = memoryview(np.ascontiguousarray(sts).tobytes()) if sts is not None else None
        for sid, a, b, first, run_t, run_v in zip(
                sids[starts_a].tolist(), starts_a.tolist(), ends_a.tolist(),
                ts[starts_a].tolist(), ts[ends_a - 1].tolist(), vs[ends_a - 1].tolist(),
                strict=True):
            s = series.get(sid)
            if s is None:
                continue
            if sid in bad or (s.ts and first <= s.ts[-1]):
                # Keep the samples that extend the series in order, count the rest.
                t_run, v_run = ts[a:b], vs[a:b]
                keep = _increasing(t_run, s.ts[-1] if s.ts else -(1 << 63))
                self.stats.out_of_order_rejected += int((~keep).sum())
                if keep.any():
                    s.extend(t_run[keep], v_run[keep],
                             sts[a:b][keep] if sts is not None else None)
                    s.last_t = max(s.last_t, int(t_run[keep][-1]))
                continue
            s.ts.frombytes(t_mv[8 * a:8 * b])
            s.vs.frombytes(v_mv[8 * a:8 * b])
            if s.sts is not None or st_mv is not None:
                s.extend_st(st_mv[8 * a:8 * b] if st_mv is not None else None, b - a)
            if run_t > s.last_t:
                s.last_t, s.last_v = run_t, run_v

    # --- reading -----------------------------------------------------------------------
    def querier(self) -> TSDB:
        return self

    def select(self, matchers: Sequence[Matcher], mint: int, maxt: int) -> list[SeriesData]:
        mint = max(mint, self._horizon)
        with self._lock:
            self._seal()
            parts: dict[Labels, list[SeriesData]] = {}
            for b in self._blocks:
                for sd in b.select(matchers, mint, maxt):
                    parts.setdefault(sd.labels, []).append(sd)
            for sid in self._index.select(matchers):
                s = self._series[sid]
                ts, vs = s.range(mint, maxt)
                if len(ts):
                    parts.setdefault(s.labels, []).append(
                        SeriesData(s.labels, ts, vs, s.range_st(mint, maxt)))
        out = []
        for labels in sorted(parts):
            chunks = parts[labels]
            if len(chunks) == 1:
                out.append(chunks[0])
            else:
                ts = np.concatenate([c.timestamps for c in chunks])
                vs = np.concatenate([c.values for c in chunks])
                sts = None
                if any(c.start_timestamps is not None for c in chunks):
                    sts = np.concatenate([c.start_timestamps if c.start_timestamps is not None
                                          else np.zeros(len(c.timestamps), np.int64)
                                          for c in chunks])
                order = np.argsort(ts, kind="stable")
                ts, vs = ts[order], vs[order]
                keep = np.concatenate([[True], np.diff(ts) > 0])
                out.append(SeriesData(labels, ts[keep], vs[keep],
                                      sts[order][keep] if sts is not None else None))
        return out

    def select_concat(self, matchers: Sequence[Matcher], mint: int, maxt: int
                      ) -> tuple[list[Labels], np.ndarray, np.ndarray, np.ndarray]:
        """Like :meth:`select`, but all samples in two flat arrays plus per-series counts.

        Avoids one numpy object per series; the evaluator slices views out of it.
        """
        mint = max(mint, self._horizon)
        if self._blocks:
            with self._lock:
                self._seal()
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
            self._seal()
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
        with self._lock:
            self._seal()
        ts = [s.ts[-1] for s in self._series.values() if len(s)]
        ts += [b.maxt for b in self._blocks]
        return max(ts) if ts else None

    def head_samples(self) -> int:
        with self._lock:
            self._seal()
        return sum(len(s) for s in self._series.values())

    # --- compaction and retention ------------------------------------------------------
    def compact(self, *, all_data: bool = False) -> Path | None:
        """Move head samples older than one block range (or all) into a new block."""
        with self._lock:
            newest = self.max_time()
            if newest is None or self.path is None:
                return None
            cut = newest + 1 if all_data else newest - self.block_range_ms
            self._seal()
            series = []
            mint, maxt = None, None
            for s in self._series.values():
                ts, vs = s.range(-(1 << 62), cut - 1)
                if len(ts):
                    series.append((s.labels, ts, vs, s.range_st(-(1 << 62), cut - 1)))
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
        self._seal()
        live_series = [s for s in self._series.values() if len(s)]
        with_st = any(s.sts is not None for s in live_series)
        samples = np.empty(sum(len(s) for s in live_series),
                           ST_SAMPLE_DTYPE if with_st else SAMPLE_DTYPE)
        pos = 0
        for s in live_series:
            n = len(s)
            samples["id"][pos:pos + n] = s.id
            samples["t"][pos:pos + n] = np.frombuffer(s.ts, np.int64)
            samples["v"][pos:pos + n] = np.frombuffer(s.vs, np.float64)
            if with_st:
                samples["st"][pos:pos + n] = (np.frombuffer(s.sts, np.int64)
                                              if s.sts is not None else 0)
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
                self._seal()
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


def _with_st(rows: np.ndarray) -> np.ndarray:
    out = np.zeros(len(rows), dtype=ST_SAMPLE_DTYPE)
    for f in ("id", "t", "v"):
        out[f] = rows[f]
    return out


def _increasing(ts: np.ndarray, after: int) -> np.ndarray:
    """Mask of samples that keep ``ts`` strictly increasing after ``after``."""
    keep = np.zeros(len(ts), dtype=bool)
    last = after
    for i, t in enumerate(ts.tolist()):
        if t > last:
            keep[i] = True
            last = t
    return keep
