from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import orjson

from watchkeeper import logs
from watchkeeper.logs import FileSink, Pipeline


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _pipeline(*sinks: Any) -> Pipeline:
    return Pipeline(static={}, redactor=None, sinks=list(sinks), caller=False)


def test_rotates_by_size_and_keeps_n(tmp_path: Path) -> None:
    sink = FileSink(tmp_path / "app.log", max_bytes=2000, keep=3, flush_interval=0)
    pipeline = _pipeline(sink)
    for i in range(200):
        pipeline.emit(20, "app", f"line {i:04d} " + "x" * 50, None, when=1_700_000_000 + i)
    sink.close(1)
    rotated = sink.rotated()
    assert len(rotated) == 3
    assert (tmp_path / "app.log").stat().st_size <= 2000
    for file in rotated:
        assert file.stat().st_size <= 2000
        for line in file.read_bytes().splitlines():
            orjson.loads(line)


def test_rotates_by_time_and_expires_old_files(tmp_path: Path) -> None:
    clock = Clock(1_700_000_000.0)
    old = tmp_path / "app.log.20000101T000000"
    old.write_text("{}\n")
    os.utime(old, (clock.now - 10 * 86400, clock.now - 10 * 86400))
    sink = FileSink(tmp_path / "app.log", max_bytes=0, rotate_every=3600, keep=10,
                    retention=7 * 86400, flush_interval=0, clock=clock)
    assert not old.exists()  # expired at open
    pipeline = _pipeline(sink)
    start = (clock.now // 3600) * 3600
    for hour in range(3):
        pipeline.emit(20, "app", f"hour {hour}", None, when=start + hour * 3600 + 5)
    sink.close(1)
    assert len(sink.rotated()) == 2
    assert b"hour 2" in (tmp_path / "app.log").read_bytes()


def test_error_file_beside_combined_file(make_logs: Any, tmp_path: Path) -> None:
    make_logs(files=[{"path": str(tmp_path / "combined.log")},
                     {"path": str(tmp_path / "error.log"), "level": "error",
                      "retention": "30d"}])
    log = logs.get_logger("app")
    log.info("fine")
    log.error("broken")
    logs.flush()
    combined = (tmp_path / "combined.log").read_bytes().splitlines()
    errors = (tmp_path / "error.log").read_bytes().splitlines()
    assert [orjson.loads(x)["message"] for x in combined] == ["fine", "broken"]
    assert [orjson.loads(x)["message"] for x in errors] == ["broken"]


def test_buffered_lines_are_flushed_in_the_background(tmp_path: Path) -> None:
    sink = FileSink(tmp_path / "app.log", max_bytes=0, flush_interval=0.05)
    _pipeline(sink).emit(20, "app", "later", None)
    deadline = time.monotonic() + 3
    while b"later" not in (tmp_path / "app.log").read_bytes() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert b"later" in (tmp_path / "app.log").read_bytes()
    sink.close(1)


def test_console_format(make_logs: Any, capsys: Any) -> None:
    make_logs(stream="stdout", format="console", flush_interval=0)
    logs.get_logger("app").warning("hello\nworld", user="ann")
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "WARNING" in out
    assert "hello\\nworld" in out
    assert "user=ann" in out


def test_stream_sink_follows_sys_stdout_and_text_streams(make_logs: Any, capsys: Any) -> None:
    import io

    make_logs(stream="stdout", flush_interval=0.01)
    logs.get_logger("app").info("to current stdout")
    logs.flush()
    assert b"to current stdout" in capsys.readouterr().out.encode()
    text = io.StringIO()
    sink = logs.StreamSink(text, flush_interval=0)
    Pipeline(static={}, redactor=None, sinks=[sink], caller=False).emit(20, "a", "hi", None)
    assert orjson.loads(text.getvalue())["message"] == "hi"
