"""The context contract: request/trace ids and bound fields, on contextvars.

These variables are the one place request and trace identity live in a process. The
request hook sets ``request_id``; the tracing stage sets ``trace_id``/``span_id``; every
log line (and error event) reads them. Values are immutable, so a child task or thread
that received a copy of the context can never change its parent's view.
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any, ParamSpec, TypeVar

__all__ = [
    "ContextThreadPoolExecutor",
    "bind",
    "bound",
    "bound_fields",
    "clear_bound",
    "ensure_context_executor",
    "providers",
    "request_id",
    "set_trace_provider",
    "span_id",
    "trace_id",
    "unbind",
]

P = ParamSpec("P")
T = TypeVar("T")

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "watchkeeper_request_id", default=None
)
trace_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "watchkeeper_trace_id", default=None
)
span_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "watchkeeper_span_id", default=None
)

TraceProvider = Callable[[], "tuple[str, str] | None"]
"""Returns (trace_id, span_id) of the current span, or None; set by the tracing stage."""


class _Providers:
    trace: TraceProvider | None = None


providers = _Providers()


def set_trace_provider(provider: TraceProvider | None) -> None:
    """Let log lines read trace/span ids from a tracer (e.g. the current OpenTelemetry
    span) when ``trace_id``/``span_id`` are not set explicitly in the context."""
    providers.trace = provider


_EMPTY: Mapping[str, Any] = MappingProxyType({})
_bound: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "watchkeeper_log_context", default=_EMPTY
)


def bound_fields() -> Mapping[str, Any]:
    """The fields bound in the current context (read-only)."""
    return _bound.get()


def bind(**fields: Any) -> None:
    """Add ``fields`` to every log line written from this context (task, thread, request).

    Example:
        >>> bind(user="u-1", tenant="acme")
    """
    # A new mapping each time: contexts copied into child tasks keep their own snapshot.
    _bound.set(MappingProxyType({**_bound.get(), **fields}))


def unbind(*names: str) -> None:
    """Remove ``names`` from the bound fields of this context."""
    current = _bound.get()
    if any(name in current for name in names):
        _bound.set(MappingProxyType({k: v for k, v in current.items() if k not in names}))


def clear_bound() -> None:
    """Remove every bound field from this context."""
    _bound.set(_EMPTY)


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Bind ``fields`` for the duration of a ``with`` block, then restore the previous set.

    Example:
        >>> with bound(order_id=7):
        ...     log.info("charging")
    """
    token = _bound.set(MappingProxyType({**_bound.get(), **fields}))
    try:
        yield
    finally:
        _bound.reset(token)


class ContextThreadPoolExecutor(ThreadPoolExecutor):
    """A thread pool whose work runs in a copy of the submitter's context.

    ``loop.run_in_executor`` does not copy contextvars (``asyncio.to_thread`` and
    Starlette's threadpool do); installing this as the loop's default executor makes the
    request id and bound fields reach code run with ``run_in_executor(None, ...)``.
    """

    def submit(
        self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> Future[T]:
        ctx = contextvars.copy_context()
        return super().submit(ctx.run, fn, *args, **kwargs)  # type: ignore[arg-type]


_patched_loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


_last_loop: list[asyncio.AbstractEventLoop | None] = [None]


def ensure_context_executor() -> None:
    """Make the running loop's default executor propagate context (once per loop).

    A loop whose default executor the application already set is left alone.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    # Called per request: the identity check against the last loop is the common case
    # (a WeakSet lookup costs a weakref per call).
    if loop is _last_loop[0]:
        return
    _last_loop[0] = loop
    if loop in _patched_loops:
        return
    _patched_loops.add(loop)
    if getattr(loop, "_default_executor", None) is None:
        loop.set_default_executor(ContextThreadPoolExecutor(thread_name_prefix="asyncio"))
