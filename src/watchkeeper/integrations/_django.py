"""Django: a tiny Django middleware notes ``resolver_match.route``; our WSGI/ASGI
middleware wraps the handler Django built."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._stack import Stack

__all__ = ["RouteMiddleware", "install_django", "is_django", "uninstall_django"]

_MIDDLEWARE_PATH = "watchkeeper.integrations.RouteMiddleware"
_WRAPPER_ATTR = "_watchkeeper_wrapper"
ROUTE_KEY = "watchkeeper.route"
EXCEPTION_KEY = "watchkeeper.exception"


class RouteMiddleware:
    """Django middleware: stores the matched URL pattern where our middleware reads it."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        return self.get_response(request)

    def process_view(self, request: Any, view_func: Any, view_args: Any,
                     view_kwargs: Any) -> None:
        match = request.resolver_match
        if match is None:
            return
        route = "/" + match.route if match.route is not None else None
        _server_state(request)[ROUTE_KEY] = route

    def process_exception(self, request: Any, exception: BaseException) -> None:
        # Django turns the exception into a 500 response; keep it for the metrics.
        _server_state(request)[EXCEPTION_KEY] = exception


def _server_state(request: Any) -> Any:
    scope = getattr(request, "scope", None)  # ASGIRequest keeps the ASGI scope
    return scope if scope is not None else request.META


def is_django(app: Any) -> bool:
    import sys

    base = sys.modules.get("django.core.handlers.base")
    return base is not None and isinstance(app, base.BaseHandler)


def install_django(app: Any, stack: Stack) -> Any:
    wrapper = getattr(app, _WRAPPER_ATTR, None)
    if wrapper is not None:
        return wrapper
    from django.conf import settings

    middleware = list(settings.MIDDLEWARE)
    if _MIDDLEWARE_PATH not in middleware:
        settings.MIDDLEWARE = [_MIDDLEWARE_PATH, *middleware]
        app.load_middleware(is_async=_is_asgi(app))
    if _is_asgi(app):
        from ._asgi import WatchkeeperASGIMiddleware

        wrapper = WatchkeeperASGIMiddleware(app, stack)
    else:
        from ._wsgi import WatchkeeperWSGIMiddleware

        wrapper = WatchkeeperWSGIMiddleware(app, stack)
    setattr(app, _WRAPPER_ATTR, wrapper)
    return wrapper


def uninstall_django(app: Any) -> Any:
    wrapped = getattr(app, "app", app)
    if hasattr(wrapped, _WRAPPER_ATTR):
        delattr(wrapped, _WRAPPER_ATTR)
    return wrapped


def _is_asgi(app: Any) -> bool:
    from django.core.handlers.asgi import ASGIHandler

    return isinstance(app, ASGIHandler)
