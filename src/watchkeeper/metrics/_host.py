"""Optional host metrics (CPU, memory, root disk) through psutil, for services that run
without a node exporter beside them."""

from __future__ import annotations

from ._registry import Registry

__all__ = ["HostCollector"]


class HostCollector:
    """Refreshed at scrape time; one instance per registry."""

    _installed: set[int] = set()

    def __init__(self, registry: Registry) -> None:
        self.cpu = registry.gauge("system_cpu_usage_ratio",
                                  "Host CPU utilisation since the previous scrape (0-1).",
                                  mode="max")
        self.memory = registry.gauge("system_memory_bytes", "Host memory by state.",
                                     ("state",), mode="max")
        self.disk = registry.gauge("system_disk_bytes", "Root filesystem space by state.",
                                   ("mountpoint", "state"), mode="max")
        registry.add_refresher(self.refresh)

    @classmethod
    def install(cls, registry: Registry) -> None:
        if id(registry) not in cls._installed:
            cls._installed.add(id(registry))
            cls(registry)

    def refresh(self) -> None:
        import psutil

        self.cpu.set(psutil.cpu_percent(interval=None) / 100.0)
        memory = psutil.virtual_memory()
        self.memory.labels("total").set(memory.total)
        self.memory.labels("available").set(memory.available)
        self.memory.labels("used").set(memory.total - memory.available)
        disk = psutil.disk_usage("/")
        self.disk.labels("/", "total").set(disk.total)
        self.disk.labels("/", "free").set(disk.free)
        self.disk.labels("/", "used").set(disk.used)
