"""The user-facing calls: ``init``, ``instrument``, ``uninstrument`` and metric helpers."""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from . import _runtime

if TYPE_CHECKING:
    from .config import Settings
    from .metrics import Counter, Gauge, GaugeMode, Histogram

__all__ = ["counter", "gauge", "histogram", "init", "instrument", "uninstrument"]

App = TypeVar("App")
_setup_lock = threading.Lock()
_process_collector_for: set[int] = set()


def init(config: str | Path | None = None, **overrides: Any) -> Settings:
    """Load settings and turn on what they enable; safe to call again (last call wins).

    Args:
        config: a YAML settings file (default: ``$WATCHKEEPER_CONFIG``).
        **overrides: sections or fields, e.g. ``service={"name": "shop"}`` or
            ``metrics__namespace="shop"``.

    Raises:
        ConfigError: naming each invalid field, its value and where it came from.

    Example::

        watchkeeper.init(service={"name": "checkout", "version": "1.4.2"})
    """
    from .config import load_settings

    settings = load_settings(config, **overrides)
    _runtime.configure(settings)
    _setup_metrics(settings)
    _setup_logs(settings)
    _setup_traces(settings)
    _setup_errors(settings)
    _setup_health(settings)
    if settings.security.enabled:
        from . import security

        security.configure(settings)
    _setup_alerting(settings)
    return settings


def _setup_alerting(settings: Settings) -> None:
    if settings.rules.enabled or settings.notify.enabled:
        from . import _alerting

        _alerting.start(settings)
    elif "watchkeeper._alerting" in sys.modules:
        sys.modules["watchkeeper._alerting"].stop()


def _setup_logs(settings: Settings) -> None:
    from . import logs

    # configure() first undoes a previous call, so init() twice leaves one pipeline; with
    # logs disabled it only restores the root logger.
    logs.configure(settings)


def _setup_traces(settings: Settings) -> None:
    from .traces import configure as configure_traces

    configure_traces(settings)  # also retires a previous configuration when now off


def _setup_errors(settings: Settings) -> None:
    from .errors import configure as configure_errors

    configure_errors(settings)


def _setup_health(settings: Settings) -> None:
    if not settings.health.enabled:
        return
    from . import health

    health.configure(settings)


def _setup_metrics(settings: Settings) -> None:
    if not settings.metrics.enabled:
        return
    from .metrics import ProcessCollector, bind_workers, watch_forks

    registry = _runtime.registry()
    with _setup_lock:
        if settings.metrics.process and id(registry) not in _process_collector_for:
            _process_collector_for.add(id(registry))
            ProcessCollector(registry)
        if settings.metrics.host:
            from .metrics import HostCollector

            HostCollector.install(registry)
        bind_workers(registry, settings.metrics)
        watch_forks(registry, settings.metrics)
        if settings.metrics.http_client:
            from .integrations import instrument_http_clients

            instrument_http_clients(registry)


def instrument(app: App, **overrides: Any) -> App:
    """Add metrics (and every other enabled stage) to a web application; return the app
    to serve.

    FastAPI, Starlette and Flask apps are instrumented in place; Django handlers and bare
    ASGI/WSGI callables come back wrapped. Idempotent, and safe before or after routes are
    added. Calls :func:`init` first if it has not run (or with ``overrides``).

    Example::

        app = FastAPI()
        watchkeeper.instrument(app)   # /metrics is served from now on
    """
    if overrides or not _runtime.configured():
        init(**overrides)
    from .integrations import instrument_app

    if not _runtime.settings().traces.fastapi_native:
        from . import traces

        if traces.current() is not None:
            traces.disable_framework_tracing(app)
    result: App = instrument_app(app)
    return result


def uninstrument(app: App) -> App:
    """Remove watchkeeper from ``app`` (tests); returns the original app to serve."""
    from .integrations import uninstrument_app

    result: App = uninstrument_app(app)
    return result


def counter(name: str, documentation: str, labelnames: Sequence[str] = (),
            **kwargs: Any) -> Counter:
    """A counter in watchkeeper's registry, with the configured namespace and const labels.

    Calling it again with the same name and shape returns the same counter.

    Example::

        orders = watchkeeper.counter("orders_total", "Orders placed.", ["channel"])
        orders.labels("web").inc()
    """
    registry = _runtime.registry()
    return registry.counter(registry.full_name(name), documentation, labelnames, **kwargs)


def gauge(name: str, documentation: str, labelnames: Sequence[str] = (), *,
          mode: GaugeMode = "live_sum", **kwargs: Any) -> Gauge:
    """A gauge; ``mode`` says how pre-fork workers combine (``live_sum``, ``per_worker``,
    ``max``, ``min``)."""
    registry = _runtime.registry()
    return registry.gauge(registry.full_name(name), documentation, labelnames, mode=mode,
                          **kwargs)


def histogram(name: str, documentation: str, labelnames: Sequence[str] = (), *,
              buckets: Sequence[float] | None = None, **kwargs: Any) -> Histogram:
    """A histogram; ``buckets`` default to the configured latency buckets."""
    registry = _runtime.registry()
    bounds = buckets if buckets is not None else _runtime.settings().metrics.latency_buckets
    return registry.histogram(registry.full_name(name), documentation, labelnames,
                              buckets=bounds, **kwargs)
