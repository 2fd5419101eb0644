"""A point-in-time copy of metric families, the one input of the exposition writers.

Both the in-process registry and the multi-process shard reader produce snapshots, so
one renderer serves both and the formats cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._family import Family
from ._registry import Registry

__all__ = ["FamilySnapshot", "snapshot_registry"]


@dataclass(slots=True)
class FamilySnapshot:
    """One family's series: ``(labels_text, values)``; a histogram's values are its raw
    per-bucket counts (last one ``+Inf``) followed by the sum."""

    name: str
    kind: str
    documentation: str
    unit: str = ""
    bounds: tuple[float, ...] = ()
    series: list[tuple[str, list[float]]] = field(default_factory=list)
    exemplars: dict[str, dict[int, tuple[str, float, float]]] = field(default_factory=dict)
    """Histograms: ``{labels_text: {bucket index: (trace_id, value, timestamp)}}``."""


def snapshot_family(family: Family[Any]) -> FamilySnapshot:
    return FamilySnapshot(
        name=family.name,
        kind=family.kind,
        documentation=family.documentation,
        unit=family.unit,
        bounds=getattr(family, "bounds", ()),
        series=[(child.labels_text, values) for child, values in family.collect_values()],
        exemplars=_exemplars(family),
    )


def _exemplars(family: Family[Any]) -> dict[str, dict[int, tuple[str, float, float]]]:
    out = {}
    for labels, sink in getattr(family, "exemplars", {}).items():
        marks = dict(sink.items())
        if marks:
            out[labels] = marks
    return out


def snapshot_registry(registry: Registry) -> list[FamilySnapshot]:
    """Refresh collected values, then copy every family (sorted by name for stable output)."""
    registry.refresh()
    families = sorted(registry.families(), key=lambda f: f.name)
    return [snapshot_family(f) for f in families]
