"""Histograms with classic (cumulative ``le``) buckets."""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

from ..exceptions import MetricError
from ._exemplars import ExemplarSink
from ._family import Child, Family
from ._timing import Timer
from ._values import ValueStore

__all__ = ["Histogram", "HistogramChild"]


class HistogramChild(Child):
    """Slots: one count per bucket (not cumulative; the last is ``+Inf``), then the sum."""

    __slots__ = ("_bounds", "_sum_at")

    def __init__(self, family: Histogram, *args: Any) -> None:
        self._bounds = family.bounds
        self._sum_at = len(family.bounds) + 1
        super().__init__(family, *args)

    def observe(self, value: float) -> None:
        bucket = bisect_left(self._bounds, value)
        with self._lock:
            page = self._page
            base = self._i
            page[base + bucket] += 1.0
            page[base + self._sum_at] += value

    def time(self) -> Timer:
        """Context manager/decorator observing the block's duration in seconds."""
        return Timer(self.observe)

    def snapshot(self) -> tuple[list[float], float, float]:
        """(cumulative bucket counts, sum, count) — what the exposition shows."""
        raw = self._values(self._sum_at + 1)
        cumulative = []
        total = 0.0
        for count in raw[:-1]:
            total += count
            cumulative.append(total)
        return cumulative, raw[-1], total


class Histogram(Family[HistogramChild]):
    """A family of histograms. ``buckets`` are upper bounds; ``+Inf`` is implied."""

    kind = "histogram"
    child_class = HistogramChild
    reserved_labels = ("le",)
    modes = ("sum",)

    def __init__(
        self, name: str, documentation: str, *args: Any, buckets: Sequence[float],
        **kwargs: Any,
    ) -> None:
        bounds = [float(b) for b in buckets if not math.isinf(b)]
        if not bounds:
            raise MetricError(f"{name}: a histogram needs at least one finite bucket bound")
        if any(a >= b for a, b in itertools.pairwise(bounds)):
            raise MetricError(f"{name}: bucket bounds must be strictly increasing: {bounds}")
        self.bounds: tuple[float, ...] = tuple(bounds)
        # {labels_text: {bucket index: (trace_id, value, unix time)}}: the latest sampled
        # observation per bucket, shown as OpenMetrics exemplars. The store decides where
        # they live (a dict, or slots of a worker's shard), like the values.
        self.exemplars: dict[str, ExemplarSink] = {}
        super().__init__(name, documentation, *args, **kwargs)

    def exemplars_of(self, child: HistogramChild) -> ExemplarSink:
        """Where ``child`` keeps its exemplars, allocated on first use."""
        sink = self.exemplars.get(child.labels_text)
        if sink is None:
            with self._registry.creation_lock:
                sink = self.exemplars.get(child.labels_text)
                if sink is None:
                    sink = self._registry.store.exemplars(len(self.bounds) + 1, child._slot)
                    self.exemplars[child.labels_text] = sink
        return sink

    def rebind(self, store: ValueStore, keep: bool) -> None:
        super().rebind(store, keep)
        moved: dict[str, ExemplarSink] = {}
        for child in self.children():
            old = self.exemplars.get(child.labels_text)
            if old is None:
                continue
            sink = moved[child.labels_text] = store.exemplars(len(self.bounds) + 1,
                                                              child._slot)
            if keep:
                for bucket, exemplar in list(old.items()):
                    sink[bucket] = exemplar
        self.exemplars = moved

    def _forget(self, child: HistogramChild) -> None:
        self.exemplars.pop(child.labels_text, None)

    def slot_count(self) -> int:
        return len(self.bounds) + 2

    def metadata(self) -> dict[str, Any]:
        return {**super().metadata(), "buckets": list(self.bounds)}

    def observe(self, value: float) -> None:
        self._unlabelled().observe(value)

    def time(self) -> Timer:
        return self._unlabelled().time()
