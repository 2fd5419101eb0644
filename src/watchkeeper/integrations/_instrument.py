"""``instrument(app)``: recognise the framework and install the one middleware pass."""

from __future__ import annotations

import inspect
from typing import Any

from ..exceptions import InstrumentationError
from ._asgi import WatchkeeperASGIMiddleware
from ._django import install_django, is_django, uninstall_django
from ._flask import install_flask, is_flask, uninstall_flask
from ._stack import Stack, build_stack
from ._starlette import install_starlette, is_starlette, uninstall_starlette
from ._wsgi import WatchkeeperWSGIMiddleware

__all__ = ["instrument_app", "uninstrument_app"]


def instrument_app(app: Any, stack: Stack | None = None) -> Any:
    """Instrument ``app`` and return what to serve.

    FastAPI/Starlette and Flask apps are changed in place (and returned); Django handlers
    and plain ASGI/WSGI callables are wrapped, so serve the returned object.
    """
    if isinstance(app, WatchkeeperASGIMiddleware | WatchkeeperWSGIMiddleware):
        return app
    if stack is None:
        from .._runtime import settings

        stack = build_stack(settings())
    if is_starlette(app):
        return install_starlette(app, stack)
    if is_flask(app):
        return install_flask(app, stack)
    if is_django(app):
        return install_django(app, stack)
    kind = _interface(app)
    if kind == "asgi":
        return WatchkeeperASGIMiddleware(app, stack)
    if kind == "wsgi":
        return WatchkeeperWSGIMiddleware(app, stack)
    raise InstrumentationError(
        f"cannot instrument {type(app).__module__}.{type(app).__qualname__}: expected a "
        "FastAPI, Starlette, Flask or Django application, or an ASGI "
        "(async (scope, receive, send)) or WSGI ((environ, start_response)) callable"
    )


def uninstrument_app(app: Any) -> Any:
    """Undo :func:`instrument_app`; returns the original app to serve."""
    if is_starlette(app):
        return uninstall_starlette(app)
    if is_flask(app):
        return uninstall_flask(app)
    if isinstance(app, WatchkeeperASGIMiddleware | WatchkeeperWSGIMiddleware):
        return uninstall_django(app.app) if is_django(app.app) else app.app
    if is_django(app):
        return uninstall_django(app)
    return app


def _interface(app: Any) -> str | None:
    if not callable(app):
        return None
    target = app if inspect.isfunction(app) or inspect.ismethod(app) else app.__call__
    try:
        params = [
            p for p in inspect.signature(target).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return None
    if inspect.iscoroutinefunction(target) and len(params) == 3:
        return "asgi"
    if not inspect.iscoroutinefunction(target) and len(params) == 2:
        return "wsgi"
    return None
