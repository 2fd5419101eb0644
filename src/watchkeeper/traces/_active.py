"""Making a span current in the OpenTelemetry context.

Every watchkeeper span (server, client, ``span``, ``traced``) becomes current through
:func:`activate`, so log lines and error events inside it carry its trace and span ids
(read through the provider in ``watchkeeper.logs._context``).

With OpenTelemetry's default runtime context (a ``ContextVar`` holding a ``Context``
dict), the new context is built and set directly: the same objects ``attach`` and
``set_span_in_context`` produce, without the four calls between. Any other runtime
context (``OTEL_PYTHON_CONTEXT``) goes through the API.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span

__all__ = ["Activation", "activate", "current_span", "deactivate", "hex_ids"]

Activation = Any
"""The OpenTelemetry context token to detach."""

_log = logging.getLogger("watchkeeper.traces")


def hex_ids(span: Span) -> tuple[str, str] | None:
    """(trace id, span id) in W3C hex form, or None for an invalid span."""
    ctx = span.get_span_context()
    if not ctx.trace_id:
        return None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


def _bind() -> None:
    """Bound on first use: the direct path when the runtime context is OpenTelemetry's
    ContextVar one, the API otherwise."""
    global _VAR, _CONTEXT, _SPAN_KEY, _API
    from opentelemetry import context as context_api
    from opentelemetry.context.contextvars_context import ContextVarsRuntimeContext
    from opentelemetry.trace.propagation import _SPAN_KEY as span_key

    runtime = getattr(context_api, "_RUNTIME_CONTEXT", None)
    var = getattr(runtime, "_current_context", None)
    if type(runtime) is ContextVarsRuntimeContext and isinstance(var, ContextVar):
        _VAR = var
    _CONTEXT, _SPAN_KEY = context_api.Context, span_key
    _API = (context_api.attach, context_api.detach, context_api.get_current)


_VAR: ContextVar[Any] | None = None
_CONTEXT: Any = None
_SPAN_KEY = ""
_API: tuple[Any, Any, Any] | None = None
_dict_set = dict.__setitem__


def activate(span: Span, parent: Context | None = None) -> Activation:
    """Make ``span`` current in this task/thread, in ``parent`` (default: the current
    context); returns what :func:`deactivate` undoes.

    Log lines and error events read the ids from the current OpenTelemetry span (the
    tracing stage registers that provider with the logs stage) only when they are
    written, so a request pays nothing for ids it never logs.
    """
    if _API is None:
        _bind()
    var = _VAR
    if var is None:
        assert _API is not None
        base = parent if parent is not None else _API[2]()
        context = _CONTEXT(base)
        _dict_set(context, _SPAN_KEY, span)
        return _API[0](context)
    context = _CONTEXT(parent if parent is not None else var.get())
    _dict_set(context, _SPAN_KEY, span)
    return var.set(context)


def current_span(context: Context | None = None) -> Any:
    """The span in ``context`` (default: the current context), or None: what
    ``get_current_span`` finds, without its INVALID_SPAN stand-in."""
    if _API is None:
        _bind()
    if context is None:
        var = _VAR
        context = var.get() if var is not None else _API[2]()  # type: ignore[index]
    return context.get(_SPAN_KEY)


def deactivate(activation: Activation) -> None:
    var = _VAR
    if var is None:
        if _API is None:
            _bind()
        assert _API is not None
        _API[1](activation)
        return
    try:
        var.reset(activation)
    except (ValueError, RuntimeError):  # another context's token, or reset twice
        _log.exception("Failed to detach context")
