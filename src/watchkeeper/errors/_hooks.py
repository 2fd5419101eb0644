"""Where unhandled exceptions are caught: requests, threads, asyncio and the interpreter.

Each hook chains to the one it replaces, so the default output (a traceback on stderr)
and other tools' hooks keep working.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import Any

from .._http_types import EndpointResponse, RequestRecord

__all__ = ["ErrorRequestHook", "ensure_loop_handler", "install_process_hooks"]

_OURS = "_watchkeeper_hook"
_loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
_Capture = Callable[..., Any]
_capture: _Capture | None = None


def _call(exc: BaseException, mechanism: str) -> None:
    capture = _capture
    if capture is not None:
        with contextlib.suppress(Exception):
            capture(exc, mechanism=mechanism, handled=False)


def install_process_hooks(capture: _Capture, hooks: list[str]) -> None:
    """Point the process hooks at ``capture``; a hook already ours is not wrapped again
    (one that someone replaced since is wrapped anew, chaining to the replacement)."""
    global _capture
    _capture = capture
    if "sys" in hooks and not getattr(sys.excepthook, _OURS, False):
        previous_sys = sys.excepthook

        def excepthook(kind: type[BaseException], exc: BaseException,
                       tb: TracebackType | None) -> None:
            _call(exc, "sys.excepthook")
            previous_sys(kind, exc, tb)

        setattr(excepthook, _OURS, True)
        sys.excepthook = excepthook
    if "threads" in hooks and not getattr(threading.excepthook, _OURS, False):
        previous_thread = threading.excepthook

        def thread_hook(args: threading.ExceptHookArgs) -> None:
            if args.exc_value is not None:
                _call(args.exc_value, "threading.excepthook")
            previous_thread(args)

        setattr(thread_hook, _OURS, True)
        threading.excepthook = thread_hook
    if "asyncio" in hooks:
        ensure_loop_handler()


def ensure_loop_handler() -> None:
    """Capture exceptions the running loop would only log (un-awaited failed tasks)."""
    loop = asyncio._get_running_loop()
    if loop is None or loop in _loops:
        return
    _loops.add(loop)
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, BaseException):
            _call(exc, "asyncio")
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


class ErrorRequestHook:
    """Captures the exception a request's handler raised, with the request's data."""

    def __init__(self, capture: _Capture, asyncio_hook: bool) -> None:
        self._capture = capture
        self._asyncio = asyncio_hook
        self._loop: object = None  # the loop last seen: a server runs one per process

    def on_request(self, record: RequestRecord) -> EndpointResponse | None:
        if self._asyncio:
            loop = asyncio._get_running_loop()
            if loop is not self._loop:
                self._loop = loop
                if loop is not None and loop not in _loops:
                    ensure_loop_handler()
        return None

    def on_response(self, record: RequestRecord) -> None:
        exc = record.exception
        if exc is not None and not isinstance(exc, asyncio.CancelledError):
            self._capture(exc, record=record, mechanism="request", handled=False)
