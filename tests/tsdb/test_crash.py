"""kill -9 acceptance: every sample acknowledged before SIGKILL is there after restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from watchkeeper.tsdb import TSDB, Matcher

WRITER = r"""
import sys
from watchkeeper.tsdb import TSDB, make_labels
db = TSDB(sys.argv[1], fsync=sys.argv[2])
i = 0
while True:
    app = db.appender()
    for j in range(10):
        app.append(make_labels({"__name__": "m", "s": str(j)}), i * 1000, float(i))
    app.commit()
    print(i, flush=True)   # acknowledged
    i += 1
"""


@pytest.mark.slow
@pytest.mark.parametrize("fsync", ["always", "interval", "never"])
def test_sigkill_loses_no_acknowledged_sample(tmp_path: Path, fsync: str) -> None:
    src = Path(__file__).resolve().parents[2] / "src"
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), fsync],
                            stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    acked = -1
    deadline = time.monotonic() + 20
    while acked < 200 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        acked = int(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # Anything printed after our last read was acknowledged too; read the rest.
    rest = proc.stdout.read().split()
    proc.stdout.close()
    if rest:
        acked = int(rest[-1])
    assert acked >= 200
    with TSDB(tmp_path) as db:
        series = db.select([Matcher.parse_op("=", "__name__", "m")], 0, 10**12)
    assert len(series) == 10
    for sd in series:
        assert len(sd.timestamps) >= acked + 1
        assert sd.timestamps[acked] == acked * 1000
