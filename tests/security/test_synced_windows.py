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


def test_sliding_window_weighs_the_previous_window() -> None:
    now = [1000.0]  # window 100: [1000, 1100) is index 10
    storage = FakeStorage()
    worker = SyncedWindows("redis://127.0.0.1:1", sliding=True, clock=lambda: now[0],
                           storage=storage)
    worker._started = True
    assert all(worker.hit("k", 10, 100).allowed for _ in range(10))
    assert not worker.hit("k", 10, 100).allowed
    asyncio.run(worker.sync())
    assert storage.counts == {"k:100:10": 10}
    now[0] = 1125.0  # a quarter into the next window: 10 * 0.75 = 7.5 still counted
    decisions = [worker.hit("k", 10, 100) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    refused = decisions[-1]
    # 10.5 counted against 10: the previous window loses 0.1 per second, so ~15 s
    assert 14 <= refused.reset_after <= 16
    now[0] = 1190.0  # 10 * 0.1 + 3 = 4: room again
    assert worker.hit("k", 10, 100).allowed
    asyncio.run(worker.sync())
    assert storage.counts["k:100:11"] == 4
    assert storage.counts["k:100:10"] == 10


class SharedBucket:
    """A stand-in for the Lua script: one bucket state shared by the workers."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.state: dict[str, tuple[float, float]] = {}

    async def take(self, key: str, capacity: int, rate: float, amount: int) -> float:
        tokens, last = self.state.get(key, (float(capacity), self.clock[0]))
        tokens = min(capacity, tokens + (self.clock[0] - last) * rate) - amount
        self.state[key] = (tokens, self.clock[0])
        return tokens


def test_token_bucket_shared_by_two_workers() -> None:
    from watchkeeper.security._redis_limits import SyncedBucket

    now = [0.0]
    shared = SharedBucket(now)
    workers = []
    for _ in range(2):
        worker = SyncedBucket("redis://127.0.0.1:1", clock=lambda: now[0],
                              storage=FakeStorage())
        worker._started = True
        worker.take = shared.take  # type: ignore[method-assign]
        workers.append(worker)
    admitted = 0
    for round_ in range(40):  # 10 tokens per 10 s; hits alternate, syncs after each
        worker = workers[round_ % 2]
        admitted += worker.hit("k", 10, 10).allowed
        for w in workers:
            asyncio.run(w.sync())
    assert admitted == 10 + 1  # the second worker's very first hit knew nothing yet
    refused = workers[0].hit("k", 10, 10)
    assert not refused.allowed
    assert 0 < refused.reset_after <= 2.2  # one token per second, and two owed
    now[0] = 5.0  # five tokens back, minus the one overdrawn
    for w in workers:
        asyncio.run(w.sync())
    more = 0
    for i in range(10):
        more += workers[i % 2].hit("k", 10, 10).allowed
        for w in (*workers, workers[0]):  # both pushed, both heard everything
            asyncio.run(w.sync())
    assert more == 4
    # without syncing in between, each worker spends what it last heard of: the
    # overshoot is what the others admit within one sync interval
    now[0] = 7.0
    for w in workers:
        asyncio.run(w.sync())
    assert sum(w.hit("k", 10, 10).allowed for w in workers for _ in range(5)) == 4
