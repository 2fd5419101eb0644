"""One scrape target turned into TSDB samples with Prometheus' scrape semantics."""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..exceptions import TSDBError
from ..tsdb import STALE_NAN, Labels, make_labels
from ._parse import parse_series, read_samples

__all__ = ["ScrapeResult", "Scraper"]

_log = logging.getLogger("watchkeeper.scrape")

Fetch = Callable[[], str]


@dataclass(frozen=True, slots=True)
class ScrapeResult:
    up: bool
    samples: int  # samples in the exposition
    added: int  # series not present in the previous scrape
    stale: int  # series that vanished and got a staleness marker
    duration: float
    error: str = ""


class Scraper:
    """Scrapes one target into ``storage`` as a Prometheus with default settings would.

    Stored per scrape: every exposed sample under its own name with the target labels
    added (an exposed label that clashes with a target label is kept as ``exported_<name>``,
    ``honor_labels: false``); ``up``, ``scrape_duration_seconds``,
    ``scrape_samples_scraped``, ``scrape_samples_post_metric_relabeling`` and
    ``scrape_series_added``; a staleness marker for every series of the previous scrape
    that is gone (all of them when the scrape fails).

    Args:
        storage: a :class:`watchkeeper.tsdb.TSDB` (anything with ``appender()``).
        fetch: returns the exposition text; an exception means the target is down.
        target_labels: ``job``, ``instance`` and any other labels of the target.
        clock: seconds since the epoch.
    """

    def __init__(self, storage: Any, fetch: Fetch, target_labels: Mapping[str, str], *,
                 clock: Callable[[], float] = time.time) -> None:
        self.storage = storage
        self.fetch = fetch
        self.target_labels = dict(target_labels)
        self.clock = clock
        self._previous: set[Labels] = set()
        self._labels_cache: dict[str, Labels] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last: ScrapeResult | None = None

    def _series_labels(self, name: str, labels: Mapping[str, str]) -> Labels:
        merged = {}
        for key, value in labels.items():
            merged["exported_" + key if key in self.target_labels else key] = value
        merged.update(self.target_labels)
        merged["__name__"] = name
        return make_labels(merged)

    def _read(self, text: str) -> list[tuple[Labels, int | None, float]]:
        """The exposition's samples; parsed labels are cached per series text, so
        steady-state scrapes parse only values."""
        cache, fresh = self._labels_cache, {}

        def labels_of(series: str) -> Labels:
            labels = cache.get(series)
            if labels is None:
                labels = self._series_labels(*parse_series(series))
            fresh[series] = labels
            return labels

        samples = read_samples(text, labels_of)
        self._labels_cache = fresh  # only what the target still exposes
        return samples

    def scrape(self) -> ScrapeResult:
        """Scrape once now; never raises for a failing target (``up`` is 0 instead)."""
        start = self.clock()
        t_ms = round(start * 1000)
        app = self.storage.appender()
        seen: set[Labels] = set()
        error = ""
        count = 0
        try:
            samples = self._read(self.fetch())
        except Exception as exc:  # any failure is a down target, as in Prometheus
            samples = []
            error = f"{type(exc).__name__}: {exc}"
        scraped = len(samples)
        for lb, ts, value in samples:
            if lb in seen:
                continue  # a duplicate line: Prometheus keeps the first and counts an error
            with contextlib.suppress(TSDBError):
                app.append(lb, t_ms if ts is None else ts, value)
                seen.add(lb)
                count += 1
        gone = self._previous - seen
        for lb in gone:
            with contextlib.suppress(TSDBError):
                app.append(lb, t_ms, STALE_NAN)
        added = len(seen - self._previous)
        duration = max(0.0, self.clock() - start)
        up = not error
        report = {"up": 1.0 if up else 0.0, "scrape_duration_seconds": duration,
                  "scrape_samples_scraped": float(scraped),
                  "scrape_samples_post_metric_relabeling": float(count),
                  "scrape_series_added": float(added)}
        for name, value in report.items():
            with contextlib.suppress(TSDBError):
                app.append(make_labels({**self.target_labels, "__name__": name}), t_ms, value)
        app.commit()
        self._previous = seen
        result = ScrapeResult(up, scraped, added, len(gone), duration, error)
        if error and (self.last is None or self.last.up):
            _log.warning("scraping %s failed: %s", self.target_labels, error)
        self.last = result
        return result

    # --- background thread -------------------------------------------------------------
    def start(self, interval: float, *, on_scrape: Callable[[ScrapeResult], None] | None = None
              ) -> None:
        """Scrape every ``interval`` seconds in a daemon thread (first scrape at once)."""
        if self._thread is not None:
            return
        if not (interval > 0 and math.isfinite(interval)):
            raise ValueError(f"scrape interval must be > 0s, got {interval!r}")
        self._stop.clear()

        def run() -> None:
            while not self._stop.is_set():
                began = time.monotonic()
                try:
                    result = self.scrape()
                    if on_scrape is not None:
                        on_scrape(result)
                except Exception:  # the scrape loop never dies
                    _log.exception("scrape loop iteration failed")
                self._stop.wait(max(0.0, interval - (time.monotonic() - began)))

        self._thread = threading.Thread(target=run, name="watchkeeper-scrape", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join()
