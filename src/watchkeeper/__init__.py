"""watchkeeper: production observability for Python services.

``watchkeeper.instrument(app)`` gives a FastAPI, Starlette, Flask or Django app RED
metrics, process metrics, ``/metrics``, server spans and error capture;
``watchkeeper.init()`` reads the settings.
Importing this package is cheap: every stage loads when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from ._api import counter, gauge, histogram, init, instrument, uninstrument
    from .errors import capture_exception, capture_message
    from .logs import get_logger
    from .metrics import (
        cache_access,
        record_cost,
        track_db_operation,
        track_message,
    )
    from .traces import (
        continue_trace,
        current_span_id,
        current_trace_id,
        extract,
        inject,
        span,
        timer,
        traced,
    )

__all__ = [
    "__version__",
    "cache_access",
    "capture_exception",
    "capture_message",
    "continue_trace",
    "counter",
    "current_span_id",
    "current_trace_id",
    "extract",
    "gauge",
    "get_logger",
    "histogram",
    "init",
    "inject",
    "instrument",
    "record_cost",
    "span",
    "timer",
    "traced",
    "track_db_operation",
    "track_message",
    "uninstrument",
]

_LAZY = {
    "get_logger": ".logs",
    "init": "._api",
    "instrument": "._api",
    "uninstrument": "._api",
    "counter": "._api",
    "gauge": "._api",
    "histogram": "._api",
    "track_db_operation": ".metrics",
    "cache_access": ".metrics",
    "track_message": ".metrics",
    "record_cost": ".metrics",
    "traced": ".traces",
    "span": ".traces",
    "timer": ".traces",
    "current_trace_id": ".traces",
    "current_span_id": ".traces",
    "inject": ".traces",
    "extract": ".traces",
    "continue_trace": ".traces",
    "capture_exception": ".errors",
    "capture_message": ".errors",
}


# Stage packages load on first attribute access, so ``watchkeeper.health.check(...)``
# works after a plain ``import watchkeeper``.
_STAGES = frozenset({"config", "metrics", "logs", "traces", "errors", "health", "security",
                     "integrations", "tsdb", "promql", "rules", "notify", "web"})


def __getattr__(name: str) -> Any:
    import importlib

    if name in _STAGES:
        return importlib.import_module(f".{name}", __name__)
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'watchkeeper' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
