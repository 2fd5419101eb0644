"""The pipeline every record goes through: build, redact, encode once, fan out to sinks.

Both front doors (the native :class:`~watchkeeper.logs.Logger` and the stdlib bridge)
call :meth:`Pipeline.emit`; it is thread-safe without a lock of its own (sinks guard
their own state), and it never raises into the caller.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from types import FrameType, TracebackType
from typing import Any, Protocol, TypeAlias

from . import _context
from ._format import FIELD_SETS, _clock, json_line, static_tail
from ._redact import Redactor

__all__ = ["HTTP", "Entry", "ExcInfo", "Pipeline", "Sink", "level_name"]

HTTP = 15
"""The access-log level, between DEBUG and INFO."""

ExcInfo: TypeAlias = tuple[type[BaseException], BaseException, TracebackType | None]

_LEVEL_NAMES = {50: "CRITICAL", 40: "ERROR", 30: "WARNING", 20: "INFO", HTTP: "HTTP",
                10: "DEBUG", 0: "NOTSET"}
_SECRET = "\x00sensitive"
"""Plan marker: the field's value is replaced (compared by identity)."""
_CORE = ("timestamp", "level", "message", "logger", "service", "version", "environment",
         "host", "pid", "module", "function", "line", "request_id", "trace_id", "span_id",
         "exception")


def level_name(level: int) -> str:
    return _LEVEL_NAMES.get(level) or logging.getLevelName(level)


class Entry:
    """One record on its way to the sinks; the JSON line is encoded at most once.

    The pipeline passes the line it already encoded; ``record`` is the whole record as a
    dict (the per-record fields plus the pipeline's static fields), built only when a
    sink asks for it (console lines, OTLP attributes).
    """

    __slots__ = ("_line", "_static", "fields", "level", "message", "time")

    def __init__(self, level: int, when: float, record: dict[str, Any], message: str,  # noqa: PLR0917
                 line: bytes | None = None, static: Mapping[str, Any] | None = None) -> None:
        self.level = level
        self.time = when
        self.fields = record
        self.message = message
        self._line = line
        self._static = static

    @property
    def record(self) -> dict[str, Any]:
        static = self._static
        return self.fields if not static else {**self.fields, **static}

    @property
    def line(self) -> bytes:
        line = self._line
        if line is None:
            line = self._line = json_line(self.record)
        return line


class Sink(Protocol):
    """Where entries go. ``write`` must be cheap and must not block on I/O that can hang."""

    name: str
    min_level: int

    def write(self, entry: Entry) -> None: ...

    def flush(self) -> None: ...

    def close(self, timeout: float) -> None: ...


Observer: TypeAlias = Callable[[int, str, float], None]


class Pipeline:
    """Build records, redact them, and hand them to the sinks.

    Args:
        static: service identity fields added to every record (service, version, ...).
        redactor: applied to message, fields, bound context and exception text; None
            turns redaction off.
        names: canonical field name -> output name (ECS/OTel mappings or custom).
        max_message: messages and string fields longer than this are cut with a marker.
        caller: add module/function/line from the caller's frame.
        sinks: where entries go, each with its own minimum level.
        observers: called with (level, message template, time) per record (stats,
            pattern mining); must be cheap.
    """

    def __init__(
        self,
        *,
        static: Mapping[str, Any],
        redactor: Redactor | None,
        names: Mapping[str, str] | None = None,
        max_message: int = 16_384,
        caller: bool = True,
        sinks: Sequence[Sink] = (),
        observers: Sequence[Observer] = (),
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        mapping = {k: k for k in _CORE}
        mapping.update(names or {})
        self.k = mapping
        self._k_ts, self._k_level, self._k_msg, self._k_logger = (
            mapping["timestamp"], mapping["level"], mapping["message"], mapping["logger"])
        self._k_module, self._k_function, self._k_line = (
            mapping["module"], mapping["function"], mapping["line"])
        self._k_rid, self._k_tid, self._k_sid, self._k_exc = (
            mapping["request_id"], mapping["trace_id"], mapping["span_id"], mapping["exception"])
        self._static = {mapping.get(k, k): v for k, v in static.items()}
        # The record's own field names: a user field of the same name gets a "_" suffix,
        # so a line never has a key twice (the static fields are spliced in as bytes).
        self._reserved = frozenset(mapping.values()) | frozenset(self._static)
        self._tail = static_tail(self._static)
        # Field key -> output key ("" for a sensitive key, whose value is replaced): one
        # dict lookup per field instead of a redaction check, a rename and a reserved check.
        self._plan: dict[str, str] = {}
        self._schemas: dict[tuple[Any, ...], bool] = {}
        self.redactor = redactor
        self.max_message = max_message
        self.caller = caller
        self.sinks: list[Sink] = list(sinks)
        self.observers: list[Observer] = list(observers)
        self._on_error = on_error
        # (bound mapping, its redacted copy) in one attribute, so threads swap it atomically.
        self._ctx_cache: tuple[Mapping[str, Any] | None, dict[str, Any]] = (None, {})

    @classmethod
    def field_names(cls, scheme: str, renames: Mapping[str, str]) -> dict[str, str]:
        return {**FIELD_SETS.get(scheme, {}), **renames}

    def refresh_pid(self) -> None:
        """After fork: the child's pid."""
        self._static[self.k.get("pid", "pid")] = os.getpid()
        self._tail = static_tail(self._static)

    # -- the hot path ------------------------------------------------------------------
    def emit(
        self,
        level: int,
        logger: str,
        message: str,
        fields: Mapping[str, Any] | None,
        *,
        when: float | None = None,
        exc_info: ExcInfo | None = None,
        frame: FrameType | None = None,
        origin: tuple[str, str, int] | None = None,
        template: str | None = None,
        level_text: str | None = None,
    ) -> None:
        try:
            self._emit(level, logger, message, fields, when, exc_info, frame, origin,
                       template, level_text)
        except Exception:
            self.failed("logs.pipeline")

    def failed(self, component: str) -> None:
        """Count an internal failure (the app never sees it)."""
        if self._on_error is not None:
            with contextlib.suppress(Exception):
                self._on_error(component)

    def _emit(  # noqa: PLR0917 - positional on purpose: this is the hot path
        self,
        level: int,
        logger: str,
        message: str,
        fields: Mapping[str, Any] | None,
        when: float | None,
        exc_info: ExcInfo | None,
        frame: FrameType | None,
        origin: tuple[str, str, int] | None,
        template: str | None,
        level_text: str | None,
    ) -> None:
        now = time.time() if when is None else when
        red = self.redactor
        if type(message) is not str:
            message = str(message)
        if len(message) > self.max_message:
            message = _truncate(message, self.max_message)
        if red is None or len(message) < 8:
            shown = message
        else:
            shown = red._str_cache.get(message) or red.redact_str(message)
        clock = _clock
        record: dict[str, Any] = {
            # Busy loggers write many lines per millisecond: the cached string, no call.
            self._k_ts: clock.last if int(now * 1000) == clock.millis else clock.format(now),
            self._k_level: level_text or _LEVEL_NAMES.get(level) or level_name(level),
            self._k_msg: shown,
            self._k_logger: logger,
        }
        if frame is not None:
            record[self._k_module] = frame.f_globals.get("__name__", "?")
            record[self._k_function] = frame.f_code.co_name
            record[self._k_line] = frame.f_lineno
        elif origin is not None:
            record[self._k_module], record[self._k_function], record[self._k_line] = origin
        rid = _context.request_id.get()
        if rid is not None:
            record[self._k_rid] = rid
        tid = _context.trace_id.get()
        if tid is not None:
            record[self._k_tid] = tid
            sid = _context.span_id.get()
            if sid is not None:
                record[self._k_sid] = sid
        elif _context.providers.trace is not None:
            ids = _context.providers.trace()
            if ids is not None:
                record[self._k_tid], record[self._k_sid] = ids
        ctx = _context._bound.get()
        if ctx:
            cached = self._ctx_cache
            if cached[0] is ctx:
                record.update(cached[1])
            else:
                # Bound mappings are immutable snapshots: redact each one once.
                out = self._fields(ctx, {})
                self._ctx_cache = (ctx, out)
                record.update(out)
        if fields:
            self._fields(fields, record)
        if exc_info is not None:
            record[self._k_exc] = self._exception(exc_info)
        if template is not None and template is not message:
            template = red.redact_str(template) if red is not None else template
        entry = Entry(level, now, record, template or shown, json_line(record, self._tail),
                      self._static)
        for sink in self.sinks:
            if level >= sink.min_level:
                try:
                    sink.write(entry)
                except Exception:
                    if self._on_error is not None:
                        self._on_error(f"logs.sink.{sink.name}")
        for observe in self.observers:
            observe(level, entry.message, now)

    def _fields(self, fields: Mapping[str, Any], out: dict[str, Any]) -> dict[str, Any]:
        """Redacted, truncated ``fields`` written into ``out``; keys that name one of the
        record's own fields get a ``_`` suffix."""
        red = self.redactor
        cap = self.max_message
        plan = self._plan
        if red is None:
            for raw_key, value in fields.items():
                key = plan.get(raw_key) if type(raw_key) is str else None
                if key is None:
                    key = self._plan_key(raw_key)
                out[key] = _truncate(value, cap) if type(value) is str else value
            return out
        str_cache = red._str_cache
        # Most calls repeat a key set (one call site, one schema): when every key is
        # written as is, copy the dict in C and look only at values that may hold secrets.
        keys = tuple(fields)
        plain = self._schemas.get(keys)
        if plain is None:
            plain = self._schema(keys)
        if plain:
            out.update(fields)
            for key, value in fields.items():
                kind = type(value)
                if kind is str:
                    if len(value) >= 8:
                        hit = str_cache.get(value)
                        if hit is None:
                            hit = red.redact_str(_truncate(value, cap))
                        if hit is not value:
                            out[key] = hit
                elif kind is int:
                    if value > 10**12:
                        out[key] = red._walk(value, 1, set())
                elif kind is not float and kind is not bool and value is not None:
                    out[key] = red._walk(value, 1, set())
            return out
        for raw_key, value in fields.items():
            key = plan.get(raw_key) if type(raw_key) is str else None
            if key is None:
                key = self._plan_key(raw_key)
            if key is _SECRET:  # sensitive: the value never reaches the line
                out[self._secret_name(raw_key)] = red.replacement
                continue
            kind = type(value)
            if kind is str:
                # Short strings cannot hold a secret shape (redact_str skips them too).
                if len(value) >= 8:
                    hit = str_cache.get(value)
                    out[key] = hit if hit is not None else red.redact_str(_truncate(value, cap))
                else:
                    out[key] = value
            elif kind is int:
                out[key] = red._walk(value, 1, set()) if value > 10**12 else value
            elif kind is float or kind is bool or value is None:
                out[key] = value
            else:
                out[key] = red._walk(value, 1, set())
        return out

    def _plan_key(self, raw_key: object) -> str:
        """The output key for a field key, or :data:`_SECRET` when its value is replaced."""
        key = raw_key if type(raw_key) is str else _safe_key(raw_key)
        red = self.redactor
        if red is not None and red.is_sensitive_key(key):
            out = _SECRET
        else:
            out = key + "_" if key in self._reserved else key
        if type(raw_key) is str:
            plan = self._plan
            if len(plan) >= 8192:
                plan.clear()
            plan[raw_key] = out
        return out

    def _schema(self, keys: tuple[Any, ...]) -> bool:
        """Whether every key of this key set is written unchanged (str, not reserved, not
        sensitive); remembered per key set."""
        plain = all(type(k) is str and (self._plan.get(k) or self._plan_key(k)) == k
                    for k in keys)
        schemas = self._schemas
        if len(schemas) >= 2048:
            schemas.clear()
        schemas[keys] = plain
        return plain

    def _secret_name(self, raw_key: object) -> str:
        key = raw_key if type(raw_key) is str else _safe_key(raw_key)
        return key + "_" if key in self._reserved else key

    def _exception(self, exc_info: ExcInfo) -> dict[str, Any]:
        kind, value, tb = exc_info
        try:
            text = "".join(traceback.format_exception(kind, value, tb))
        except Exception:
            text = "<traceback unavailable>"
        try:
            message = str(value)
        except Exception:
            message = f"<unprintable {kind.__name__}>"
        red = self.redactor
        if red is not None:
            text = red.redact_exception_text(text)
            message = red.redact_exception_text(message)
        module = getattr(kind, "__module__", "")
        name = kind.__qualname__ if module in ("builtins", "") else f"{module}.{kind.__qualname__}"
        return {"type": name, "value": _truncate(message, self.max_message),
                "traceback": _truncate(text, self.max_message * 4)}

    # -- lifecycle ------------------------------------------------------------------------
    def flush(self) -> None:
        for sink in self.sinks:
            try:
                sink.flush()
            except Exception:
                if self._on_error is not None:
                    self._on_error(f"logs.sink.{sink.name}")

    def close(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for sink in self.sinks:
            try:
                sink.close(max(0.0, deadline - time.monotonic()))
            except Exception:
                if self._on_error is not None:
                    self._on_error(f"logs.sink.{sink.name}")


def _safe_key(key: object) -> str:
    try:
        return str(key)
    except Exception:
        return f"<unprintable {type(key).__name__}>"


def _truncate(text: str, cap: int) -> str:
    if len(text) <= cap:
        return text
    return f"{text[:cap]}…[truncated {len(text) - cap} chars]"


def identity(service: str, version: str, environment: str) -> dict[str, Any]:
    """The static fields every record carries."""
    return {"service": service, "version": version, "environment": environment,
            "host": socket.gethostname(), "pid": os.getpid()}


def exc_info_now() -> ExcInfo | None:
    kind, value, tb = sys.exc_info()
    if kind is None or value is None:
        return None
    return kind, value, tb
