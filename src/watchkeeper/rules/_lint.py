"""``promtool check rules``' duplicate-rule lint: same name and labels defined twice."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from ._model import RuleGroup

__all__ = ["duplicate_rules"]


def duplicate_rules(groups: Sequence[RuleGroup]) -> str:
    """promtool's lint message, or ``""`` when no rule (name + labels) appears twice."""
    keys = sorted((r.name, tuple(sorted(r.labels.items()))) for g in groups for r in g.rules)
    dups: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    for prev, cur in itertools.pairwise(keys):
        if prev == cur and (not dups or dups[-1] != cur):
            dups.append(cur)
    if not dups:
        return ""
    text = f"lint error {len(dups)} duplicate rule(s) found.\n"
    for name, labels in dups:
        text += f"Metric: {name}\nLabel(s):\n"
        text += "".join(f"\t{k}: {v}\n" for k, v in labels)
    return text + "Might cause inconsistency while recording expressions"
