"""Appender of the head: validates each sample on append, hands a commit to the store."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from ..exceptions import DuplicateSampleError, OutOfOrderSampleError
from ._labels import Labels
from ._series import MemSeries

if TYPE_CHECKING:
    from ._db import TSDB

__all__ = ["HeadAppender"]

_F64 = struct.Struct("<d")


class HeadAppender:
    """Buffers samples for one commit; validation happens at append time.

    Per sample the appender does one label-set lookup and keeps three flat lists; the
    series' newest accepted ``(t, v)`` lives on the series itself (restored on
    rollback), so ordering checks need no per-appender dictionary.
    """

    def __init__(self, db: TSDB) -> None:
        self._db = db
        self._tok = object()
        self._sids: list[int] = []
        self._ts: list[int] = []
        self._vs: list[float] = []
        self._sts: list[int] | None = None
        self._saved: list[MemSeries] = []  # series whose last_t/last_v this appender moved
        self._new: dict[Labels, MemSeries] = {}

    def append(self, labels: Labels, t: int, v: float, st: int = 0) -> None:
        """Queue one sample; raises OutOfOrderSampleError / DuplicateSampleError.

        ``st`` is the sample's start timestamp in ms (0: unknown), used by ``rate`` and
        friends when the engine runs with start timestamps enabled.
        """
        s = self._db._by_labels.get(labels)
        if s is None:
            s = self._new.get(labels)
            if s is None:
                s = self._new[labels] = MemSeries(self._db._new_id(), labels)
        last_t = s.last_t
        if t <= last_t:
            self._reject(s, t, v)
            return
        if s.app_tok is not self._tok:
            # First touch in this appender: remember the committed state for rollback
            # (on the series, so no tuple per sample feeds the garbage collector).
            s.app_tok = self._tok
            s.prev_t, s.prev_v = last_t, s.last_v
            self._saved.append(s)
        s.last_t = t
        s.last_v = v
        self._sids.append(s.id)
        self._ts.append(t)
        self._vs.append(v)
        if st or self._sts is not None:
            if self._sts is None:
                self._sts = [0] * (len(self._ts) - 1)
            self._sts.append(st)

    def _reject(self, s: MemSeries, t: int, v: float) -> None:
        stats = self._db.stats
        if t < s.last_t:
            stats.out_of_order_rejected += 1
            raise OutOfOrderSampleError(f"out of order sample at t={t} for {s.labels}")
        if _F64.pack(v) == _F64.pack(s.last_v):
            return  # an exact duplicate is silently dropped, as in Prometheus
        stats.duplicate_rejected += 1
        raise DuplicateSampleError(f"duplicate sample for timestamp t={t} for {s.labels}")

    def commit(self) -> None:
        """Log to the WAL (fsync per policy) and make the samples visible."""
        if self._ts:
            self._db._commit(self._sids, self._ts, self._vs, self._sts,
                             list(self._new.values()))
        self._reset()

    def rollback(self) -> None:
        """Forget the queued samples (the series' newest accepted sample is restored)."""
        for s in self._saved:
            if s.app_tok is self._tok:
                s.last_t, s.last_v = s.prev_t, s.prev_v
        self._reset()

    def _reset(self) -> None:
        # A fresh token: series still pointing at the old one simply no longer match.
        self._tok = object()
        self._sids, self._ts, self._vs, self._sts = [], [], [], None
        self._saved = []
        self._new = {}
