"""The process-wide state of watchkeeper, fenced in one place.

``configure()`` installs settings (and what is derived from them); ``reset()`` puts
everything back for tests. Nothing else in the package keeps module-level state that
depends on settings.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import Settings
    from .metrics import Registry

__all__ = ["configure", "configured", "flush_stages", "registry", "reset", "settings"]

_lock = threading.RLock()
_settings: Settings | None = None
_registry: Registry | None = None
_explicit = False


def settings() -> Settings:
    """The active settings; loaded from the environment on first use if init() was not called."""
    global _settings
    if _settings is None:
        with _lock:
            if _settings is None:
                from .config import load_settings

                _settings = load_settings()
    return _settings


def configured() -> bool:
    """Whether ``configure()`` (i.e. ``watchkeeper.init()``) has run."""
    return _explicit


def registry() -> Registry:
    """The registry of watchkeeper metrics for this process."""
    global _registry
    if _registry is None:
        with _lock:
            if _registry is None:
                from .metrics import Registry, foreign_name_owner

                current = settings().metrics
                _registry = Registry(
                    prefix=current.namespace,
                    const_labels=current.const_labels,
                    cardinality_limit=current.cardinality_limit,
                    check_foreign=foreign_name_owner,
                )
    return _registry


def configure(new: Settings) -> None:
    """Install ``new`` settings; the registry adopts its prefix, labels and limits."""
    global _settings, _explicit
    with _lock:
        _settings = new
        _explicit = True
        if _registry is not None:
            _registry.prefix = new.metrics.namespace
            _registry.const_labels = dict(new.metrics.const_labels)
            _registry.cardinality_limit = new.metrics.cardinality_limit


def flush_stages(timeout: float = 5.0) -> None:
    """Push out what the stages buffer (spans first, since exporting may log; then logs).

    Called when a server's lifespan ends: uvicorn re-raises SIGTERM after shutdown, so
    atexit handlers alone would lose the last batches. Stages never loaded are skipped.
    """
    import sys

    alerting = sys.modules.get("watchkeeper._alerting")
    if alerting is not None:  # first: its Alertmanager may still log and trace
        try:
            alerting.stop()
        except Exception:
            if _registry is not None:
                _registry.internal_error("shutdown_flush")
    for name in ("watchkeeper.traces", "watchkeeper.logs"):
        stage = sys.modules.get(name)
        if stage is None:
            continue
        try:
            stage.flush(timeout)
        except Exception:  # flushing is best effort; shutdown must go on
            if _registry is not None:
                _registry.internal_error("shutdown_flush")


def reset() -> None:
    """Forget settings and metrics (tests only)."""
    global _settings, _registry, _explicit
    with _lock:
        _settings = None
        _registry = None
        _explicit = False
