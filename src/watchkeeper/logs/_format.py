"""Turning a record (a dict) into bytes: one JSON line, or a human console line.

Encoding never raises into the application: a record orjson refuses (a recursive
structure, a surrogate, an integer beyond 64 bits, an object whose ``__str__`` raises)
is sanitised and encoded again; if even that fails, a minimal line says so.
JSON escapes control characters and newlines, so one record is always one line.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import time
from collections.abc import Mapping
from typing import Any

import orjson

__all__ = ["FIELD_SETS", "console_line", "json_line", "static_tail", "timestamp"]

_NEWLINE = orjson.OPT_APPEND_NEWLINE
_OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS

# Canonical field name -> output name, per naming scheme.
FIELD_SETS: dict[str, dict[str, str]] = {
    "default": {},
    "ecs": {
        "timestamp": "@timestamp", "level": "log.level", "logger": "log.logger",
        "service": "service.name", "version": "service.version",
        "environment": "service.environment", "host": "host.hostname", "pid": "process.pid",
        "module": "log.origin.file.name", "function": "log.origin.function",
        "line": "log.origin.file.line", "request_id": "http.request.id",
        "trace_id": "trace.id", "span_id": "span.id", "exception": "error",
    },
    "otel": {
        "timestamp": "timestamp", "level": "severity_text", "message": "body",
        "logger": "instrumentation_scope.name", "service": "service.name",
        "version": "service.version", "environment": "deployment.environment",
        "host": "host.name", "pid": "process.pid", "module": "code.namespace",
        "function": "code.function", "line": "code.lineno", "exception": "exception",
    },
}


def _default(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, _dt.date | _dt.time):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name, None) for f in dataclasses.fields(value)}
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return dump(mode="json")
        except Exception:
            pass
    try:
        return str(value)
    except Exception:
        return f"<unprintable {type(value).__name__}>"


def json_line(record: Mapping[str, Any], tail: bytes | None = None) -> bytes:
    """``record`` as one newline-terminated JSON line; never raises.

    ``tail`` is a pre-encoded end of the object (``,"service":"shop",...}\n``, see
    :func:`static_tail`): fields that are the same on every line are encoded once, not
    per record. Non-string keys (rare, nested) take the slower second attempt.
    """
    try:
        if tail is None:
            return orjson.dumps(record, default=_default, option=_NEWLINE)
        if record:
            return orjson.dumps(record, default=_default)[:-1] + tail
        return b"{" + tail[1:]
    except Exception:
        pass
    try:
        line = orjson.dumps(record, default=_default, option=_OPTIONS)
    except Exception:
        try:
            line = orjson.dumps(_sanitise(record, 0, set()), default=_default, option=_OPTIONS)
        except Exception as exc:  # pragma: no cover - _sanitise leaves only plain types
            line = orjson.dumps(
                {"level": "ERROR", "message": "<unserialisable log record>", "error": repr(exc)},
                option=_OPTIONS,
            )
    if tail is None:
        return line
    return line[:-2] + tail if len(line) > 3 else b"{" + tail[1:]


def static_tail(static: Mapping[str, Any]) -> bytes:
    """The closing part of every line: the static fields, encoded once."""
    if not static:
        return b"}\n"
    inner = json_line(static)[1:-2]
    return b"," + inner + b"}\n"


def _sanitise(value: Any, depth: int, seen: set[int]) -> Any:
    """Plain JSON types only: strings made valid UTF-8, cycles and depth cut, rest str()."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**64 else str(value)
    if depth > 32:
        return "[max depth]"
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        if id(value) in seen:
            return "[recursion]"
        seen.add(id(value))
        try:
            if isinstance(value, Mapping):
                return {
                    _sanitise(_default(k) if not isinstance(k, str) else k, depth, seen):
                    _sanitise(v, depth + 1, seen)
                    for k, v in value.items()
                }
            return [_sanitise(v, depth + 1, seen) for v in value]
        finally:
            seen.discard(id(value))
    return _sanitise(_default(value), depth + 1, seen)


class _Clock:
    """ISO-8601 UTC with milliseconds: the seconds part formatted once per second, the
    whole string once per millisecond (busy loggers write many lines per millisecond)."""

    __slots__ = ("last", "millis", "prefix", "second")

    def __init__(self) -> None:
        self.second = -1
        self.millis = -1
        self.prefix = ""
        self.last = ""

    def format(self, now: float) -> str:
        millis = int(now * 1000)
        if millis == self.millis:
            return self.last
        second = millis // 1000
        if second != self.second:
            self.prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self.second = second
        text = f"{self.prefix}.{millis - second * 1000:03d}Z"
        self.millis, self.last = millis, text
        return text


_clock = _Clock()


def timestamp(now: float) -> str:
    """``2026-11-22T07:14:03.123Z`` for the epoch time ``now``."""
    return _clock.format(now)


_COLOURS = {"DEBUG": "\x1b[36m", "HTTP": "\x1b[34m", "INFO": "\x1b[32m",
            "WARNING": "\x1b[33m", "ERROR": "\x1b[31m", "CRITICAL": "\x1b[1;31m"}
_RESET = "\x1b[0m"
_SKIP = frozenset({"timestamp", "level", "message", "logger", "service", "version",
                   "environment", "host", "pid", "module", "function", "line", "exception"})


def console_line(record: Mapping[str, Any], *, colour: bool) -> bytes:
    """A human line for development: time, level, logger, message, ``key=value`` pairs."""
    level = str(record.get("level", ""))
    ts = str(record.get("timestamp", ""))[11:23]
    message = _escape(str(record.get("message", "")))
    pairs = " ".join(
        f"{k}={_escape(v if isinstance(v, str) else orjson.dumps(v, default=_default).decode())}"
        for k, v in record.items() if k not in _SKIP
    )
    if colour:
        head = f"\x1b[2m{ts}{_RESET} {_COLOURS.get(level, '')}{level:<8}{_RESET}"
        logger = f"\x1b[2m{record.get('logger', '')}{_RESET}"
    else:
        head = f"{ts} {level:<8}"
        logger = str(record.get("logger", ""))
    text = f"{head} {logger}: {message}" + (f"  {pairs}" if pairs else "") + "\n"
    exc = record.get("exception")
    if isinstance(exc, Mapping) and exc.get("traceback"):
        text += str(exc["traceback"]).rstrip("\n") + "\n"
    return text.encode("utf-8", "replace")


def _escape(text: str) -> str:
    # No log injection on the console either: newlines and control characters are shown
    # escaped, so one record stays one line (tracebacks are printed below on purpose).
    if text.isprintable():
        return text
    return text.encode("unicode_escape").decode("ascii")
