"""Scraping: turning an exposition into stored samples the way Prometheus does.

Owns the scrape semantics Prometheus applies between a target's ``/metrics`` and its
TSDB: target labels (``job``, ``instance``) with ``exported_`` renaming of clashes,
the synthetic ``up`` / ``scrape_*`` series and staleness markers for vanished series.
"""

from ._parse import ExpositionSample, parse_exposition
from ._scraper import Scraper, ScrapeResult

__all__ = ["ExpositionSample", "ScrapeResult", "Scraper", "parse_exposition"]
