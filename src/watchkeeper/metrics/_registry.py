"""The registry: every watchkeeper metric family, the store its values live in, and the
refresh callbacks that run before each scrape."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from ..exceptions import DuplicateMetricError
from ._counter import Counter
from ._family import Family
from ._gauge import Gauge, GaugeMode
from ._histogram import Histogram
from ._values import MemoryStore, ValueStore

__all__ = ["Registry"]

F = TypeVar("F", bound=Family[Any])


class Registry:
    """Holds families by exposed name; creating the same metric twice returns the first.

    Args:
        prefix: prepended (with ``_``) to the names of metrics created via the helpers.
        const_labels: labels added to every series of every family.
        cardinality_limit: default per-family limit on label sets.
    """

    def __init__(
        self,
        *,
        prefix: str = "",
        const_labels: Mapping[str, str] | None = None,
        cardinality_limit: int = 2000,
        check_foreign: Callable[[str], str | None] | None = None,
    ) -> None:
        self.prefix = prefix
        self.const_labels = dict(const_labels or {})
        self.cardinality_limit = cardinality_limit
        self.store: ValueStore = MemoryStore()
        self.creation_lock = threading.RLock()
        self._families: dict[str, Family[Any]] = {}
        self._refreshers: list[Callable[[], None]] = []
        self._check_foreign = check_foreign
        self.generation = 0  # bumped whenever series move to another store
        self._dropped: Counter | None = None
        self._internal: Counter | None = None

    # -- naming ----------------------------------------------------------------------
    def full_name(self, name: str) -> str:
        if not self.prefix or name.startswith(self.prefix):
            return name
        sep = "" if self.prefix.endswith("_") else "_"
        return f"{self.prefix}{sep}{name}"

    # -- creation ---------------------------------------------------------------------
    def counter(self, name: str, documentation: str, labelnames: Sequence[str] = (),
                **kwargs: Any) -> Counter:
        return self._get_or_create(Counter, name, documentation, labelnames, kwargs)

    def gauge(self, name: str, documentation: str, labelnames: Sequence[str] = (), *,
              mode: GaugeMode = "live_sum", **kwargs: Any) -> Gauge:
        """A gauge; ``mode`` says how pre-fork workers' values combine (see GaugeMode)."""
        return self._get_or_create(Gauge, name, documentation, labelnames,
                                   {**kwargs, "mode": mode})

    def histogram(self, name: str, documentation: str, labelnames: Sequence[str] = (), *,
                  buckets: Sequence[float], **kwargs: Any) -> Histogram:
        return self._get_or_create(Histogram, name, documentation, labelnames,
                                   {**kwargs, "buckets": buckets})

    def _get_or_create(self, cls: type[F], name: str, documentation: str,
                       labelnames: Sequence[str], kwargs: dict[str, Any]) -> F:
        const = {**self.const_labels, **(kwargs.pop("const_labels", None) or {})}
        family = cls(name, documentation, tuple(labelnames), registry=self,
                     const_labels=const, **kwargs)
        with self.creation_lock:
            existing = self._families.get(family.name)
            if existing is not None:
                if existing.same_shape(family):
                    return existing  # type: ignore[return-value]
                raise DuplicateMetricError(
                    f"metric {family.name!r} is already registered as a {existing.kind} with "
                    f"labels {list(existing.labelnames)}; cannot redefine it as a "
                    f"{family.kind} with labels {list(family.labelnames)}"
                )
            if self._check_foreign is not None:
                owner = self._check_foreign(family.name)
                if owner is not None:
                    raise DuplicateMetricError(
                        f"metric {family.name!r} clashes with {owner} already registered in "
                        "prometheus_client's default registry"
                    )
            self._families[family.name] = family
            self.store.describe(_meta(family))
            return family

    def unregister(self, name: str) -> None:
        with self.creation_lock:
            self._families.pop(name, None)

    def get(self, name: str) -> Family[Any] | None:
        return self._families.get(name)

    def families(self) -> Iterator[Family[Any]]:
        return iter(list(self._families.values()))

    def names(self) -> set[str]:
        return set(self._families)

    # -- scrape-time refresh ------------------------------------------------------------
    def add_refresher(self, refresh: Callable[[], None]) -> None:
        """Run ``refresh`` before each render (process metrics read /proc here)."""
        if refresh not in self._refreshers:
            self._refreshers.append(refresh)

    def refresh(self) -> None:
        for refresh in list(self._refreshers):
            try:
                refresh()
            except Exception:
                self.internal_error("collector")

    # -- store --------------------------------------------------------------------------
    def bind_store(self, store: ValueStore, *, keep_values: bool) -> None:
        """Move every series into ``store`` (at init, or in a freshly forked worker)."""
        with self.creation_lock:
            self.store = store
            for family in self._families.values():
                family.rebind(store, keep_values)
            self.generation += 1

    # -- self-metrics ---------------------------------------------------------------------
    def series_dropped(self, metric: str) -> None:
        if self._dropped is None:
            self._dropped = self.counter(
                "watchkeeper_series_dropped_total",
                "Label sets collapsed into the overflow series by the cardinality limit.",
                ("metric",), cardinality_limit=100_000,
            )
        if metric != self._dropped.name:
            self._dropped.labels(metric).inc()

    def internal_error(self, component: str) -> None:
        """Count an internal failure that watchkeeper swallowed to protect the host app."""
        if self._internal is None:
            self._internal = self.counter(
                "watchkeeper_internal_errors_total",
                "Internal watchkeeper failures that were contained instead of raised.",
                ("component",),
            )
        self._internal.labels(component).inc()


def _meta(family: Family[Any]) -> bytes:
    import orjson

    return orjson.dumps(family.metadata())
