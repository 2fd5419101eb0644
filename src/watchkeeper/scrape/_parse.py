"""Exposition text (Prometheus 0.0.4 or OpenMetrics 1.0) to flat samples.

Our own line parser rather than prometheus_client's: a scrape only needs each sample's
series, value and timestamp, and the reference parsers build family objects first
(10k series: 310 ms with the OpenMetrics one, 160 ms with the text one, vs ~25 ms here).
:func:`split_line` returns the series text verbatim, so a scraper can cache the parsed
labels of a series across scrapes and skip label parsing for every line it has seen.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ..exceptions import ScrapeError

__all__ = ["ExpositionSample", "parse_exposition", "parse_series", "read_samples",
           "split_line"]

T = TypeVar("T")

_SERIES = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})?')
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')
_ESCAPE = re.compile(r"\\(.)")
_UNESCAPED = {"n": "\n", "\\": "\\", '"': '"'}


@dataclass(frozen=True, slots=True)
class ExpositionSample:
    name: str
    labels: dict[str, str]
    value: float
    timestamp: float | None  # seconds, when the exposition carries one


def _unescape(match: re.Match[str]) -> str:
    char = match.group(1)
    return _UNESCAPED.get(char, "\\" + char)


def split_line(line: str) -> tuple[str, str, str | None]:
    """``(series text, value text, timestamp text or None)`` of one sample line.

    Raises:
        ValueError: the line is not a sample line.
    """
    match = _SERIES.match(line)
    if match is None:
        raise ValueError("expected a metric name")
    end = match.end()
    rest = line[end:].split()
    if not rest or (end < len(line) and not line[end].isspace()):
        raise ValueError("expected a value after the series")
    stamp = rest[1] if len(rest) > 1 and rest[1] != "#" else None
    return line[:end], rest[0], stamp


def parse_series(series: str) -> tuple[str, dict[str, str]]:
    """Metric name and labels of a series text such as ``a_total{x="1",y="a\\"b"}``."""
    brace = series.find("{")
    if brace < 0:
        return series, {}
    name, body = series[:brace], series[brace + 1:-1]
    labels: dict[str, str] = {}
    pos = 0
    while pos < len(body):
        match = _LABEL.match(body, pos)
        if match is None:
            raise ValueError(f"invalid label pair at {body[pos:pos + 30]!r}")
        key, value = match.group(1), match.group(2)
        if key in labels:
            raise ValueError(f"duplicate label {key!r}")
        labels[key] = _ESCAPE.sub(_unescape, value) if "\\" in value else value
        pos = match.end()
    return name, labels


def parse_value(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"invalid value {text!r}") from None


def is_openmetrics(text: str) -> bool:
    return text.rstrip().endswith("# EOF")


def read_samples(text: str, series_key: Callable[[str], T]) -> list[tuple[T, int | None, float]]:
    """``(series_key(series text), timestamp ms or None, value)`` for every sample line;
    OpenMetrics (ends in ``# EOF``) timestamps are seconds, text-format ones milliseconds.

    Raises:
        ScrapeError: naming the line and the problem.
    """
    openmetrics = is_openmetrics(text)
    out: list[tuple[T, int | None, float]] = []
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line or line[0] == "#":
            continue
        try:
            series, value, stamp = split_line(line)
            ts = None
            if stamp is not None:
                ts = round(float(stamp) * 1000) if openmetrics else int(stamp)
            out.append((series_key(series), ts, parse_value(value)))
        except ValueError as exc:
            raise ScrapeError(f"line {number}: {exc}: {raw[:200]!r}") from None
    return out


def parse_exposition(text: str) -> list[ExpositionSample]:
    """Every sample of ``text`` with its name, labels, value and timestamp in seconds.

    Raises:
        ScrapeError: naming the line and the problem.
    """
    return [ExpositionSample(name, labels, value, None if ts is None else ts / 1000.0)
            for (name, labels), ts, value in read_samples(text, parse_series)]
