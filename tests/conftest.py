"""Shared fixtures: a clean watchkeeper state per test, and the conformance folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@pytest.fixture(autouse=True)
def _clean_watchkeeper_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with no settings and an empty registry, and no env leaks in."""
    import os

    for name in list(os.environ):
        if name.startswith(("WATCHKEEPER_", "OTEL_")):
            monkeypatch.delenv(name)
    from watchkeeper import _runtime
    from watchkeeper.integrations import uninstrument_http_clients

    _runtime.reset()
    yield
    from watchkeeper.metrics import unbind_workers

    if _runtime._registry is not None:
        unbind_workers(_runtime._registry)
    uninstrument_http_clients()
    import sys

    alerting = sys.modules.get("watchkeeper._alerting")
    if alerting is not None:
        alerting.stop()

    # Stages a test configured (through init()) are put back too, so nothing it installed
    # (log handlers, excepthooks, background checks) outlives it.
    for name in ("watchkeeper.logs", "watchkeeper.errors", "watchkeeper.health",
                 "watchkeeper.security"):
        stage = sys.modules.get(name)
        if stage is not None:
            stage.reset()
    _runtime.reset()
