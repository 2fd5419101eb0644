"""Brute force, blocks, rate limits and client resolution with injected clocks."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from watchkeeper.config import SecuritySettings
from watchkeeper.config._security import RateLimitSettings
from watchkeeper.metrics import Registry
from watchkeeper.security import Guard, SecurityHook, verify_audit
from watchkeeper.security._abuse import Blocklist, WindowCounter
from watchkeeper.security._clients import ClientResolver
from watchkeeper.security._ratelimit import RateLimiter, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeRecord:
    """The part of RequestRecord the security hook reads."""

    def __init__(self, path: str = "/", query: str = "", client: str | None = "10.0.0.1",
                 headers: dict[str, str] | None = None, method: str = "GET") -> None:
        self.path = path
        self.query_string = query
        self.client = client
        self.method = method
        self._headers = {k.lower(): v for k, v in (headers or {}).items()}
        self.state: dict[str, Any] = {}
        self.status = 0
        self.response_headers: list[tuple[str, str]] = []

    def header(self, name: str) -> str | None:
        return self._headers.get(name.lower())

    @property
    def server_state(self) -> dict[str, Any]:
        return {"type": "http", "headers": [(k.encode(), v.encode())
                                            for k, v in self._headers.items()]}


def _guard(tmp_path: Path, clock: Clock, **security: Any) -> Guard:
    security.setdefault("audit", {"path": str(tmp_path / "audit.jsonl")})
    return Guard(SecuritySettings(**security), Registry(), clock=clock, wall_clock=clock)


def test_twenty_failures_make_one_incident_and_a_block_with_ttl(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    guard = _guard(tmp_path, clock, mode="block",
                   brute_force={"threshold": 10, "block_ttl": 60})
    seen = []
    guard.callbacks.append(seen.append)
    with caplog.at_level(logging.ERROR, logger="watchkeeper.security"):
        for _ in range(20):
            guard.auth_failed("alice", "10.0.0.7")
    assert [i.kind for i in seen] == ["brute_force_ip", "brute_force_user"]
    assert seen[0].count == 11
    assert seen[0].blocked_for == 60
    assert "possible brute force ip" in caplog.text
    assert guard.blocklist.remaining("10.0.0.7") == 60
    hook = SecurityHook(guard)
    response = hook.on_request(FakeRecord(client="10.0.0.7"))  # type: ignore[arg-type]
    assert response is not None
    assert response.status == 403
    assert dict(response.headers)["retry-after"] == "60"
    clock.now += 61
    assert hook.on_request(FakeRecord(client="10.0.0.7")) is None  # type: ignore[arg-type]
    assert verify_audit(tmp_path / "audit.jsonl").records == 20 + 2 + 1


def test_detect_mode_never_blocks_and_allow_list_is_never_blocked(tmp_path: Path) -> None:
    clock = Clock()
    guard = _guard(tmp_path, clock)
    for _ in range(20):
        guard.auth_failed(None, "10.0.0.7")
    assert not guard.blocklist
    guard = _guard(tmp_path, clock, mode="block", allow_clients=["10.0.0.0/8"])
    for _ in range(20):
        guard.auth_failed(None, "10.0.0.7")
    assert not guard.blocklist


def test_success_resets_and_old_failures_leave_the_window() -> None:
    clock = Clock()
    counter = WindowCounter(3, 10.0, clock)
    assert [counter.add("k")[1] for _ in range(4)] == [False, False, False, True]
    assert counter.add("k") == (5, False)  # reported once
    counter.reset("k")
    assert counter.add("k") == (1, False)
    clock.now += 11
    assert counter.count("k") == 0


def test_login_route_statuses_feed_the_tracker(tmp_path: Path) -> None:
    clock = Clock()
    guard = _guard(tmp_path, clock, mode="block", brute_force={"threshold": 2})
    hook = SecurityHook(guard)
    for status in (401, 403, 401):
        record = FakeRecord(path="/login", method="POST")
        hook.on_request(record)  # type: ignore[arg-type]
        record.status = status
        hook.on_response(record)  # type: ignore[arg-type]
    assert guard.blocklist.remaining("10.0.0.1") > 0
    other = FakeRecord(path="/items", client="10.0.0.2")
    hook.on_request(other)  # type: ignore[arg-type]
    other.status = 401
    hook.on_response(other)  # type: ignore[arg-type]
    assert guard.by_ip.count("10.0.0.2") == 0  # not a login route


def test_block_mode_answers_attacks_with_403_and_detect_mode_passes_them(
        tmp_path: Path) -> None:
    attack = FakeRecord(path="/search", query="q=%27%20or%201%3D1--")
    detect = _guard(tmp_path, Clock())
    assert SecurityHook(detect).on_request(attack) is None  # type: ignore[arg-type]
    block = _guard(tmp_path, Clock(), mode="block")
    response = SecurityHook(block).on_request(attack)  # type: ignore[arg-type]
    assert response is not None
    assert response.status == 403
    assert SecurityHook(block).on_request(FakeRecord(path="/search", query="q=shoes")) is None  # type: ignore[arg-type]


def test_trusted_proxy_handling_of_x_forwarded_for() -> None:
    resolver = ClientResolver(["10.0.0.0/8"])
    spoofed = FakeRecord(client="203.0.113.9", headers={"x-forwarded-for": "1.2.3.4"})
    assert resolver.resolve(spoofed) == "203.0.113.9"  # type: ignore[arg-type]
    proxied = FakeRecord(client="10.0.0.2",
                         headers={"x-forwarded-for": "1.2.3.4, 198.51.100.7, 10.0.0.3"})
    assert resolver.resolve(proxied) == "198.51.100.7"  # type: ignore[arg-type]
    garbage = FakeRecord(client="10.0.0.2", headers={"x-forwarded-for": "<script>, 10.0.0.3"})
    assert resolver.resolve(garbage) == "10.0.0.3"  # type: ignore[arg-type]
    assert ClientResolver([]).resolve(proxied) == "10.0.0.2"  # type: ignore[arg-type]


def test_rate_limits_answer_429_with_headers(tmp_path: Path) -> None:
    guard = _guard(tmp_path, Clock(), rate_limits={"rules": [
        {"scope": "ip", "limit": 3, "window": 60},
        {"scope": "key", "limit": 5, "window": 60, "routes": ["/api/*"]},
    ]})
    hook = SecurityHook(guard)
    statuses = [hook.on_request(FakeRecord(path="/x")) for _ in range(4)]  # type: ignore[arg-type]
    assert statuses[:3] == [None, None, None]
    refused = statuses[3]
    assert refused is not None
    assert refused.status == 429
    headers = dict(refused.headers)
    assert headers["ratelimit-limit"] == "3"
    assert headers["ratelimit-remaining"] == "0"
    assert 1 <= int(headers["retry-after"]) <= 60
    other = [hook.on_request(FakeRecord(path="/api/a", client=f"10.1.0.{i}",  # type: ignore[arg-type]
                                        headers={"x-api-key": "k1"})) for i in range(6)]
    assert [r.status if r else 200 for r in other] == [200] * 5 + [429]


@pytest.mark.parametrize("strategy", ["fixed_window", "sliding_window", "token_bucket"])
def test_each_strategy_admits_exactly_the_limit_in_a_burst(strategy: str) -> None:
    limiter = RateLimiter(RateLimitSettings(rules=[
        {"scope": "global", "limit": 10, "window": 60, "strategy": strategy}]))
    admitted = sum(limiter.check("/", "1.1.1.1", lambda _: None) is None for _ in range(25))
    assert admitted == 10


class TokenBucketMachine(RuleBasedStateMachine):
    """The bucket never admits more than capacity + rate * elapsed, and never refuses
    when a full token is due."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.bucket = TokenBucket(self.clock)
        self.limit, self.window = 5, 10.0
        self.start = self.clock.now
        self.admitted = 0

    @rule(seconds=st.floats(min_value=0, max_value=30))
    def wait(self, seconds: float) -> None:
        self.clock.now += seconds

    @rule()
    def hit(self) -> None:
        decision = self.bucket.hit("k", self.limit, self.window)
        if decision.allowed:
            self.admitted += 1
        else:
            assert decision.reset_after > 0

    @precondition(lambda self: True)
    @invariant()
    def bounded(self) -> None:
        elapsed = self.clock.now - self.start
        assert self.admitted <= self.limit + elapsed * self.limit / self.window + 1e-9


TestTokenBucket = TokenBucketMachine.TestCase
TestTokenBucket.settings = hsettings(max_examples=50, stateful_step_count=40, deadline=None)


def test_blocklist_expiry() -> None:
    clock = Clock()
    blocks = Blocklist(clock)
    blocks.block("a", 5)
    assert blocks.active() == 1
    clock.now += 6
    assert blocks.remaining("a") == 0
    assert blocks.active() == 0


def test_abnormal_token_rate_is_an_incident(tmp_path: Path) -> None:
    clock = Clock()
    guard = _guard(tmp_path, clock, brute_force={"token_rate_threshold": 5, "window": 10})
    seen = []
    guard.callbacks.append(seen.append)
    hook = SecurityHook(guard)
    for _ in range(8):
        hook.on_request(FakeRecord(headers={"authorization": "Bearer abc"}))  # type: ignore[arg-type]
    assert [i.kind for i in seen] == ["abnormal_token_rate"]
    assert "abc" not in seen[0].subject  # a digest, never the token
    clock.now += 11
    for _ in range(5):
        hook.on_request(FakeRecord(headers={"authorization": "Bearer abc"}))  # type: ignore[arg-type]
    assert len(seen) == 1
