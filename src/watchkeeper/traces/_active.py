"""Making a span current: the OpenTelemetry context and the log-correlation contextvars.

Every watchkeeper span (server, client, ``span``, ``traced``) becomes current through
:func:`activate`, so log lines and error events inside it carry its trace and span ids
(the contract in ``watchkeeper.logs._context``).
"""

from __future__ import annotations

from contextvars import Token
from typing import TYPE_CHECKING, Any

from ..logs import _context

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span

__all__ = ["Activation", "activate", "deactivate", "hex_ids"]

Activation = tuple[Any, Token[str | None] | None, Token[str | None] | None]


def hex_ids(span: Span) -> tuple[str, str] | None:
    """(trace id, span id) in W3C hex form, or None for an invalid span."""
    ctx = span.get_span_context()
    if not ctx.trace_id:
        return None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


def _otel() -> tuple[Any, Any, Any]:
    # Bound once on first use: a per-call ``from ... import`` costs more than the call.
    global _ATTACH, _DETACH, _SET_SPAN
    from opentelemetry.context import attach, detach
    from opentelemetry.trace import set_span_in_context

    _ATTACH, _DETACH, _SET_SPAN = attach, detach, set_span_in_context
    return attach, detach, set_span_in_context


_ATTACH: Any = None
_DETACH: Any = None
_SET_SPAN: Any = None
_TRACE_ID = _context.trace_id
_SPAN_ID = _context.span_id


def activate(span: Span, parent: Context | None = None) -> Activation:
    """Make ``span`` current in this task/thread; returns what :func:`deactivate` undoes."""
    attach, set_span = _ATTACH, _SET_SPAN
    if attach is None:
        attach, _, set_span = _otel()
    token = attach(set_span(span, parent))
    ctx = span.get_span_context()
    if not ctx.trace_id:
        return token, None, None
    return (token, _TRACE_ID.set(format(ctx.trace_id, "032x")),
            _SPAN_ID.set(format(ctx.span_id, "016x")))


def deactivate(activation: Activation) -> None:
    token, trace_token, span_token = activation
    try:
        if span_token is not None:
            _SPAN_ID.reset(span_token)
        if trace_token is not None:
            _TRACE_ID.reset(trace_token)
    except ValueError:
        # Created in another context (a generator resumed elsewhere): nothing to undo here.
        pass
    detach = _DETACH
    if detach is None:
        _, detach, _ = _otel()
    detach(token)
