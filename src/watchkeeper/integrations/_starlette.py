"""Starlette and FastAPI: our ASGI middleware as the outermost user middleware."""

from __future__ import annotations

from typing import Any

from ._asgi import WatchkeeperASGIMiddleware
from ._stack import Stack

__all__ = ["install_starlette", "is_starlette", "uninstall_starlette"]


def is_starlette(app: Any) -> bool:
    import sys

    applications = sys.modules.get("starlette.applications")
    return applications is not None and isinstance(app, applications.Starlette)


def install_starlette(app: Any, stack: Stack) -> Any:
    from starlette.middleware import Middleware

    if any(m.cls is WatchkeeperASGIMiddleware for m in app.user_middleware):
        return app
    # Insert directly rather than add_middleware(): that refuses once the app has
    # started, and instrument() must work before or after startup. Outermost user
    # middleware: inside ServerErrorMiddleware, so a handler crash reaches us as an
    # exception (counted as 500) before Starlette turns it into the 500 response.
    app.user_middleware.insert(0, Middleware(WatchkeeperASGIMiddleware, stack=stack))
    app.middleware_stack = None  # rebuilt on the next request
    return app


def uninstall_starlette(app: Any) -> Any:
    app.user_middleware[:] = [
        m for m in app.user_middleware if m.cls is not WatchkeeperASGIMiddleware
    ]
    app.middleware_stack = None
    return app
