from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from watchkeeper import logs
from watchkeeper.config import LogsSettings, ServiceSettings, Settings
from watchkeeper.logs import MemorySink


class FakeChild:
    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount

    def set(self, value: float) -> None:
        self.value = value


class FakeFamily:
    def __init__(self) -> None:
        self.children: dict[tuple[str, ...], FakeChild] = {}

    def labels(self, *values: str) -> FakeChild:
        return self.children.setdefault(tuple(values), FakeChild())

    def set(self, value: float) -> None:
        self.labels().set(value)


class FakeRegistry:
    """Just enough of watchkeeper.metrics.Registry for the logs stage."""

    def __init__(self) -> None:
        self.families: dict[str, FakeFamily] = {}
        self.refreshers: list[Any] = []

    def counter(self, name: str, help: str, labelnames: Any = ()) -> FakeFamily:
        return self.families.setdefault(name, FakeFamily())

    def gauge(self, name: str, help: str, labelnames: Any = (), **kw: Any) -> FakeFamily:
        return self.families.setdefault(name, FakeFamily())

    def add_refresher(self, fn: Any) -> None:
        self.refreshers.append(fn)

    def refresh(self) -> None:
        for fn in self.refreshers:
            fn()


class Captured:
    def __init__(self, sink: MemorySink) -> None:
        self.sink = sink

    @property
    def records(self) -> list[dict[str, Any]]:
        return [orjson.loads(e.line) for e in self.sink.entries]

    @property
    def lines(self) -> list[bytes]:
        return [e.line for e in self.sink.entries]


@pytest.fixture
def registry() -> FakeRegistry:
    return FakeRegistry()


@pytest.fixture
def make_logs(registry: FakeRegistry) -> Iterator[Any]:
    def make(**logs_kwargs: Any) -> Captured:
        sink = MemorySink()
        logs_kwargs.setdefault("stream", "none")
        settings = Settings(service=ServiceSettings(name="svc", version="1.2.3",
                                                    environment="test"),
                            logs=LogsSettings(**logs_kwargs))
        logs.configure(settings, registry=registry, sinks=[sink],
                       install_signal_handler=False)
        return Captured(sink)

    yield make
    logs.reset()
    logs.clear_bound()


@pytest.fixture
def captured(make_logs: Any) -> Captured:
    return make_logs()
