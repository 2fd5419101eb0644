"""Alert state on disk, so a restart keeps pending/firing alerts and what was sent.

Prometheus restores only ``for`` progress from ``ALERTS_FOR_STATE`` (``_restore``, used
when there is no state file); with a ``state_dir`` we persist the whole state (including
firing time and last send) in ``<state_dir>/rules-state.json`` so a restart neither
re-waits ``for`` nor re-sends what was already sent.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from ._alert import fingerprint
from ._alerting import ActiveAlert, AlertState
from ._group import GroupEvaluator

__all__ = ["STATE_FILE", "load_state", "save_state"]

STATE_FILE = "rules-state.json"
_FIELDS = ("active_at", "value", "fired_at", "resolved_at", "last_sent_at", "valid_until",
           "keep_firing_since")


def _encode(a: ActiveAlert) -> dict[str, Any]:
    out: dict[str, Any] = {"labels": a.labels, "annotations": a.annotations,
                           "state": str(a.state)}
    for name in _FIELDS:
        value = getattr(a, name)
        out[name] = None if value is None or math.isnan(value) else value  # NaN is not JSON
    return out


def save_state(state_dir: Path, groups: list[GroupEvaluator]) -> None:
    """Write every group's alerts atomically (temp file + rename)."""
    data: dict[str, Any] = {}
    for g in groups:
        rules = {}
        for r in g.alerting_rules():
            rules[r.name] = [_encode(a) for a in r.active.values()]
        data[g.group.key] = rules
    state_dir.mkdir(parents=True, exist_ok=True)
    tmp = state_dir / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, state_dir / STATE_FILE)


def _opt(value: Any) -> Any:
    return None if value is None else float(value)


def load_state(state_dir: Path, groups: list[GroupEvaluator]) -> int:
    """Restore alerts of rules that still exist (same group key and name); returns count."""
    path = state_dir / STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return 0
    except (OSError, ValueError):
        return 0  # a torn or foreign file: start clean rather than refuse to run
    restored = 0
    for g in groups:
        rules = data.get(g.group.key, {})
        for r in g.alerting_rules():
            for item in rules.get(r.name, []):
                a = ActiveAlert(dict(item["labels"]), dict(item["annotations"]),
                                AlertState[item["state"].upper()],
                                **{k: _opt(item.get(k)) for k in _FIELDS}, rule=r.name)
                if a.value is None:
                    a.value = math.nan
                r.active[fingerprint(a.labels)] = a
                restored += 1
    return restored
