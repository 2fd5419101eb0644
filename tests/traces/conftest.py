"""Tracing tests: a clean tracing state, and an OTLP/HTTP capture server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.traces.otlp_capture import OtlpCapture


@pytest.fixture(autouse=True)
def _clean_tracing() -> Iterator[None]:
    from watchkeeper import errors, traces

    yield
    traces.shutdown()
    errors.reset()


@pytest.fixture
def otlp() -> Iterator[OtlpCapture]:
    with OtlpCapture() as capture:
        yield capture
