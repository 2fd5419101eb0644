"""Pattern mining and per-level counts, off the hot path.

The pipeline calls :meth:`LogStats.observe` for every record: it bumps a per-level count
and appends (level, message, time) to a bounded deque. A daemon thread feeds the deque to
``drain3`` (Drain: fixed-depth parse tree, online, bounded number of clusters) and keeps
count, first/last seen, level mix and one example per template. drain3 pins old
``cachetools``/``jsonpickle`` versions, so it is an extra (``watchkeeper[patterns]``);
without it, messages are grouped by their exact template (for stdlib records, the format
string), which is already right for ``log.info("user %s", uid)`` style logging.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._pipeline import level_name

__all__ = ["LogStats", "Pattern"]


@dataclass
class Pattern:
    """One mined template and what was seen of it."""

    template: str
    count: int
    first_seen: float
    last_seen: float
    levels: dict[str, int] = field(default_factory=dict)
    example: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"template": self.template, "count": self.count, "first_seen": self.first_seen,
                "last_seen": self.last_seen, "levels": dict(self.levels),
                "example": self.example}


class _ExactMiner:
    """Fallback without drain3: the template is the message itself."""

    engine = "exact"

    def __init__(self, max_clusters: int) -> None:
        self.max_clusters = max_clusters
        self.ids: dict[str, int] = {}

    def add(self, message: str) -> tuple[int, str] | None:
        cid = self.ids.get(message)
        if cid is None:
            if len(self.ids) >= self.max_clusters:
                return None
            cid = self.ids[message] = len(self.ids) + 1
        return cid, message


class _DrainMiner:
    engine = "drain3"

    def __init__(self, max_clusters: int, similarity: float, depth: int) -> None:
        import logging

        from drain3 import TemplateMiner  # type: ignore[import-untyped, import-not-found, unused-ignore]
        from drain3.template_miner_config import (  # type: ignore[import-untyped, import-not-found, unused-ignore]
            TemplateMinerConfig,
        )

        # drain3 logs its config at INFO through the root logger, i.e. through us.
        logging.getLogger("drain3").setLevel(logging.WARNING)
        config = TemplateMinerConfig()
        config.profiling_enabled = False
        config.drain_max_clusters = max_clusters
        config.drain_sim_th = similarity
        config.drain_depth = depth
        self.miner = TemplateMiner(config=config)

    def add(self, message: str) -> tuple[int, str] | None:
        result = self.miner.add_log_message(message)
        cid = int(result["cluster_id"])
        cluster = self.miner.drain.id_to_cluster.get(cid)
        template = cluster.get_template() if cluster is not None else result["template_mined"]
        return cid, str(template)


class LogStats:
    """Per-level counts (exact) and mined templates (from a bounded sample queue)."""

    def __init__(self, *, max_clusters: int = 1000, similarity: float = 0.4, depth: int = 4,
                 queue_size: int = 10_000, mine: bool = True, engine: str = "auto",
                 interval: float = 0.5) -> None:
        self.counts: dict[int, int] = {}
        self.unmined = 0
        self._queue: collections.deque[tuple[int, str]] = collections.deque(maxlen=queue_size)
        self._queue_size = queue_size
        self._patterns: dict[int, Pattern] = {}
        self._lock = threading.Lock()
        self._max_clusters = max_clusters
        self._miner_args = (max_clusters, similarity, depth)
        self._engine = engine
        self._miner: _ExactMiner | _DrainMiner | None = None
        # Most log calls repeat a message verbatim: remember its cluster, skip the miner.
        self._seen: dict[str, int] = {}
        self._mine = mine
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if mine:
            self._thread = threading.Thread(target=self._run, name="watchkeeper-log-patterns",
                                            daemon=True)
            self._thread.start()

    # -- hot path ------------------------------------------------------------------------
    def observe(self, level: int, message: str, when: float) -> None:
        counts = self.counts
        counts[level] = counts.get(level, 0) + 1
        if self._mine:
            queue = self._queue
            if len(queue) >= self._queue_size:
                self.unmined += 1
            queue.append((level, message))

    # -- miner thread --------------------------------------------------------------------
    def _make_miner(self) -> _ExactMiner | _DrainMiner:
        max_clusters, similarity, depth = self._miner_args
        if self._engine in ("auto", "drain3"):
            try:
                return _DrainMiner(max_clusters, similarity, depth)
            except ImportError:
                if self._engine == "drain3":
                    raise
        return _ExactMiner(max_clusters)

    @property
    def engine(self) -> str:
        return self._miner.engine if self._miner is not None else "pending"

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.process()

    def process(self) -> None:
        """Mine everything queued (the thread does this every interval).

        The queue is swapped out and counted per (level, message) in C (``Counter``), so
        the per-record cost off the hot path is small; first/last seen are the times of
        the batches a template appeared in (resolution: the mining interval).
        """
        with self._lock:
            if self._miner is None:
                self._miner = self._make_miner()
            miner = self._miner
            batch, self._queue = self._queue, collections.deque(maxlen=self._queue_size)
            if not batch:
                return
            when = time.time()
            for (level, message), count in collections.Counter(batch).items():
                cid = self._seen.get(message)
                if cid is None:
                    try:
                        found = miner.add(message[:2048])
                    except Exception:
                        found = None
                    if found is None:
                        self.unmined += count
                        continue
                    cid, template = found
                    if len(self._seen) < 10_000:
                        self._seen[message] = cid
                    pattern = self._patterns.get(cid)
                    if pattern is None:
                        pattern = self._patterns[cid] = Pattern(template, 0, when, when,
                                                                example=message[:512])
                    pattern.template = template
                else:
                    pattern = self._patterns[cid]
                pattern.count += count
                pattern.last_seen = when
                name = level_name(level)
                pattern.levels[name] = pattern.levels.get(name, 0) + count

    def patterns(self, limit: int = 50) -> list[dict[str, Any]]:
        """The ``limit`` most frequent templates, most frequent first."""
        self.process()
        with self._lock:
            ranked = sorted(self._patterns.values(), key=lambda p: p.count, reverse=True)
            return [p.as_dict() for p in ranked[:limit]]

    def stop(self) -> None:
        self._stop.set()

    def after_fork(self) -> None:
        """In a forked child: a new lock and a new miner thread."""
        self._lock = threading.Lock()
        if self._thread is not None and not self._stop.is_set():
            self._thread = threading.Thread(target=self._run, name="watchkeeper-log-patterns",
                                            daemon=True)
            self._thread.start()


def metrics_refresher(stats: LogStats, registry: Any) -> Callable[[], None]:
    """A scrape-time refresher: ``log_messages_total{level}`` and the error ratio gauge.

    Counting happens in a plain dict on the hot path; the registry is updated with the
    difference at scrape time, so a log line never takes a metrics lock.
    """
    total = registry.counter("watchkeeper_log_messages_total",
                             "Log records written, by level.", ("level",))
    ratio = registry.gauge("watchkeeper_log_error_ratio",
                           "Share of log records at ERROR or above since the previous scrape.",
                           mode="per_worker")
    seen: dict[int, int] = {}

    def refresh() -> None:
        errors = everything = 0
        for level, count in list(stats.counts.items()):
            delta = count - seen.get(level, 0)
            if delta > 0:
                total.labels(level_name(level)).inc(delta)
                seen[level] = count
                everything += delta
                if level >= 40:
                    errors += delta
        ratio.set(errors / everything if everything else 0.0)

    return refresh

