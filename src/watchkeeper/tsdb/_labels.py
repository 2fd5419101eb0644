"""Label sets: sorted, hashable tuples of (name, value) pairs, ``__name__`` included."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from typing import TypeAlias

__all__ = [
    "STALE_NAN",
    "STALE_NAN_BITS",
    "Labels",
    "format_labels",
    "is_stale_nan",
    "make_labels",
]

Labels: TypeAlias = tuple[tuple[str, str], ...]
"""A series identity: pairs sorted by label name, empty values dropped."""

# Prometheus marks a series as gone with this exact NaN payload; ordinary NaN is a value.
STALE_NAN_BITS = 0x7FF0000000000002
STALE_NAN: float = struct.unpack("<d", struct.pack("<Q", STALE_NAN_BITS))[0]


def is_stale_nan(value: float) -> bool:
    """True only for the staleness marker, not for an ordinary NaN."""
    return bool(struct.pack("<d", value) == _STALE_BYTES)


_STALE_BYTES = struct.pack("<Q", STALE_NAN_BITS)


def make_labels(pairs: Mapping[str, str] | Iterable[tuple[str, str]]) -> Labels:
    """Normalise a mapping or pairs into a :data:`Labels` tuple (sorted, no empty values)."""
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    return tuple(sorted((k, v) for k, v in items if v != ""))


def format_labels(labels: Labels) -> str:
    """Render as ``name{a="b"}`` the way Prometheus prints a series."""
    name = ""
    rest = []
    for k, v in labels:
        if k == "__name__":
            name = v
        else:
            rest.append(f"{k}={_quote(v)}")
    if not rest:
        return name if name else "{}"
    return name + "{" + ", ".join(rest) + "}"


def _quote(value: str) -> str:
    out = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{out}"'
