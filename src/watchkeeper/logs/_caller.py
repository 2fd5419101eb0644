"""A faster ``logging.Logger.findCaller`` with the same answers.

The stdlib walks the stack and, for every frame of every record, normalises the file
name to decide whether the frame belongs to ``logging`` itself; that is about a third of
a stdlib record's cost. This version remembers the decision per code object. It is
installed while the pipeline is configured and removed by ``reset()``; records asking
for ``stack_info`` use the original.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from types import CodeType
from typing import Any

__all__ = ["install", "uninstall"]

_original: Callable[..., Any] | None = None
_internal: dict[CodeType, bool] = {}
_is_internal: Callable[[Any], bool] | None = getattr(logging, "_is_internal_frame", None)


def _find_caller(self: logging.Logger, stack_info: bool = False,
                 stacklevel: int = 1) -> tuple[str, int, str, str | None]:
    if stack_info or _is_internal is None:
        assert _original is not None
        result: tuple[str, int, str, str | None] = _original(self, stack_info, stacklevel)
        return result
    frame = sys._getframe(1)
    while stacklevel > 0:
        previous = frame.f_back
        if previous is None:
            break
        frame = previous
        code = frame.f_code
        internal = _internal.get(code)
        if internal is None:
            internal = _is_internal(frame)
            if len(_internal) < 50_000:
                _internal[code] = internal
        if not internal:
            stacklevel -= 1
    code = frame.f_code
    return code.co_filename, frame.f_lineno, code.co_name, None


def install() -> None:
    global _original
    if _original is None and _is_internal is not None:
        _original = logging.Logger.findCaller
        logging.Logger.findCaller = _find_caller  # type: ignore[method-assign]


def uninstall() -> None:
    global _original
    if _original is not None:
        logging.Logger.findCaller = _original  # type: ignore[method-assign]
        _original = None
