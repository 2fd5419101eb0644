"""The narrow contracts between the store and its readers/writers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from ._labels import Labels
from ._matchers import Matcher
from ._series import SeriesData

__all__ = ["Appender", "Querier", "Storage"]


@runtime_checkable
class Appender(Protocol):
    """Buffers samples; nothing is visible or durable before :meth:`commit` returns."""

    def append(self, labels: Labels, t: int, v: float) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


@runtime_checkable
class Querier(Protocol):
    """Reads series matching all matchers within ``[mint, maxt]`` (ms, inclusive)."""

    def select(self, matchers: Sequence[Matcher], mint: int, maxt: int) -> list[SeriesData]: ...

    def label_names(self, matchers: Sequence[Matcher] = ()) -> list[str]: ...

    def label_values(self, name: str, matchers: Sequence[Matcher] = ()) -> list[str]: ...


class Storage(Protocol):
    """What the query engine needs: a querier (and an appender for writers)."""

    def querier(self) -> Querier: ...

    def appender(self) -> Appender: ...
