"""Web layer: Starlette apps mounted by the hub and by the in-process mode.

This stage owns the Prometheus-compatible query API (``/api/v1/...``) for now; the hub
API, dashboard and auth will live here too.
"""

from ._query_api import create_query_app

__all__ = ["create_query_app"]
