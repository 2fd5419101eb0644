"""Integrations: framework adapters (ASGI, WSGI, Starlette/FastAPI, Flask, Django) and
outgoing-HTTP and database hooks. Each request gets exactly one middleware pass that
runs every enabled stage's hook."""

from ._asgi import WatchkeeperASGIMiddleware
from ._django import RouteMiddleware
from ._http_client import instrument_http_clients, uninstrument_http_clients
from ._instrument import instrument_app, uninstrument_app
from ._sqlalchemy import instrument_sqlalchemy, statement_summary
from ._stack import Stack, build_stack
from ._wsgi import WatchkeeperWSGIMiddleware

__all__ = [
    "RouteMiddleware",
    "Stack",
    "WatchkeeperASGIMiddleware",
    "WatchkeeperWSGIMiddleware",
    "build_stack",
    "instrument_app",
    "instrument_http_clients",
    "instrument_sqlalchemy",
    "statement_summary",
    "uninstrument_app",
    "uninstrument_http_clients",
]
