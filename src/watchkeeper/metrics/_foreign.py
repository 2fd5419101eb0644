"""Metrics users made with prometheus_client itself, shown in the same /metrics.

Only imported when prometheus_client already is: an app that never touched it pays
nothing. prometheus_client's own process/GC/platform collectors are left out because
watchkeeper's process metrics replace them under the same names.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any

__all__ = ["foreign_name_owner", "render_foreign"]

_BUILTIN_PREFIXES = ("process_", "python_gc_", "python_info")
_log = logging.getLogger("watchkeeper.metrics")
_warned: set[str] = set()


def foreign_name_owner(name: str) -> str | None:
    """Describe the prometheus_client metric already using ``name``, if any."""
    if "prometheus_client" not in sys.modules or name.startswith(_BUILTIN_PREFIXES):
        return None
    from prometheus_client import REGISTRY

    taken: dict[str, Any] = getattr(REGISTRY, "_names_to_collectors", {})
    for candidate in (name, f"{name}_total", f"{name}_bucket", f"{name}_count"):
        collector = taken.get(candidate)
        if collector is not None:
            return f"{type(collector).__name__} {candidate!r}"
    return None


class _Filtered:
    def __init__(self, families: list[Any]) -> None:
        self._families = families

    def collect(self) -> Iterable[Any]:
        return self._families


def render_foreign(own_names: set[str], *, openmetrics: bool) -> str:
    """prometheus_client's default registry, minus names watchkeeper already exposes."""
    if "prometheus_client" not in sys.modules:
        return ""
    from prometheus_client import REGISTRY

    keep = []
    for family in REGISTRY.collect():
        if family.name.startswith(_BUILTIN_PREFIXES):
            continue
        if family.name in own_names:
            if family.name not in _warned:
                _warned.add(family.name)
                _log.warning("prometheus_client metric %r hidden: watchkeeper exposes the "
                             "same name", family.name)
            continue
        keep.append(family)
    if not keep:
        return ""
    if openmetrics:
        from prometheus_client.openmetrics.exposition import generate_latest as om_latest

        text = om_latest(_Filtered(keep))  # type: ignore[no-untyped-call]
        return str(text.decode("utf-8")).removesuffix("# EOF\n")
    from prometheus_client.exposition import generate_latest

    return str(generate_latest(_Filtered(keep)).decode("utf-8"))
