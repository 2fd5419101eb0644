"""Global state: metrics through an injected registry, fork safety, reset."""

from __future__ import annotations

import os
from typing import Any

import pytest

from watchkeeper import health
from watchkeeper.health import _state

from .helpers import make_settings


class FakeChild:
    def __init__(self, log: list[tuple[str, tuple[str, ...], str, float]], name: str,
                 labels: tuple[str, ...]) -> None:
        self.log, self.name, self.labels = log, name, labels

    def set(self, value: float) -> None:
        self.log.append((self.name, self.labels, "set", value))

    def inc(self, value: float = 1.0) -> None:
        self.log.append((self.name, self.labels, "inc", value))

    def observe(self, value: float) -> None:
        self.log.append((self.name, self.labels, "observe", value))


class FakeFamily:
    def __init__(self, log: list[Any], name: str) -> None:
        self.log, self.name = log, name

    def labels(self, *values: str) -> FakeChild:
        return FakeChild(self.log, self.name, values)


class FakeRegistry:
    def __init__(self) -> None:
        self.log: list[tuple[str, tuple[str, ...], str, float]] = []
        self.created: dict[str, dict[str, Any]] = {}

    def _family(self, name: str, labelnames: Any, kwargs: dict[str, Any]) -> FakeFamily:
        self.created[name] = {"labels": tuple(labelnames), **kwargs}
        return FakeFamily(self.log, name)

    def counter(self, name: str, documentation: str, labelnames: Any = (), **kw: Any) -> Any:
        return self._family(name, labelnames, kw)

    def gauge(self, name: str, documentation: str, labelnames: Any = (), **kw: Any) -> Any:
        return self._family(name, labelnames, kw)

    def histogram(self, name: str, documentation: str, labelnames: Any = (), **kw: Any) -> Any:
        return self._family(name, labelnames, kw)


def test_metrics_recorded_through_injected_registry() -> None:
    registry = FakeRegistry()

    @health.check("db", timeout=1)
    def db() -> bool:
        return False

    h = health.configure(make_settings(), metrics_registry=registry, background=False)
    h.runner.run_now("db", 5)
    breaker = health.CircuitBreaker("payments", fail_max=1)
    breaker.open()
    assert ("health_check_status", ("db",), "set", 0.0) in registry.log
    assert ("health_check_failures_total", ("db",), "inc", 1.0) in registry.log
    assert any(e[0] == "health_check_duration_seconds" for e in registry.log)
    assert ("circuit_breaker_state", ("payments",), "set", 0.0) in registry.log
    assert ("circuit_breaker_state", ("payments",), "set", 2.0) in registry.log
    assert registry.created["health_check_status"]["mode"] == "min"


def test_broken_registry_never_breaks_a_check() -> None:
    class Broken(FakeRegistry):
        def gauge(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("registry is broken")

    @health.check("db", timeout=1)
    def db() -> bool:
        return True

    h = health.configure(make_settings(), metrics_registry=Broken(), background=False)
    assert h.runner.run_now("db", 5).ok


def test_forked_child_gets_its_own_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    @health.check("db", timeout=1)
    def db() -> bool:
        return True

    parent = health.configure(make_settings())
    real = os.getpid()
    monkeypatch.setattr(os, "getpid", lambda: real + 1)
    try:
        child = _state.current()
        assert child is not parent
        assert child.pid == real + 1
        assert child.runner.run_now("db", 5).ok
    finally:
        monkeypatch.undo()
        parent.loop.stop()  # in a real fork the parent's loop thread is not in the child


def test_init_configures_health_and_stack_serves_endpoints() -> None:
    import watchkeeper
    from watchkeeper import _runtime
    from watchkeeper.integrations._stack import build_stack

    try:
        settings = watchkeeper.init(health={"ready_path": "/readyz"})
        assert _state._current is not None
        assert _state._current.settings is settings
        stack = build_stack(settings)
        assert stack.find_endpoint("/readyz") is not None
        found = stack.find_endpoint("/health/component/db")
        assert found is not None
        assert found[1] == {"name": "db"}
        off = build_stack(watchkeeper.init(health={"enabled": False}))
        assert off.find_endpoint("/health/live") is None
    finally:
        _runtime.reset()
