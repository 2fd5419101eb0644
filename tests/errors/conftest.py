"""Error tests: a clean capture state per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _clean_errors() -> Iterator[None]:
    from watchkeeper import errors, traces

    yield
    errors.reset()
    traces.shutdown()
