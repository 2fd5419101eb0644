"""The health stage's process-wide state, fenced here: ``configure()`` and ``reset()``."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ._breaker import CircuitBreaker, all_breakers, set_state_hook
from ._builtin import build_from_settings
from ._components import ComponentBoard
from ._definition import CheckRegistry, default_registry
from ._loop import HealthLoop
from ._metrics import HealthMetrics, RegistryLike
from ._runner import Runner

if TYPE_CHECKING:
    from ..config import Settings

__all__ = ["Health", "components", "configure", "current", "mark_started", "reset"]

_log = logging.getLogger("watchkeeper.health")


class Health:
    """One configured health stage: settings, the runner and its loop, start time."""

    def __init__(self, settings: Settings, *, registry: CheckRegistry,
                 metrics: HealthMetrics, clock: Callable[[], float] = time.time,
                 background: bool = True) -> None:
        self.settings = settings
        self.config = settings.health
        self.clock = clock
        self.loop = HealthLoop()
        self.runner = Runner(registry, self.loop, default_timeout=self.config.default_timeout,
                             default_interval=self.config.default_interval, metrics=metrics,
                             clock=clock, background=background)
        self.metrics = metrics
        self.process_start = _process_start(clock)
        self.pid = os.getpid()
        self.metrics_registry: RegistryLike | None = None

    def uptime(self) -> float:
        return max(0.0, self.clock() - self.process_start)

    def started(self) -> bool:
        if _marked.is_set():
            return True
        if self.config.startup_requires_mark:
            return False
        return all(state.result is not None for state in self.runner.states.values()
                   if state.spec.enabled)

    def close(self) -> None:
        self.runner.stop()
        if self.pid == os.getpid():  # a forked child has no copy of the loop's thread
            self.loop.stop()


def _process_start(clock: Callable[[], float]) -> float:
    try:
        import psutil

        return float(psutil.Process().create_time())
    except Exception:
        return clock()


_lock = threading.Lock()
_fork_lock = threading.Lock()
_current: Health | None = None
_builtin_names: set[str] = set()
_marked = threading.Event()
_board = ComponentBoard()


def configure(settings: Settings | None = None, *, metrics_registry: RegistryLike | None = None,
              clock: Callable[[], float] = time.time, background: bool = True) -> Health:
    """Install ``settings`` (the whole tree; ``settings.health`` and ``settings.service`` are
    read): build the built-in checks it lists, start the health loop and background refresh.

    Raises:
        HealthCheckConfigError: a listed built-in check has bad options.
    """
    global _current
    if settings is None:
        from .._runtime import settings as runtime_settings

        settings = runtime_settings()
    registry = default_registry()
    specs = [build_from_settings(entry) for entry in settings.health.checks]  # fail first
    chosen = metrics_registry if metrics_registry is not None else _default_metrics_registry()
    metrics = HealthMetrics(chosen)
    with _lock:
        old, _current = _current, None
        if old is not None:
            old.close()
        for name in _builtin_names:
            spec = registry.get(name)
            if spec is not None and spec.kind != "custom":
                registry.remove(name)
        _builtin_names.clear()
        for spec in specs:
            registry.add(spec)
            _builtin_names.add(spec.name)
        health = Health(settings, registry=registry, metrics=metrics, clock=clock,
                        background=background)
        health.metrics_registry = metrics_registry
        set_state_hook(lambda breaker, old_state, new: metrics.breaker_state(breaker.name, new))
        for breaker in all_breakers():
            metrics.breaker_state(breaker.name, breaker.state)
        if settings.health.enabled:
            health.runner.start()
        _current = health
    return health


def _default_metrics_registry() -> RegistryLike | None:
    try:
        from .._runtime import registry

        return registry()
    except Exception:  # the metrics stage is off or unavailable: health still works
        _log.debug("watchkeeper health: no metrics registry", exc_info=True)
        return None


def current() -> Health:
    """The configured stage, configuring from the runtime settings on first use."""
    health = _current
    if health is None:
        return configure()
    if health.pid != os.getpid():
        # A pre-fork server forked us after configure(): threads do not survive a fork,
        # so this worker gets its own health loop and fresh check state.
        with _fork_lock:
            health = _current
            if health is not None and health.pid != os.getpid():
                return configure(health.settings, metrics_registry=health.metrics_registry,
                                 clock=health.clock, background=health.runner.background)
        assert health is not None
    return health


def reset() -> None:
    """Stop the loop and forget checks, components, breakers' hook and startup (tests)."""
    global _current
    with _lock:
        old, _current = _current, None
        if old is not None:
            old.close()
        default_registry().clear()
        _builtin_names.clear()
        _board.clear()
        _marked.clear()
        set_state_hook(None)


def mark_started() -> None:
    """Tell /health/startup that the app finished starting (migrations, warm-up, ...)."""
    if not _marked.is_set():
        _marked.set()
        _log.info("startup complete")


def components() -> ComponentBoard:
    return _board


def set_component_status(name: str, ok: bool,
                         details: Mapping[str, Any] | str | None = None, *,
                         critical: bool = False) -> None:
    """Report the status of a component the app watches itself (a consumer, a cache).

    Shown in /health, /health/dependencies and /health/component/{name}; a critical
    component that is down makes /health/ready answer 503. Logs only on change.
    """
    _board.set(name, ok, details, critical=critical)


def breakers() -> list[CircuitBreaker]:
    return all_breakers()
