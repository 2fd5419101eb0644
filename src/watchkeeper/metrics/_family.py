"""A metric family: name, help, label names, and one child per label-value tuple.

Children are created on first use and never re-matched: the hot path is a dict lookup
on the label tuple. A per-family cardinality limit routes label sets beyond it to one
overflow child, so a flood of unique ids cannot grow memory without bound.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import orjson

from ..exceptions import LabelError, MetricError
from ._names import check_label_names, check_metric_name, escape_label
from ._values import Page, ValueStore

if TYPE_CHECKING:
    from ._registry import Registry

__all__ = ["OVERFLOW_VALUE", "Child", "Family"]

OVERFLOW_VALUE = "__overflow__"


class Child:
    """One series (or a histogram's run of slots) of a family."""

    __slots__ = ("_i", "_lock", "_page", "_slot", "function", "label_values", "labels_text")

    def __init__(self, family: Family[Any], values: tuple[str, ...], labels_text: str) -> None:
        self._lock = family._lock
        self.label_values = values
        self.labels_text = labels_text
        self.function: Any = None
        self._page, self._i, self._slot = family._allocate(values)

    def _values(self, count: int) -> list[float]:
        values: list[float] = self._page[self._i : self._i + count].tolist()
        return values

    def _rebind(self, page: Page, index: int, slot: int, keep: bool, count: int) -> None:
        if keep:
            page[index : index + count] = self._page[self._i : self._i + count]
        self._page, self._i, self._slot = page, index, slot


C = TypeVar("C", bound=Child)


class Family(Generic[C]):
    """Base of Counter, Gauge and Histogram: label handling, children, cardinality."""

    kind: ClassVar[str]
    child_class: ClassVar[type[Child]]
    reserved_labels: ClassVar[tuple[str, ...]] = ()
    # How pre-fork workers combine: "sum" (counters, histograms), "live_sum" (gauges),
    # "per_worker" (one series per live worker, labelled pid), "max", "min".
    modes: ClassVar[tuple[str, ...]] = ("sum", "per_worker")

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: tuple[str, ...] | list[str] = (),
        *,
        registry: Registry,
        unit: str = "",
        const_labels: Mapping[str, str] | None = None,
        cardinality_limit: int | None = None,
        mode: str | None = None,
    ) -> None:
        self.name = check_metric_name(name)
        self.mode = mode or self.modes[0]
        if self.mode not in self.modes:
            raise MetricError(
                f"{name}: a {self.kind} cannot combine workers by {self.mode!r}; "
                f"use one of {list(self.modes)}"
            )
        self.documentation = documentation
        self.unit = unit
        if unit and not name.removesuffix("_total").endswith(f"_{unit}"):
            raise MetricError(f"{name}: a metric with unit {unit!r} must be named '..._{unit}'")
        self.labelnames = tuple(labelnames)
        check_label_names(name, self.labelnames, self.reserved_labels)
        self.const_labels = dict(const_labels or {})
        check_label_names(name, tuple(self.const_labels), self.reserved_labels)
        clash = set(self.const_labels) & set(self.labelnames)
        if clash:
            raise LabelError(f"{name}: labels {sorted(clash)} are both constant and variable")
        self._const_text = ",".join(
            f'{k}="{escape_label(str(v))}"' for k, v in self.const_labels.items()
        )
        self._registry = registry
        self._limit = cardinality_limit or registry.cardinality_limit
        self._lock = threading.Lock()
        self._children: dict[tuple[str, ...], C] = {}
        self._key_prefix = b'"f":' + orjson.dumps(self.name) + b',"v":'
        self._default: C | None = None

    # -- shape -------------------------------------------------------------------------
    def slot_count(self) -> int:
        return 1

    def metadata(self) -> dict[str, Any]:
        """What a reader of another process' shard needs to render this family."""
        return {"family": self.name, "type": self.kind, "help": self.documentation,
                "unit": self.unit, "labels": list(self.labelnames),
                "const": self.const_labels, "mode": self.mode}

    def same_shape(self, other: Family[Any]) -> bool:
        """Whether ``other`` records the same series (help text may differ: first wins)."""
        mine, theirs = self.metadata(), other.metadata()
        mine.pop("help")
        theirs.pop("help")
        return type(self) is type(other) and mine == theirs

    # -- children ----------------------------------------------------------------------
    def labels(self, *values: object, **by_name: object) -> C:
        """The child for these label values (positional, or by name); created on first use."""
        if by_name:
            if values:
                raise LabelError(f"{self.name}: pass label values by position or by name")
            try:
                values = tuple(by_name[n] for n in self.labelnames)
            except KeyError as exc:
                raise LabelError(f"{self.name}: missing label {exc.args[0]!r}") from None
            if len(by_name) != len(self.labelnames):
                extra = sorted(set(by_name) - set(self.labelnames))
                raise LabelError(f"{self.name}: unknown labels {extra}")
        child = self._children.get(values)  # type: ignore[arg-type]
        if child is not None:
            return child
        return self._create(values)

    def _create(self, raw: tuple[object, ...]) -> C:
        if len(raw) != len(self.labelnames):
            raise LabelError(
                f"{self.name}: expected {len(self.labelnames)} label values "
                f"{list(self.labelnames)}, got {len(raw)}"
            )
        values = tuple(v if isinstance(v, str) else str(v) for v in raw)
        with self._registry.creation_lock:
            child = self._children.get(values)
            if child is not None:
                return child
            if len(self._children) >= self._limit:
                self._registry.series_dropped(self.name)
                values = (OVERFLOW_VALUE,) * len(self.labelnames)
                child = self._children.get(values)
                if child is not None:
                    return child
            child = self.child_class(self, values, self._labels_text(values))  # type: ignore[assignment]
            self._children[values] = child  # type: ignore[assignment]
            return child  # type: ignore[return-value]

    def _labels_text(self, values: tuple[str, ...]) -> str:
        parts = [f'{n}="{escape_label(v)}"' for n, v in zip(self.labelnames, values, strict=True)]
        if self._const_text:
            parts.insert(0, self._const_text)
        return ",".join(parts)

    def _allocate(self, values: tuple[str, ...]) -> tuple[Page, int, int]:
        key = self._key_prefix + orjson.dumps(list(values))
        return self._registry.store.allocate(self.slot_count(), key)

    def _unlabelled(self) -> C:
        if self._default is None:
            if self.labelnames:
                raise LabelError(
                    f"{self.name} has labels {list(self.labelnames)}: call .labels(...) first"
                )
            self._default = self._create(())
        return self._default

    def remove(self, *values: object) -> None:
        """Forget one series (it disappears from the exposition)."""
        key = tuple(v if isinstance(v, str) else str(v) for v in values)
        with self._registry.creation_lock:
            child = self._children.pop(key, None)
        if child is not None:
            self._forget(child)
            self._registry.store.describe(b'{"rm":%d}' % child._slot)

    def _forget(self, child: C) -> None:
        """Drop what the family keeps about a removed child besides its slots."""

    def clear(self) -> None:
        """Forget every series."""
        for key in list(self._children):
            self.remove(*key)
        self._default = None

    def children(self) -> Iterator[C]:
        return iter(list(self._children.values()))

    def rebind(self, store: ValueStore, keep: bool) -> None:
        """Move every child into ``store``, keeping values or starting from zero."""
        store.describe(orjson.dumps(self.metadata()))
        count = self.slot_count()
        with self._lock:
            for values, child in self._children.items():
                page, index, slot = store.allocate(count, self._key_prefix + orjson.dumps(
                    list(values)))
                child._rebind(page, index, slot, keep, count)

    def collect_values(self) -> Iterator[tuple[Child, list[float]]]:
        """Each child with its current slot values (function children refreshed first)."""
        count = self.slot_count()
        for child in self.children():
            if child.function is not None:
                try:
                    child._page[child._i] = float(child.function())
                except Exception:  # a user callback must not break the scrape
                    self._registry.internal_error("gauge_function")
            yield child, child._values(count)
