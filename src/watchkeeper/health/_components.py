"""Component status pushed by the app (``set_component_status``), as the seed services do."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Component", "ComponentBoard"]

_log = logging.getLogger("watchkeeper.health")


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    ok: bool
    details: Mapping[str, Any] | str | None
    critical: bool
    updated: float
    since: float = field(default=0.0)


class ComponentBoard:
    """Latest status per component; logs INFO/ERROR only when a status changes."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._components: dict[str, Component] = {}

    def set(self, name: str, ok: bool, details: Mapping[str, Any] | str | None = None, *,
            critical: bool = False) -> None:
        now = self._clock()
        with self._lock:
            old = self._components.get(name)
            changed = old is None or old.ok != bool(ok)
            since = now if changed or old is None else old.since
            self._components[name] = Component(name, bool(ok), details, critical, now, since)
        if changed:
            if ok:
                _log.info("component %s is up", name, extra={"component": name, "ok": True})
            else:
                _log.error("component %s is down%s", name, f": {details}" if details else "",
                           extra={"component": name, "ok": False})

    def get(self, name: str) -> Component | None:
        return self._components.get(name)

    def all(self) -> list[Component]:
        return sorted(self._components.values(), key=lambda c: c.name)

    def clear(self) -> None:
        with self._lock:
            self._components.clear()
