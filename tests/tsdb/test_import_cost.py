"""Importing watchkeeper (and registering the promql CLI) must not pull in numpy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_import_watchkeeper_does_not_import_numpy() -> None:
    src = Path(__file__).resolve().parents[2] / "src"
    code = ("import sys, watchkeeper, watchkeeper.exceptions, watchkeeper.cli._promql; "
            "assert 'numpy' not in sys.modules, 'numpy imported'")
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": str(src)})
