"""Alerts as Alertmanager's API v2 writes and reads them (``POST /api/v2/alerts``).

One shape for the three places alerts cross a process boundary: the forwarder to an
external Alertmanager, the app's own ``POST /api/v2/alerts``, and the spool that carries
pre-fork workers' incidents to the worker running the Alertmanager.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..rules._alert import ZERO_TIME, Alert, format_time, parse_time
from ._matchers import LABEL_NAME_RE

__all__ = ["alerts_from_json", "alerts_to_json"]


def alerts_to_json(alerts: Sequence[Alert]) -> list[dict[str, Any]]:
    """The JSON-able list a ``POST /api/v2/alerts`` body holds."""
    out = []
    for a in alerts:
        item: dict[str, Any] = {"labels": dict(a.labels), "annotations": dict(a.annotations),
                                "generatorURL": a.generator_url}
        if a.starts_at != ZERO_TIME:
            item["startsAt"] = format_time(a.starts_at)
        if a.ends_at is not None and a.ends_at != ZERO_TIME:
            item["endsAt"] = format_time(a.ends_at)
        out.append(item)
    return out


def alerts_from_json(raw: Any) -> list[Alert]:
    """Alerts from a decoded ``POST /api/v2/alerts`` body; ValueError names what is wrong
    (as Alertmanager words it)."""
    if not isinstance(raw, list):
        raise ValueError("body must be a JSON list of alerts")
    alerts = []
    try:
        for item in raw:
            labels = {str(k): str(v) for k, v in (item.get("labels") or {}).items() if v != ""}
            if not labels:
                raise _Invalid("at least one label pair required")
            bad = [k for k in labels if not LABEL_NAME_RE.match(k)]
            if bad:
                raise _Invalid(f"invalid label set: invalid name {bad[0]!r}")
            alerts.append(Alert(
                labels=labels,
                annotations={str(k): str(v) for k, v in (item.get("annotations") or {}).items()},
                starts_at=parse_time(item["startsAt"]) if item.get("startsAt") else ZERO_TIME,
                ends_at=parse_time(item["endsAt"]) if item.get("endsAt") else None,
                generator_url=str(item.get("generatorURL") or ""),
            ))
    except _Invalid:
        raise
    except (AttributeError, TypeError, ValueError) as exc:  # bad shapes and times
        raise ValueError(f"invalid alerts: {exc}") from exc
    return alerts


class _Invalid(ValueError):
    """A problem already worded for the client."""
