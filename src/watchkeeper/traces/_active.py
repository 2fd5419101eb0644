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


def activate(span: Span, parent: Context | None = None) -> Activation:
    """Make ``span`` current in this task/thread; returns what :func:`deactivate` undoes."""
    from opentelemetry.context import attach
    from opentelemetry.trace import set_span_in_context

    token = attach(set_span_in_context(span, parent))
    ids = hex_ids(span)
    if ids is None:
        return token, None, None
    return token, _context.trace_id.set(ids[0]), _context.span_id.set(ids[1])


def deactivate(activation: Activation) -> None:
    from opentelemetry.context import detach

    token, trace_token, span_token = activation
    try:
        if span_token is not None:
            _context.span_id.reset(span_token)
        if trace_token is not None:
            _context.trace_id.reset(trace_token)
    except ValueError:
        # Created in another context (a generator resumed elsewhere): nothing to undo here.
        pass
    detach(token)
