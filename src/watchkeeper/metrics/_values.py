"""Where metric values live: pages of doubles, in memory or in a per-process shard file.

Every series owns a few slots in a page (one for a counter or gauge, ``buckets + 2`` for
a histogram). A page is a ``memoryview`` of doubles, so the hot path is one indexed
add. The same code serves one process (pages are bytearrays) and pre-fork servers
(pages are mmapped from a shard file that the scraping worker reads and sums).
"""

from __future__ import annotations

import mmap
import os
import threading
from typing import Any, Protocol, TypeAlias

from ._exemplars import ExemplarPages, ExemplarSink, ShardExemplars

__all__ = ["PAGE_SLOTS", "MemoryStore", "SlotRef", "ValueStore"]

PAGE_SLOTS = 4096  # doubles per page: 32 KiB, a multiple of mmap's allocation granularity
_PAGE_BYTES = PAGE_SLOTS * 8

Page: TypeAlias = Any
"""A ``memoryview`` cast to doubles (typeshed types cast views' items as int)."""

SlotRef = tuple[Page, int, int]
"""A page, the index of a series' first slot in it, and the slot's number in the store."""


class ValueStore(Protocol):
    """Hands out contiguous runs of zeroed slots; never moves a slot once handed out."""

    def allocate(self, count: int, key: bytes) -> SlotRef:
        """Reserve ``count`` adjacent slots described by ``key`` (for shard readers)."""
        ...

    def describe(self, record: bytes) -> None:
        """Record metadata (a family's shape) for readers of a shard."""
        ...

    def exemplars(self, count: int, slot: int) -> ExemplarSink:
        """Where the series whose values start at ``slot`` keeps ``count`` buckets'
        latest exemplars."""
        ...


class _Pages:
    """Slot bookkeeping shared by both stores: pages fill in order, runs never straddle."""

    def __init__(self) -> None:
        self.pages: list[Page] = []
        self.used = PAGE_SLOTS  # forces a first page on first allocation
        self.lock = threading.Lock()

    def take(self, count: int) -> tuple[int, int]:
        """(page number, index) of a run of ``count`` fresh slots."""
        if count > PAGE_SLOTS:
            raise ValueError(f"a series needs {count} slots; at most {PAGE_SLOTS} fit a page")
        if self.used + count > PAGE_SLOTS:
            self.pages.append(self.new_page(len(self.pages)))
            self.used = 0
        index = self.used
        self.used += count
        return len(self.pages) - 1, index

    def new_page(self, number: int) -> Page:
        raise NotImplementedError


class MemoryStore(_Pages):
    """Pages in process memory: the default for a single-process server."""

    def new_page(self, number: int) -> Page:
        return memoryview(bytearray(_PAGE_BYTES)).cast("d")

    def allocate(self, count: int, key: bytes) -> SlotRef:
        with self.lock:
            page, index = self.take(count)
            return self.pages[page], index, page * PAGE_SLOTS + index

    def describe(self, record: bytes) -> None:
        """Nothing reads a memory store from outside."""

    def exemplars(self, count: int, slot: int) -> ExemplarSink:
        return {}


class ShardStore(_Pages):
    """Pages mmapped from ``<dir>/<name>.values`` with a ``.keys`` JSON-lines index, and
    exemplar slots mmapped from ``<name>.exemplars`` (see ``_exemplars``).

    The owner holds an exclusive ``flock`` on the keys file for its whole life; a reader
    that can take the lock knows the writer is gone (robust to pid reuse).
    """

    def __init__(self, directory: str, name: str) -> None:
        super().__init__()
        self.name = name
        self.values_path = os.path.join(directory, f"{name}.values")
        self.keys_path = os.path.join(directory, f"{name}.keys")
        self._values_fd = os.open(self.values_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        # Lock first, then publish under the name readers look for: a reader must never
        # see an unlocked key file of a live writer (it would take the writer for dead).
        hidden = self.keys_path + ".new"
        self._keys_fd = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND,
                                0o600)
        import fcntl

        fcntl.flock(self._keys_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(hidden, self.keys_path)
        self._maps: list[mmap.mmap] = []
        self._exemplars = ExemplarPages(os.path.join(directory, f"{name}.exemplars"),
                                        PAGE_SLOTS)

    def new_page(self, number: int) -> Page:
        os.ftruncate(self._values_fd, (number + 1) * _PAGE_BYTES)
        mapped = mmap.mmap(self._values_fd, _PAGE_BYTES, offset=number * _PAGE_BYTES)
        self._maps.append(mapped)
        return memoryview(mapped).cast("d")

    def allocate(self, count: int, key: bytes) -> SlotRef:
        with self.lock:
            page, index = self.take(count)
            slot = page * PAGE_SLOTS + index
            # One write per record: O_APPEND keeps concurrent lines whole.
            os.write(self._keys_fd, b'{"s":%d,"n":%d,%s}\n' % (slot, count, key))
            return self.pages[page], index, slot

    def describe(self, record: bytes) -> None:
        with self.lock:
            os.write(self._keys_fd, record + b"\n")

    def exemplars(self, count: int, slot: int) -> ExemplarSink:
        with self.lock:
            page, index, first = self._exemplars.take(count)
            # Tied to the series by its value slot, so a removed series' exemplars go too.
            os.write(self._keys_fd, b'{"x":%d,"n":%d,"e":%d}\n' % (first, count, slot))
            return ShardExemplars(page, index, count)

    def detach(self) -> None:
        """In a forked child: drop the inherited descriptors so the parent's lock dies
        with the parent (flock locks belong to the open file, which fork shares)."""
        os.close(self._values_fd)
        os.close(self._keys_fd)
        self._exemplars.detach()

    def close(self) -> None:
        """Release the shard (the files stay: a dead worker's counters still count)."""
        for page in self.pages:
            page.release()
        for mapped in self._maps:
            mapped.close()
        os.close(self._values_fd)
        os.close(self._keys_fd)
        self._exemplars.close()
