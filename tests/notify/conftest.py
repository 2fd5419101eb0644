from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ._servers import CaptureServer

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = REPO_ROOT.parent / "shared" / "conformance" / "alertmanager"


@pytest.fixture
def capture() -> Iterator[CaptureServer]:
    server = CaptureServer().start()
    yield server
    server.stop()
