"""The Redis-shared counter's state machine, against an in-memory stand-in for Redis."""

from __future__ import annotations

import asyncio
import time

from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from tests._servers import free_port
from watchkeeper.security._redis_limits import SyncedWindows


class FakeStorage:
    """What SyncedWindows uses of limits' async storage: incr and get."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        self.counts[key] = self.counts.get(key, 0) + amount
        return self.counts[key]

    async def get(self, key: str) -> int:
        return self.counts.get(key, 0)


LIMIT, WINDOW = 5, 10.0


class TwoWorkers(RuleBasedStateMachine):
    """Two processes share one storage. Hits made right after both synced ("fresh") can
    never push the total past the limit; only hits on stale knowledge can overshoot."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 1_000_000.0
        storage = FakeStorage()
        self.workers = []
        for _ in range(2):
            worker = SyncedWindows("redis://127.0.0.1:1", clock=lambda: self.now)
            worker._storage = storage
            worker._started = True  # no background task: the test drives sync()
            self.workers.append(worker)
        self.window = int(self.now // WINDOW)
        self.admitted = 0
        self.stale = 0

    def _roll(self) -> None:
        window = int(self.now // WINDOW)
        if window != self.window:
            self.window, self.admitted, self.stale = window, 0, 0

    def _sync_all(self) -> None:
        for worker in (*self.workers, self.workers[0]):
            asyncio.run(worker.sync())

    @rule(worker=st.integers(0, 1))
    def fresh_hit(self, worker: int) -> None:
        self._roll()
        self._sync_all()
        # A process reads the shared total only for windows it has seen: its first hit
        # in a window is decided on local knowledge, i.e. it is stale by construction.
        first_seen = f"k:{int(WINDOW)}:{self.window}" not in self.workers[worker]._windows
        if self.workers[worker].hit("k", LIMIT, WINDOW).allowed:
            self.admitted += 1
            self.stale += first_seen

    @rule(worker=st.integers(0, 1))
    def stale_hit(self, worker: int) -> None:
        self._roll()
        if self.workers[worker].hit("k", LIMIT, WINDOW).allowed:
            self.admitted += 1
            self.stale += 1

    @rule(worker=st.integers(0, 1))
    def sync_one(self, worker: int) -> None:
        asyncio.run(self.workers[worker].sync())

    @rule(seconds=st.floats(0, 6))
    def wait(self, seconds: float) -> None:
        self.now += seconds

    @invariant()
    def overshoot_only_from_stale_hits(self) -> None:
        assert self.admitted <= LIMIT + self.stale

    @invariant()
    def each_worker_alone_respects_the_limit(self) -> None:
        for worker in self.workers:
            for window in worker._windows.values():
                assert window.pending <= LIMIT


TestTwoWorkers = TwoWorkers.TestCase
TestTwoWorkers.settings = hsettings(max_examples=60, stateful_step_count=40, deadline=None)


def test_unreachable_redis_fails_open_per_process() -> None:
    errors: list[int] = []
    port = free_port()  # nothing listens there
    worker = SyncedWindows(f"redis://127.0.0.1:{port}", 0.005,
                           on_error=lambda: errors.append(1))
    decisions = [worker.hit("k", 3, 60).allowed for _ in range(5)]
    assert decisions == [True, True, True, False, False]  # still limited, locally
    deadline = time.monotonic() + 5
    while not errors and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.close()
    assert errors, "the storage failure was not reported"
