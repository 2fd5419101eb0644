"""Switching a registry between one-process memory and pre-fork worker shards.

Decided in the worker itself: at ``init()`` and again after every ``fork()`` (gunicorn
``--preload`` imports the app in the master, then forks), so users set nothing up.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from ..config import MetricsSettings
from ._multiprocess import ShardReader, open_shard, shard_directory
from ._registry import Registry
from ._values import MemoryStore, ShardStore

__all__ = ["WorkerAggregation", "aggregation", "bind_workers"]

REFRESH_SECONDS = 2.0  # how stale another worker's gauges may be at most


@dataclass
class WorkerAggregation:
    """The shard this worker writes and the reader that combines its server's shards."""

    directory: str
    store: ShardStore
    reader: ShardReader


_active: dict[int, WorkerAggregation] = {}
_fork_hooked: set[int] = set()


def aggregation(registry: Registry) -> WorkerAggregation | None:
    """The active cross-worker aggregation of ``registry``, if any."""
    return _active.get(id(registry))


def bind_workers(registry: Registry, settings: MetricsSettings) -> WorkerAggregation | None:
    """Put ``registry`` on a shard when this process is one of several server workers."""
    directory = shard_directory(settings)
    if directory is None:
        return None
    current = _active.get(id(registry))
    if current is not None and current.directory == directory:
        return current
    store = open_shard(directory)
    registry.bind_store(store, keep_values=True)
    state = WorkerAggregation(directory, store, ShardReader(directory, store))
    _active[id(registry)] = state
    _start_refresher(registry)
    watch_forks(registry, settings)
    return state


def _after_fork(registry: Registry, settings: MetricsSettings) -> None:
    # The child must not write into its parent's shard, and the parent's counts are the
    # parent's: start from zero in a shard of the child's own (or in memory).
    inherited = _active.pop(id(registry), None)
    registry.bind_store(MemoryStore(), keep_values=False)
    if inherited is not None:
        inherited.store.detach()
    try:
        bind_workers(registry, settings)
    except OSError:
        registry.internal_error("multiprocess")


def watch_forks(registry: Registry, settings: MetricsSettings) -> None:
    """Re-decide after fork even if this process itself is not a worker (``--preload``)."""
    if id(registry) not in _fork_hooked:
        _fork_hooked.add(id(registry))
        os.register_at_fork(after_in_child=lambda: _after_fork(registry, settings))


def _start_refresher(registry: Registry) -> None:
    """Keep this worker's collected gauges (process, in-progress) fresh in its shard."""

    def loop() -> None:
        while not stop.wait(REFRESH_SECONDS):
            if id(registry) not in _active:
                return
            registry.refresh()

    stop = threading.Event()
    thread = threading.Thread(target=loop, name="watchkeeper-metrics-refresh", daemon=True)
    thread.start()


def unbind_workers(registry: Registry) -> None:
    """Back to in-memory values (tests, uninstrument)."""
    if _active.pop(id(registry), None) is not None:
        registry.bind_store(MemoryStore(), keep_values=True)
