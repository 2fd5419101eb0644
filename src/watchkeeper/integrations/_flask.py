"""Flask: wrap ``app.wsgi_app`` and note the matched ``url_rule`` for the route label."""

from __future__ import annotations

from typing import Any

from ._stack import Stack
from ._wsgi import EXCEPTION_KEY, ROUTE_KEY, WatchkeeperWSGIMiddleware

__all__ = ["install_flask", "is_flask", "uninstall_flask"]

_EXTENSION = "watchkeeper"


def is_flask(app: Any) -> bool:
    import sys

    flask = sys.modules.get("flask")
    return flask is not None and isinstance(app, flask.Flask)


def _note_route() -> None:
    from flask import request

    rule = request.url_rule
    if rule is not None:
        request.environ[ROUTE_KEY] = rule.rule


def _note_exception(sender: Any, exception: BaseException, **_: Any) -> None:
    # Flask answers an unhandled exception with a 500 itself; keep it for the metrics.
    from flask import request

    request.environ[EXCEPTION_KEY] = exception


def install_flask(app: Any, stack: Stack) -> Any:
    if _EXTENSION in app.extensions:
        return app
    app.extensions[_EXTENSION] = app.wsgi_app
    app.wsgi_app = WatchkeeperWSGIMiddleware(app.wsgi_app, stack)
    # First in line, so an earlier before_request that answers (auth) still leaves the
    # route behind; Flask has already matched the URL when before_request runs.
    app.before_request_funcs.setdefault(None, []).insert(0, _note_route)
    from flask import got_request_exception

    got_request_exception.connect(_note_exception, app)
    return app


def uninstall_flask(app: Any) -> Any:
    original = app.extensions.pop(_EXTENSION, None)
    if original is not None:
        app.wsgi_app = original
        funcs = app.before_request_funcs.get(None, [])
        if _note_route in funcs:
            funcs.remove(_note_route)
        from flask import got_request_exception

        got_request_exception.disconnect(_note_exception, app)
    return app
