"""Making a span current in the OpenTelemetry context.

Every watchkeeper span (server, client, ``span``, ``traced``) becomes current through
:func:`activate`, so log lines and error events inside it carry its trace and span ids
(read through the provider in ``watchkeeper.logs._context``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span

__all__ = ["Activation", "activate", "deactivate", "hex_ids"]

Activation = Any
"""The OpenTelemetry context token to detach."""


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


def activate(span: Span, parent: Context | None = None) -> Activation:
    """Make ``span`` current in this task/thread; returns what :func:`deactivate` undoes.

    Log lines and error events read the ids from the current OpenTelemetry span (the
    tracing stage registers that provider with the logs stage) only when they are
    written, so a request pays nothing for ids it never logs.
    """
    attach, set_span = _ATTACH, _SET_SPAN
    if attach is None:
        attach, _, set_span = _otel()
    return attach(set_span(span, parent))


def deactivate(activation: Activation) -> None:
    detach = _DETACH
    if detach is None:
        _, detach, _ = _otel()
    detach(activation)
