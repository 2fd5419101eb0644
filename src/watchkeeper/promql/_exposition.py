"""Load Prometheus text exposition / OpenMetrics files (with timestamps) into a TSDB."""

from __future__ import annotations

import math
from pathlib import Path

from ..exceptions import WatchkeeperError
from ..tsdb import TSDB, make_labels

__all__ = ["load_exposition"]


def _value(text: str) -> float:
    low = text.lower()
    if low in ("+inf", "inf"):
        return math.inf
    if low == "-inf":
        return -math.inf
    if low == "nan":
        return math.nan
    return float(text)


def load_exposition(path: str | Path, db: TSDB | None = None, *,
                    default_time_ms: int = 0) -> TSDB:
    """Append every sample of the file; OpenMetrics (``# EOF``) timestamps are seconds.

    Samples are sorted by time per series first, since files group by family, not time.
    """
    from ._testscript import _split_metric

    text = Path(path).read_text(encoding="utf-8")
    openmetrics = any(line.strip() == "# EOF" for line in text.splitlines())
    db = db or TSDB()
    rows: dict[tuple[tuple[str, str], ...], list[tuple[int, float]]] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            labels, rest = _split_metric(line)
            parts = rest.split()
            if "#" in parts:  # exemplar
                parts = parts[: parts.index("#")]
            v = _value(parts[0])
            if len(parts) > 1:
                t = round(float(parts[1]) * 1000) if openmetrics else int(parts[1])
            else:
                t = default_time_ms
        except (ValueError, IndexError, WatchkeeperError) as exc:
            raise WatchkeeperError(f"{path}:{n}: cannot parse sample line: {raw!r}") from exc
        rows.setdefault(make_labels(labels), []).append((t, v))
    app = db.appender()
    for lb, pts in rows.items():
        pts.sort(key=lambda p: p[0])
        last = None
        for t, v in pts:
            if t == last:
                continue
            app.append(lb, t, v)
            last = t
    app.commit()
    return db
