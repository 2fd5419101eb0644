"""Fingerprints: which events are the same problem.

An exception's fingerprint is its type plus the (module, function) of its in-app frames,
so it survives line-number drift, varying messages, ids and memory addresses. Without
in-app frames the library frames stand in. A message's fingerprint is its text with
numbers, hex, UUIDs and quoted values replaced by placeholders.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

__all__ = ["exception_fingerprint", "message_fingerprint", "normalise_message"]

_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{12}\b")
_HEX = re.compile(r"\b0x[0-9a-fA-F]+\b|\b[0-9a-fA-F]{12,}\b")
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")
_QUOTED = re.compile(r"'[^']{0,200}'|\"[^\"]{0,200}\"")


def normalise_message(text: str) -> str:
    """``text`` with the parts that vary between occurrences replaced."""
    text = _UUID.sub("<uuid>", text)
    text = _HEX.sub("<hex>", text)
    text = _QUOTED.sub("<str>", text)
    return _NUMBER.sub("<n>", text)


def _digest(parts: Sequence[str]) -> str:
    return hashlib.sha1("\x1f".join(parts).encode("utf-8", "replace"),
                        usedforsecurity=False).hexdigest()[:16]


def exception_fingerprint(type_name: str, frames: Sequence[dict[str, Any]]) -> str:
    """The fingerprint of an exception of ``type_name`` raised through ``frames``."""
    chosen = [f for f in frames if f.get("in_app")] or list(frames)
    return _digest([type_name, *(f"{f['module']}:{f['function']}" for f in chosen)])


def message_fingerprint(message: str, level: str) -> str:
    """The fingerprint of a captured message."""
    return _digest(["message", level, normalise_message(message)])
