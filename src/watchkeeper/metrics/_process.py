"""Process and Python runtime metrics, read at scrape time (and refreshed periodically in
pre-fork workers, where each worker reports its own series labelled ``pid``)."""

from __future__ import annotations

import gc
import platform
import resource
import threading
import time

from ._gauge import GaugeMode
from ._registry import Registry

__all__ = ["ProcessCollector"]


class ProcessCollector:
    """CPU, memory, file descriptors, threads, GC and interpreter info of this process."""

    def __init__(self, registry: Registry) -> None:
        import psutil

        self._proc = psutil.Process()
        self._started = self._proc.create_time()
        mode: GaugeMode = "per_worker"
        self.cpu = registry.counter(
            "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
            mode=mode)
        self.rss = registry.gauge(
            "process_resident_memory_bytes", "Resident memory size in bytes.", mode=mode)
        self.vms = registry.gauge(
            "process_virtual_memory_bytes", "Virtual memory size in bytes.", mode=mode)
        self.start = registry.gauge(
            "process_start_time_seconds", "Start time of the process since unix epoch.",
            mode=mode)
        self.uptime = registry.gauge(
            "process_uptime_seconds", "Seconds since the process started.", mode=mode)
        self.fds = registry.gauge("process_open_fds", "Number of open file descriptors.",
                                  mode=mode)
        self.max_fds = registry.gauge(
            "process_max_fds", "Maximum number of open file descriptors.", mode=mode)
        self.threads = registry.gauge("process_threads", "Number of OS threads.", mode=mode)
        self.gc_collections = registry.counter(
            "python_gc_collections_total", "Number of times this generation was collected.",
            ("generation",), mode=mode)
        self.gc_collected = registry.counter(
            "python_gc_objects_collected_total", "Objects collected during GC.",
            ("generation",), mode=mode)
        self.gc_uncollectable = registry.counter(
            "python_gc_objects_uncollectable_total", "Uncollectable objects found during GC.",
            ("generation",), mode=mode)
        info = registry.gauge(
            "python_info", "Python platform information.",
            ("implementation", "major", "minor", "patchlevel", "version"), mode="max")
        major, minor, patch = platform.python_version_tuple()
        info.labels(platform.python_implementation(), major, minor, patch,
                    platform.python_version()).set(1)
        self._lock = threading.Lock()
        registry.add_refresher(self.refresh)

    def refresh(self) -> None:
        with self._lock, self._proc.oneshot():
            times = self._proc.cpu_times()
            self.cpu._unlabelled().mirror(times.user + times.system)
            memory = self._proc.memory_info()
            self.rss.set(memory.rss)
            self.vms.set(memory.vms)
            self.start.set(self._started)
            self.uptime.set(time.time() - self._started)
            self.fds.set(self._proc.num_fds())
            self.threads.set(self._proc.num_threads())
        self.max_fds.set(resource.getrlimit(resource.RLIMIT_NOFILE)[0])
        for generation, stats in enumerate(gc.get_stats()):
            gen = str(generation)
            self.gc_collections.labels(gen).mirror(stats["collections"])
            self.gc_collected.labels(gen).mirror(stats["collected"])
            self.gc_uncollectable.labels(gen).mirror(stats["uncollectable"])
