"""Immutable compressed blocks: delta-of-delta timestamps, XOR'd values, byte-shuffled zlib.

Byte shuffling groups the mostly-zero high bytes of the XOR'd floats and of the
delta-of-deltas, which is what lets plain zlib reach a few bytes per sample.
"""

from __future__ import annotations

import json
import os
import shutil
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ..exceptions import CorruptionError
from ._index import Index
from ._labels import Labels
from ._matchers import Matcher
from ._series import SeriesData

__all__ = ["Block", "write_block"]


def _shuffle(a: npt.NDArray[np.uint64]) -> bytes:
    return a.view(np.uint8).reshape(-1, 8).T.copy().tobytes()


def _unshuffle(b: bytes, n: int) -> npt.NDArray[np.uint64]:
    return np.frombuffer(b, np.uint8).reshape(8, n).T.copy().view(np.uint64).reshape(n)


def _encode(series: Sequence[tuple[Labels, np.ndarray, np.ndarray]]) -> tuple[bytes, list[int]]:
    counts = [len(ts) for _, ts, _ in series]
    if not counts or sum(counts) == 0:
        return b"", counts
    ts_all = np.concatenate([ts for _, ts, _ in series]).astype(np.int64)
    vs_all = np.concatenate([vs for _, _, vs in series]).astype(np.float64).view(np.uint64)
    starts = np.cumsum([0, *counts[:-1]])
    d1 = np.diff(ts_all, prepend=0)
    d1[starts] = ts_all[starts]
    d2 = np.diff(d1, prepend=0)
    d2[starts] = d1[starts]
    x = vs_all ^ np.concatenate([[np.uint64(0)], vs_all[:-1]])
    x[starts] = vs_all[starts]
    payload = _shuffle(d2.view(np.uint64)) + _shuffle(x)
    return zlib.compress(payload, 6), counts


def _decode(blob: bytes, counts: list[int]) -> tuple[np.ndarray, np.ndarray]:
    n = sum(counts)
    if n == 0:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    try:
        raw = zlib.decompress(blob)
    except zlib.error as exc:
        raise CorruptionError(f"block chunk data unreadable: {exc}") from exc
    if len(raw) != 16 * n:
        raise CorruptionError("block chunk data has the wrong length")
    d2 = _unshuffle(raw[: 8 * n], n).view(np.int64)
    x = _unshuffle(raw[8 * n:], n)
    starts = np.cumsum([0, *counts[:-1]])
    ts = np.empty(n, np.int64)
    vs = np.empty(n, np.uint64)
    for s, c in zip(starts, counts, strict=True):
        ts[s:s + c] = np.cumsum(np.cumsum(d2[s:s + c]))
        vs[s:s + c] = np.bitwise_xor.accumulate(x[s:s + c])
    return ts, vs.view(np.float64)


def _encode_starts(ts: np.ndarray, sts: np.ndarray) -> bytes:
    """Start timestamps as ``t - st + 1`` (0 = unknown): small, repetitive, compressible."""
    rel = np.where(sts != 0, ts - sts + 1, 0).astype(np.int64)
    return zlib.compress(_shuffle(rel.view(np.uint64)), 6)


def _decode_starts(blob: bytes, ts: np.ndarray) -> np.ndarray:
    n = len(ts)
    try:
        raw = zlib.decompress(blob)
    except zlib.error as exc:
        raise CorruptionError(f"block start timestamps unreadable: {exc}") from exc
    if len(raw) != 8 * n:
        raise CorruptionError("block start timestamps have the wrong length")
    rel = _unshuffle(raw, n).view(np.int64)
    return np.where(rel != 0, ts - rel + 1, 0)


def write_block(root: Path, series: Sequence[tuple[Labels, np.ndarray, np.ndarray]]
                | Sequence[tuple[Labels, np.ndarray, np.ndarray, np.ndarray | None]],
                mint: int, maxt: int) -> Path:
    """Write a block atomically (temp dir + rename) and fsync it.

    A series entry may carry a fourth item, its start timestamps; a ``starts`` file is
    written only when some series has them.
    """
    name = f"block-{mint:016d}-{maxt:016d}"
    tmp = root / (name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    plain = [(x[0], x[1], x[2]) for x in series]
    blob, counts = _encode(plain)
    (tmp / "chunks").write_bytes(blob)
    files = ["chunks", "meta.json"]
    if any(len(x) > 3 and x[3] is not None for x in series):
        ts_all = np.concatenate([x[1] for x in series]).astype(np.int64)
        sts_all = np.concatenate([x[3] if len(x) > 3 and x[3] is not None
                                  else np.zeros(len(x[1]), np.int64) for x in series])
        (tmp / "starts").write_bytes(_encode_starts(ts_all, sts_all))
        files.append("starts")
    series = plain
    meta = {"mint": mint, "maxt": maxt, "series": [[list(map(list, lb)), c]
                                                  for (lb, _, _), c in zip(series, counts,
                                                                           strict=True)]}
    (tmp / "meta.json").write_text(json.dumps(meta))
    for f in files:
        fd = os.open(tmp / f, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    final = root / name
    os.replace(tmp, final)
    return final


class Block:
    """A read-only block, decoded on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            meta = json.loads((path / "meta.json").read_text())
        except (OSError, ValueError) as exc:
            raise CorruptionError(f"block {path.name}: bad meta.json: {exc}") from exc
        self.mint: int = meta["mint"]
        self.maxt: int = meta["maxt"]
        self.labels: list[Labels] = [tuple((k, v) for k, v in lb) for lb, _ in meta["series"]]
        self.counts: list[int] = [c for _, c in meta["series"]]
        self.index = Index()
        for i, lb in enumerate(self.labels):
            self.index.add(i, lb)
        self._data: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._starts: np.ndarray | None = None

    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.path.iterdir())

    def _load(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._data is None:
            ts, vs = _decode((self.path / "chunks").read_bytes(), self.counts)
            offsets = np.cumsum([0, *self.counts])
            self._data = (ts, vs, offsets)
            starts = self.path / "starts"
            if starts.exists():
                self._starts = _decode_starts(starts.read_bytes(), ts)
        return self._data

    def select(self, matchers: Sequence[Matcher], mint: int, maxt: int) -> list[SeriesData]:
        if maxt < self.mint or mint > self.maxt:
            return []
        ids = self.index.select(matchers)
        if not ids:
            return []
        ts, vs, off = self._load()
        out = []
        for i in sorted(ids):
            t = ts[off[i]:off[i + 1]]
            lo = int(np.searchsorted(t, mint, "left"))
            hi = int(np.searchsorted(t, maxt, "right"))
            if hi > lo:
                a, b = off[i] + lo, off[i] + hi
                sts = self._starts[a:b] if self._starts is not None else None
                out.append(SeriesData(self.labels[i], t[lo:hi], vs[a:b], sts))
        return out
