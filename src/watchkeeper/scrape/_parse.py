"""Exposition text (Prometheus 0.0.4 or OpenMetrics) to flat samples.

prometheus_client's parsers do the grammar (escapes, exemplars, ``# EOF``); this module
only flattens their families into what Prometheus stores: one sample per line, with the
sample's own name (``_total``, ``_bucket``, ``_created`` …) as ``__name__``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..exceptions import ScrapeError

__all__ = ["ExpositionSample", "parse_exposition"]


@dataclass(frozen=True, slots=True)
class ExpositionSample:
    name: str
    labels: dict[str, str]
    value: float
    timestamp: float | None  # seconds, when the exposition carries one


def parse_exposition(text: str, *, openmetrics: bool | None = None) -> list[ExpositionSample]:
    """Every sample of ``text``; the format is OpenMetrics when it ends in ``# EOF``.

    Raises:
        ScrapeError: naming the problem the parser found.
    """
    if openmetrics is None:
        openmetrics = text.rstrip().endswith("# EOF")
    try:
        if openmetrics:
            from prometheus_client.openmetrics.parser import (
                text_string_to_metric_families as parse_om,
            )

            families = list(parse_om(text))  # type: ignore[no-untyped-call]
        else:
            from prometheus_client.parser import text_string_to_metric_families

            families = list(text_string_to_metric_families(text))
    except (ValueError, TypeError) as exc:
        raise ScrapeError(f"cannot parse exposition: {exc}") from exc
    out: list[ExpositionSample] = []
    for family in families:
        for s in family.samples:
            ts = s.timestamp
            seconds = None if ts is None else float(ts)
            out.append(ExpositionSample(s.name, dict(s.labels), float(s.value), seconds))
    return out
