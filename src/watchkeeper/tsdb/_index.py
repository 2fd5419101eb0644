"""Inverted index: (label name, value) → series ids, answering matcher sets."""

from __future__ import annotations

from collections.abc import Sequence

from ._labels import Labels
from ._matchers import Matcher, MatchType

__all__ = ["Index"]


class Index:
    """Postings per label pair plus the set of all ids (for negative matchers)."""

    def __init__(self) -> None:
        self.postings: dict[str, dict[str, set[int]]] = {}
        self.all: set[int] = set()

    def add(self, sid: int, labels: Labels) -> None:
        self.all.add(sid)
        for k, v in labels:
            self.postings.setdefault(k, {}).setdefault(v, set()).add(sid)

    def remove(self, sid: int, labels: Labels) -> None:
        self.all.discard(sid)
        for k, v in labels:
            values = self.postings.get(k)
            if values is None:
                continue
            ids = values.get(v)
            if ids is not None:
                ids.discard(sid)
                if not ids:
                    del values[v]
            if not values:
                del self.postings[k]

    def _ids_with_label_matching(self, m: Matcher) -> set[int]:
        """Ids whose value for ``m.name`` is non-empty and satisfies ``m``."""
        values = self.postings.get(m.name, {})
        if m.type is MatchType.EQUAL:
            return set(values.get(m.value, ()))
        out: set[int] = set()
        for v, ids in values.items():
            if m.matches(v):
                out |= ids
        return out

    def select(self, matchers: Sequence[Matcher]) -> set[int]:
        """Ids matching every matcher; matchers accepting "" also match absent labels."""
        # Positive, selective matchers first to keep intersections small.
        ordered = sorted(matchers, key=lambda m: (m.matches_empty(), m.type is not MatchType.EQUAL))
        result: set[int] | None = None
        for m in ordered:
            if m.matches_empty():
                # Series lacking the label match too: all minus those with a failing value.
                values = self.postings.get(m.name, {})
                bad: set[int] = set()
                for v, ids in values.items():
                    if not m.matches(v):
                        bad |= ids
                base = self.all if result is None else result
                result = base - bad
            else:
                ids = self._ids_with_label_matching(m)
                result = ids if result is None else result & ids
            if not result:
                return set()
        return set(self.all) if result is None else result

    def label_names(self, ids: set[int] | None = None) -> list[str]:
        if ids is None:
            return sorted(self.postings)
        return sorted(k for k, vals in self.postings.items()
                      if any(not ids.isdisjoint(s) for s in vals.values()))

    def label_values(self, name: str, ids: set[int] | None = None) -> list[str]:
        vals = self.postings.get(name, {})
        if ids is None:
            return sorted(vals)
        return sorted(v for v, s in vals.items() if not ids.isdisjoint(s))
