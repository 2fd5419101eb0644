"""Exemplar slots: where a worker leaves the latest sampled observation of each bucket.

In one process a histogram series keeps its exemplars in a dict. Under pre-fork servers
the scraping worker must see every worker's, so each worker writes them into fixed-size
slots of an mmapped ``<shard>.exemplars`` file (one slot per bucket of a series, written
in place: no syscall per request). A slot is 64 bytes::

    value f64 | timestamp f64 | id length u8 | trace id (32 bytes, ASCII) | crc32 u32 | pad

A reader copies the file while writers keep writing, so a slot may be half old, half
new: the checksum over the first 49 bytes catches that, and the slot is skipped (or read
again). An untouched slot is all zeros: its length byte is 0.
"""

from __future__ import annotations

import mmap
import os
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Protocol

__all__ = [
    "SLOT_BYTES",
    "Exemplar",
    "ExemplarPages",
    "ExemplarSink",
    "RunCache",
    "ShardExemplars",
    "decode",
    "encode",
    "read_runs",
]

Exemplar = tuple[str, float, float]
"""(trace id, observed value, unix time of the observation)."""

SLOT_BYTES = 64
MAX_ID_BYTES = 32  # a W3C trace id: 32 lowercase hex characters
_PAYLOAD = struct.Struct(f"<ddB{MAX_ID_BYTES}s")
_SLOT = struct.Struct(f"<{_PAYLOAD.size}sI")
_LENGTH_AT = 16


class ExemplarSink(Protocol):
    """A series' exemplars by bucket index: a plain dict in memory, slots in a shard."""

    def __setitem__(self, bucket: int, exemplar: Exemplar) -> None: ...

    def items(self) -> Iterable[tuple[int, Exemplar]]: ...


def encode(exemplar: Exemplar) -> bytes | None:
    """A slot's bytes, or None when the trace id does not fit a slot."""
    trace_id, value, at = exemplar
    raw = trace_id.encode()
    if not 0 < len(raw) <= MAX_ID_BYTES:
        return None
    payload = _PAYLOAD.pack(value, at, len(raw), raw)
    return _SLOT.pack(payload, zlib.crc32(payload)).ljust(SLOT_BYTES, b"\0")


def decode(data: bytes | mmap.mmap, offset: int) -> Exemplar | None:
    """The exemplar in the slot at ``offset``, or None if empty, torn or corrupt."""
    if offset + SLOT_BYTES > len(data) or not data[offset + _LENGTH_AT]:
        return None
    payload, crc = _SLOT.unpack_from(data, offset)
    if zlib.crc32(payload) != crc:
        return None
    value, at, length, raw = _PAYLOAD.unpack(payload)
    trace_id = raw[:length]
    # Letters and digits only: safe to render inside a label value without escaping.
    if length > MAX_ID_BYTES or len(trace_id) != length or not trace_id.isalnum():
        return None
    return trace_id.decode("ascii"), value, at


class ShardExemplars:
    """A series' run of slots in an exemplar page, written in place by ``__setitem__``."""

    __slots__ = ("_count", "_offset", "_page")

    def __init__(self, page: mmap.mmap, index: int, count: int) -> None:
        self._page = page
        self._offset = index * SLOT_BYTES
        self._count = count

    def __setitem__(
        self, bucket: int, exemplar: Exemplar,
        _pack: Callable[..., bytes] = _PAYLOAD.pack, _crc: Callable[[bytes], int] = zlib.crc32,
        _into: Callable[..., None] = _SLOT.pack_into,
    ) -> None:
        trace_id, value, at = exemplar
        raw = trace_id.encode()
        if len(raw) > MAX_ID_BYTES or not 0 <= bucket < self._count:
            return
        payload = _pack(value, at, len(raw), raw)
        # One copy into the shared page: no system call on the request path.
        _into(self._page, self._offset + bucket * SLOT_BYTES, payload, _crc(payload))

    def items(self) -> Iterator[tuple[int, Exemplar]]:
        """Read back this worker's own slots (what the in-process snapshot shows)."""
        for bucket in range(self._count):
            found = decode(self._page, self._offset + bucket * SLOT_BYTES)
            if found is not None:
                yield bucket, found


class ExemplarPages:
    """Pages of slots mmapped from ``path``; runs are handed out in order, never moved."""

    def __init__(self, path: str, page_slots: int) -> None:
        self.path = path
        self.page_slots = page_slots
        self._page_bytes = page_slots * SLOT_BYTES
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        self._maps: list[mmap.mmap] = []
        self._used = page_slots  # forces a first page on first allocation

    def take(self, count: int) -> tuple[mmap.mmap, int, int]:
        """(page, index in it, slot number in the file) of ``count`` fresh slots; the
        caller holds the store's lock."""
        if count > self.page_slots:
            raise ValueError(f"a series needs {count} exemplar slots; at most "
                             f"{self.page_slots} fit a page")
        if self._used + count > self.page_slots:
            number = len(self._maps)
            os.ftruncate(self._fd, (number + 1) * self._page_bytes)
            self._maps.append(mmap.mmap(self._fd, self._page_bytes,
                                        offset=number * self._page_bytes))
            self._used = 0
        index = self._used
        self._used += count
        return self._maps[-1], index, (len(self._maps) - 1) * self.page_slots + index

    def detach(self) -> None:
        os.close(self._fd)

    def close(self) -> None:
        for mapped in self._maps:
            mapped.close()
        os.close(self._fd)


RunCache = dict[int, tuple[bytes, dict[int, Exemplar]]]
"""A reader's last bytes and decoding of each run: an unchanged run is not decoded again."""


def read_runs(path: str, runs: Mapping[int, tuple[int, int]], cache: RunCache | None = None,
              ) -> dict[int, dict[int, Exemplar]]:
    """Decode ``runs`` ({key: (first slot, count)}) from an exemplar file, by key and
    bucket. A run with a slot torn by a concurrent write is read once more; what is still
    torn then is skipped."""
    out: dict[int, dict[int, Exemplar]] = {}
    cache = {} if cache is None else cache
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return out
    try:
        data = _read_all(fd)
        for key, (first, count) in runs.items():
            start = first * SLOT_BYTES
            raw = data[start : start + count * SLOT_BYTES]
            seen = cache.get(key)
            if seen is not None and seen[0] == raw:
                marks = seen[1]
            else:
                marks, torn = _decode_run(raw)
                if torn:  # the writer was mid-copy: one fresh look
                    raw = os.pread(fd, count * SLOT_BYTES, start)
                    marks, torn = _decode_run(raw)
                if not torn:
                    cache[key] = (raw, marks)
            if marks:
                out[key] = marks
    except OSError:
        pass
    finally:
        os.close(fd)
    return out


def _decode_run(raw: bytes) -> tuple[dict[int, Exemplar], bool]:
    """The exemplars of a run's slots by bucket, and whether any slot failed its check."""
    marks: dict[int, Exemplar] = {}
    torn = False
    for bucket, offset in enumerate(range(0, len(raw) - SLOT_BYTES + 1, SLOT_BYTES)):
        if raw[offset + _LENGTH_AT]:
            found = decode(raw, offset)
            if found is None:
                torn = True
            else:
                marks[bucket] = found
    return marks, torn


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)
