"""``span`` and ``traced``: custom spans for blocks and functions of every kind.

Spans come from watchkeeper's tracer, become current (so nested spans, log lines and
error events link to them), record an escaping exception and end on exit. Without
tracing configured they cost a function call and return a do-nothing span.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ._active import Activation, activate, deactivate
from ._setup import current

if TYPE_CHECKING:
    from opentelemetry.trace import Span

__all__ = ["NoSpan", "span", "traced"]

F = TypeVar("F", bound=Callable[..., Any])
_SIMPLE = (str, bool, int, float)


class NoSpan:
    """What :func:`span` yields when tracing is off: accepts every call, records nothing."""

    def set_attribute(self, key: str, value: Any) -> None: ...
    def set_attributes(self, attributes: Mapping[str, Any]) -> None: ...
    def add_event(self, name: str, attributes: Mapping[str, Any] | None = None) -> None: ...
    def record_exception(self, exception: BaseException, **kwargs: Any) -> None: ...
    def set_status(self, *args: Any, **kwargs: Any) -> None: ...
    def update_name(self, name: str) -> None: ...

    def is_recording(self) -> bool:
        return False


NO_SPAN = NoSpan()


def clean_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Attribute values OpenTelemetry accepts: scalars and sequences stay, the rest
    becomes ``str`` (redaction happens on export)."""
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        if value is None:
            continue
        if isinstance(value, _SIMPLE):
            out[key] = value
        elif isinstance(value, list | tuple) and all(isinstance(v, _SIMPLE) for v in value):
            out[key] = list(value)
        else:
            out[key] = str(value)
    return out


class span:  # used like a function: ``with watchkeeper.span("x") as s``
    """A span around a block, current inside it.

    Args:
        name: the span name (low cardinality: ``charge card``, not ``charge card 1234``).
        kind: an ``opentelemetry.trace.SpanKind`` (default INTERNAL).
        **attributes: span attributes; values other than str/bool/int/float (or lists of
            them) are stored as ``str``.

    Example::

        with watchkeeper.span("charge", order_id=order.id) as s:
            s.set_attribute("amount", 12.5)
    """

    __slots__ = ("_activation", "_attributes", "_kind", "_name", "_span")

    def __init__(self, name: str, *, kind: Any = None, **attributes: Any) -> None:
        self._name = name
        self._kind = kind
        self._attributes = attributes
        self._span: Any = NO_SPAN
        self._activation: Activation | None = None

    def __enter__(self) -> Span:
        state = current()
        if state is None:
            return cast("Span", NO_SPAN)
        attrs = clean_attributes(self._attributes) if self._attributes else None
        if self._kind is None:
            s = state.tracer.start_span(self._name, attributes=attrs)
        else:
            s = state.tracer.start_span(self._name, kind=self._kind, attributes=attrs)
        self._span = s
        self._activation = activate(s)
        return s

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        s = self._span
        if s is NO_SPAN:
            return
        try:
            if exc is not None and s.is_recording():
                record_error(s, exc)
            s.end()
        finally:
            if self._activation is not None:
                deactivate(self._activation)
                self._activation = None


def record_error(s: Any, exc: BaseException) -> None:
    from opentelemetry.trace import Status, StatusCode

    s.record_exception(exc)
    s.set_attribute("error.type", type(exc).__qualname__)
    s.set_status(Status(StatusCode.ERROR, type(exc).__qualname__))


def traced(func: F | None = None, *, name: str | None = None,
           attributes: Mapping[str, Any] | None = None) -> Any:
    """Decorate a function (sync, async, generator or async generator) to run in a span.

    For generators the span covers the whole iteration and is current only while the
    generator body runs, never in the consumer between items.

    Example::

        @watchkeeper.traced
        def price(order): ...

        @watchkeeper.traced(name="fetch rates", attributes={"provider": "ecb"})
        async def rates(): ...
    """
    def decorate(fn: F) -> F:
        span_name = name or fn.__qualname__
        attrs = dict(attributes or {})
        attrs.setdefault("code.function", fn.__qualname__)
        attrs.setdefault("code.namespace", fn.__module__)
        if inspect.isasyncgenfunction(fn):
            return cast(F, _async_gen(fn, span_name, attrs))
        if inspect.isgeneratorfunction(fn):
            return cast(F, _gen(fn, span_name, attrs))
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with span(span_name, **attrs):
                    return await fn(*args, **kwargs)

            return cast(F, run_async)

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with span(span_name, **attrs):
                return fn(*args, **kwargs)

        return cast(F, run)

    return decorate(func) if func is not None else decorate


class _Detached:
    """A started span that is made current only around each resumption of a generator."""

    def __init__(self, name: str, attrs: Mapping[str, Any]) -> None:
        state = current()
        self.span: Any = NO_SPAN if state is None else \
            state.tracer.start_span(name, attributes=clean_attributes(attrs))
        self.parent: Any = None

    def enter(self) -> Activation | None:
        return None if self.span is NO_SPAN else activate(self.span)

    def end(self, exc: BaseException | None) -> None:
        if self.span is NO_SPAN:
            return
        if exc is not None and not isinstance(exc, GeneratorExit) and self.span.is_recording():
            record_error(self.span, exc)
        self.span.end()


def _gen(fn: Callable[..., Generator[Any, Any, Any]], name: str, attrs: Mapping[str, Any]) -> Any:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        detached = _Detached(name, attrs)
        failure: BaseException | None = None
        try:
            activation = detached.enter()
            try:
                gen = fn(*args, **kwargs)
            finally:
                if activation is not None:
                    deactivate(activation)
            throw: BaseException | None = None
            sent: Any = None
            while True:
                activation = detached.enter()
                try:
                    value = gen.throw(throw) if throw is not None else gen.send(sent)
                except StopIteration as stop:
                    return stop.value
                finally:
                    if activation is not None:
                        deactivate(activation)
                throw = None
                try:
                    sent = yield value
                except GeneratorExit:
                    gen.close()
                    raise
                except BaseException as exc:
                    throw = exc
        except BaseException as exc:
            failure = exc
            raise
        finally:
            detached.end(failure)

    return wrapper


def _async_gen(fn: Callable[..., AsyncGenerator[Any, Any]], name: str,
               attrs: Mapping[str, Any]) -> Any:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        detached = _Detached(name, attrs)
        failure: BaseException | None = None
        try:
            agen: Any = fn(*args, **kwargs)
            throw: BaseException | None = None
            sent: Any = None
            while True:
                activation = detached.enter()
                try:
                    value = await (agen.athrow(throw) if throw is not None
                                   else agen.asend(sent))
                except StopAsyncIteration:
                    return
                finally:
                    if activation is not None:
                        deactivate(activation)
                throw = None
                try:
                    sent = yield value
                except GeneratorExit:
                    await agen.aclose()
                    raise
                except BaseException as exc:
                    throw = exc
        except BaseException as exc:
            failure = exc
            raise
        finally:
            detached.end(failure)

    return wrapper
