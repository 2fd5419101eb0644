"""A pytest helper to assert on structured records: ``capture_logs()``.

Example:
    >>> with capture_logs() as logs:
    ...     get_logger("app").info("paid", order_id=1)
    >>> logs.find(message="paid")[0]["order_id"]
    1
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from ._logger import state
from ._sinks import MemorySink

__all__ = ["CapturedLogs", "capture_logs"]


class CapturedLogs:
    """Records written while capturing, as parsed JSON (exactly what sinks received)."""

    def __init__(self, sink: MemorySink) -> None:
        self._sink = sink

    @property
    def records(self) -> list[dict[str, Any]]:
        return [orjson.loads(e.line) for e in list(self._sink.entries)]

    @property
    def lines(self) -> list[bytes]:
        return [e.line for e in list(self._sink.entries)]

    def find(self, **match: Any) -> list[dict[str, Any]]:
        """Records whose fields equal every ``match`` item."""
        return [r for r in self.records if all(r.get(k) == v for k, v in match.items())]

    def messages(self) -> list[str]:
        return [str(r.get("message")) for r in self.records]

    def clear(self) -> None:
        self._sink.entries.clear()


@contextmanager
def capture_logs() -> Iterator[CapturedLogs]:
    """Capture every record the pipeline writes inside the block.

    Works with the configured pipeline; if logging is not configured, a default one
    (JSON, INFO, no stdout) is installed for the block and removed after it.
    """
    sink = MemorySink()
    temporary = state.pipeline is None
    if temporary:
        from ..config import LogsSettings, Settings
        from ._setup import configure

        configure(Settings(logs=LogsSettings(stream="none")), registry=None,
                  install_signal_handler=False)
    pipeline = state.pipeline
    assert pipeline is not None
    pipeline.sinks.append(sink)
    try:
        yield CapturedLogs(sink)
    finally:
        if sink in pipeline.sinks:
            pipeline.sinks.remove(sink)
        if temporary:
            from ._setup import reset

            reset()
