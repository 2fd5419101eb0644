"""Starlette and FastAPI: our ASGI middleware as the outermost user middleware."""

from __future__ import annotations

from typing import Any

from ._asgi import ErrorResponseHeaders, WatchkeeperASGIMiddleware
from ._stack import Stack

__all__ = ["install_starlette", "is_starlette", "uninstall_starlette"]

_ORIGINAL_BUILD = "_watchkeeper_build_middleware_stack"


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
    # ...and a thin layer outside ServerErrorMiddleware, so the 500 it sends still
    # carries X-Request-ID (the instance attribute wins over the class's method); not
    # there when no stage adds response headers.
    build = app.build_middleware_stack
    app.build_middleware_stack = lambda: (ErrorResponseHeaders(build())
                                          if stack.adds_response_headers else build())
    app.__dict__[_ORIGINAL_BUILD] = build
    app.middleware_stack = None  # rebuilt on the next request
    return app


def uninstall_starlette(app: Any) -> Any:
    app.user_middleware[:] = [
        m for m in app.user_middleware if m.cls is not WatchkeeperASGIMiddleware
    ]
    if _ORIGINAL_BUILD in app.__dict__:
        original = app.__dict__.pop(_ORIGINAL_BUILD)
        if getattr(original, "__func__", None) is type(app).build_middleware_stack:
            app.__dict__.pop("build_middleware_stack", None)
        else:
            app.build_middleware_stack = original
    app.middleware_stack = None
    return app
