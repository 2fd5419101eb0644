"""The one interface silences and inhibition share."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

__all__ = ["Muter"]


class Muter(Protocol):
    """Says whether an alert with these labels is muted at ``now``."""

    def mutes(self, labels: Mapping[str, str], now: datetime) -> bool: ...
