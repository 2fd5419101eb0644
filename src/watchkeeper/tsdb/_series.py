"""One in-memory series: append-only typed arrays viewed as numpy without copying."""

from __future__ import annotations

import bisect
from array import array
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._labels import STALE_NAN_BITS, Labels

__all__ = ["MemSeries", "SeriesData"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class SeriesData:
    """Samples of one series in a time range, as returned by a :class:`Querier`."""

    labels: Labels
    timestamps: IntArray
    values: FloatArray
    start_timestamps: IntArray | None = None  # per-sample start time (0 = unknown)


class MemSeries:
    """Head storage of one series.

    ``array.array`` appends cost a fraction of numpy's and ``np.frombuffer`` gives the
    evaluator a zero-copy view, so the head is numpy-backed without per-append copies.
    """

    __slots__ = ("app_tok", "id", "labels", "last_t", "last_v", "prev_t", "prev_v", "sts", "ts",
                 "vs")

    def __init__(self, sid: int, labels: Labels) -> None:
        self.id = sid
        self.labels = labels
        self.ts: array[int] = array("q")
        self.vs: array[float] = array("d")
        self.sts: array[int] | None = None  # start timestamps, only once one was given
        # Newest accepted sample (including ones an open appender holds): what the next
        # append is checked against, without a per-appender dictionary lookup.
        self.last_t = -(1 << 63)
        self.last_v = 0.0
        self.app_tok: object = None  # the appender that last touched last_t/last_v
        self.prev_t = self.last_t  # last_t/last_v before that appender (for its rollback)
        self.prev_v = 0.0

    def extend(self, ts: IntArray, vs: FloatArray, sts: IntArray | None) -> None:
        """Append a sorted run of samples newer than everything stored (one copy each)."""
        n_before = len(self.ts)
        self.ts.frombytes(ts.tobytes())
        self.vs.frombytes(vs.tobytes())
        if sts is not None and (self.sts is not None or sts.any()):
            if self.sts is None:
                self.sts = array("q", bytes(8 * n_before))
            self.sts.frombytes(sts.tobytes())
        elif self.sts is not None:
            self.sts.frombytes(bytes(8 * len(ts)))

    def extend_st(self, sts: memoryview | None, n: int) -> None:
        """Start timestamps for ``n`` samples just appended (``None``: all unknown)."""
        if sts is not None and (self.sts is not None or any(sts.cast("q"))):
            if self.sts is None:
                self.sts = array("q", bytes(8 * (len(self.ts) - n)))
            self.sts.frombytes(sts)
        elif self.sts is not None:
            self.sts.frombytes(bytes(8 * n))

    def range_st(self, mint: int, maxt: int) -> IntArray | None:
        """Start timestamps aligned with :meth:`range` (None when never stored)."""
        if self.sts is None or not self.ts:
            return None
        ts = self.ts
        lo = 0 if ts[0] >= mint else bisect.bisect_left(ts, mint)
        hi = len(ts) if ts[-1] <= maxt else bisect.bisect_right(ts, maxt)
        return np.frombuffer(self.sts[lo:hi], dtype=np.int64) if hi > lo else None

    def arrays(self) -> tuple[IntArray, FloatArray]:
        """Zero-copy numpy views (valid until the next append reallocates)."""
        if not self.ts:
            return np.empty(0, np.int64), np.empty(0, np.float64)
        return (np.frombuffer(self.ts, dtype=np.int64).copy(),
                np.frombuffer(self.vs, dtype=np.float64).copy())

    def range(self, mint: int, maxt: int) -> tuple[IntArray, FloatArray]:
        """Samples with ``mint <= t <= maxt`` (copies: the head keeps growing)."""
        ts = self.ts
        if not ts:
            return np.empty(0, np.int64), np.empty(0, np.float64)
        # bisect on the array itself is cheaper than building numpy views per call.
        lo = 0 if ts[0] >= mint else bisect.bisect_left(ts, mint)
        hi = len(ts) if ts[-1] <= maxt else bisect.bisect_right(ts, maxt)
        if hi <= lo:
            return np.empty(0, np.int64), np.empty(0, np.float64)
        return (np.frombuffer(ts[lo:hi], dtype=np.int64),
                np.frombuffer(self.vs[lo:hi], dtype=np.float64))

    def truncate_before(self, mint: int) -> int:
        """Drop samples older than ``mint``; returns how many were dropped."""
        if not self.ts:
            return 0
        ts = np.frombuffer(self.ts, dtype=np.int64)
        cut = int(np.searchsorted(ts, mint, "left"))
        if cut:
            del ts
            del self.ts[:cut]
            del self.vs[:cut]
            if self.sts is not None:
                del self.sts[:cut]
        return cut

    def __len__(self) -> int:
        return len(self.ts)


def stale_mask(values: FloatArray) -> npt.NDArray[np.bool_]:
    """Which values are the staleness marker (bit-exact, not any NaN)."""
    return np.asarray(values.view(np.uint64) == np.uint64(STALE_NAN_BITS))
