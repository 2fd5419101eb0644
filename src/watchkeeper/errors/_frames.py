"""Stack frames of an exception: which are the application's own, their source context
and (redacted) locals."""

from __future__ import annotations

import linecache
import os
import sysconfig
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..logs import Redactor

__all__ = ["InAppRule", "frames_of", "safe_repr"]

_LIBRARY_DIRS = tuple(
    {os.path.realpath(p) for p in (sysconfig.get_paths().get(k) for k in
                                   ("stdlib", "platstdlib", "purelib", "platlib")) if p}
)
_OWN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MAX_REPR = 200
_MAX_LOCALS = 30
_MAX_FRAMES = 100


def safe_repr(value: object, limit: int = _MAX_REPR) -> str:
    """``repr(value)``, bounded, never raising."""
    try:
        text = repr(value)
    except Exception:
        text = f"<unrepresentable {type(value).__qualname__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class InAppRule:
    """Decides whether a frame is the application's code rather than a library's."""

    def __init__(self, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> None:
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        self._cache: dict[tuple[str, str], bool] = {}

    def __call__(self, module: str, filename: str) -> bool:
        key = (module, filename)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._decide(module, filename)
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[key] = hit
        return hit

    def _decide(self, module: str, filename: str) -> bool:
        if self.exclude and module.startswith(self.exclude):
            return False
        if self.include and module.startswith(self.include):
            return True
        if filename.startswith("<"):
            return False
        path = os.path.realpath(filename)
        if path.startswith(_OWN_DIR) or "site-packages" in path or "dist-packages" in path:
            return False
        return not path.startswith(_LIBRARY_DIRS)


def frames_of(tb: TracebackType | None, in_app: InAppRule, context_lines: int,
              redactor: Redactor | None, capture_locals: bool) -> list[dict[str, Any]]:
    """Frames oldest first, as dicts; in-app frames carry source context and locals."""
    out: list[dict[str, Any]] = []
    while tb is not None and len(out) < _MAX_FRAMES:
        frame = tb.tb_frame
        code = frame.f_code
        module = str(frame.f_globals.get("__name__", "?"))
        filename = code.co_filename
        lineno = tb.tb_lineno
        app = in_app(module, filename)
        item: dict[str, Any] = {
            "filename": filename,
            "module": module,
            "function": getattr(code, "co_qualname", code.co_name),
            "lineno": lineno,
            "in_app": app,
        }
        if app and context_lines:
            item.update(_context(filename, lineno, context_lines, frame.f_globals, redactor))
        if app and capture_locals:
            local_vars = {}
            for name, value in list(frame.f_locals.items())[:_MAX_LOCALS]:
                local_vars[name] = safe_repr(value)
            item["locals"] = redactor.redact_mapping(local_vars) if redactor else local_vars
        out.append(item)
        tb = tb.tb_next
    return out


def _context(filename: str, lineno: int, lines: int, module_globals: dict[str, Any],
             redactor: Redactor | None) -> dict[str, Any]:
    linecache.checkcache(filename)

    def line(n: int) -> str:
        text = linecache.getline(filename, n, module_globals).rstrip("\n")
        return redactor.redact_str(text) if redactor else text

    start = max(1, lineno - lines)
    return {
        "pre_context": [line(n) for n in range(start, lineno)],
        "context_line": line(lineno),
        "post_context": [line(n) for n in range(lineno + 1, lineno + lines + 1)],
    }
