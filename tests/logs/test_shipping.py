from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import orjson
import pytest

from watchkeeper import logs
from watchkeeper.logs import (
    ElasticsearchSink,
    HttpJsonSink,
    LogstashSink,
    LokiSink,
    OtlpLogSink,
    Pipeline,
    SyslogSink,
)

from .servers import CaptureHTTP, CaptureTCP, HangingServer, refused_port, wait_for

FAST: dict[str, Any] = {"batch_size": 50, "batch_interval": 0.05, "backoff_initial": 0.01,
                        "backoff_max": 0.05, "timeout": 1.0}


def _pipeline(*sinks: Any) -> Pipeline:
    return Pipeline(static={"service": "svc"}, redactor=logs.Redactor(), sinks=list(sinks),
                    caller=False)


def _emit(pipeline: Pipeline, n: int) -> None:
    for i in range(n):
        pipeline.emit(20, "app", f"event {i}", {"i": i, "password": "pw-secret"})


def test_loki_receives_every_record() -> None:
    server = CaptureHTTP(lambda n, body: (204, b""))
    sink = LokiSink(f"{server.url}/loki/api/v1/push", labels={"service": "svc"}, **FAST)
    try:
        _emit(_pipeline(sink), 120)
        assert sink.drain(5)
        values = []
        for path, headers, body in server.requests:
            assert path == "/loki/api/v1/push"
            assert headers["Content-Type"] == "application/json"
            for stream in orjson.loads(body)["streams"]:
                assert stream["stream"] == {"service": "svc", "level": "info"}
                values.extend(stream["values"])
        assert sorted(orjson.loads(v[1])["i"] for v in values) == list(range(120))
        assert all(v[0].isdigit() and len(v[0]) == 19 for v in values)
        assert b"pw-secret" not in b"".join(r[2] for r in server.requests)
    finally:
        sink.close(1)
        server.close()


def test_elasticsearch_bulk_and_item_retry() -> None:
    def respond(n: int, body: bytes) -> tuple[int, bytes]:
        docs = body.count(b"\n") // 2
        if n == 1:  # first item throttled, the rest stored
            items = [{"create": {"status": 429}}] + [{"create": {"status": 201}}] * (docs - 1)
            return 200, orjson.dumps({"errors": True, "items": items})
        return 200, orjson.dumps({"errors": False, "items": [{"create": {"status": 201}}] * docs})

    server = CaptureHTTP(respond)
    sink = ElasticsearchSink(server.url, index="logs-%Y.%m", **FAST)
    try:
        _emit(_pipeline(sink), 10)
        assert sink.drain(5)
        stored: list[int] = []
        for i, (path, headers, body) in enumerate(server.requests):
            assert path == "/_bulk"
            assert headers["Content-Type"] == "application/x-ndjson"
            lines = body.splitlines()
            assert orjson.loads(lines[0])["create"]["_index"].startswith("logs-20")
            docs = [orjson.loads(x)["i"] for x in lines[1::2]]
            stored.extend(docs[1:] if i == 0 else docs)
        assert sorted(stored) == list(range(10))
        assert sink.dropped == 0
    finally:
        sink.close(1)
        server.close()


def test_http_and_otlp_sinks() -> None:
    server = CaptureHTTP()
    http_sink = HttpJsonSink(f"{server.url}/ingest", headers={"X-Token": "t"}, **FAST)
    otlp = OtlpLogSink(f"{server.url}/v1/logs", resource={"service.name": "svc"}, **FAST)
    try:
        _emit(_pipeline(http_sink, otlp), 30)
        assert http_sink.drain(5)
        assert otlp.drain(5)
        got_http = [r for r in server.requests if r[0] == "/ingest"]
        got_otlp = [r for r in server.requests if r[0] == "/v1/logs"]
        assert sum(len(orjson.loads(b)) for _, _, b in got_http) == 30
        assert got_http[0][1]["X-Token"] == "t"
        records = [rec for _, _, b in got_otlp
                   for rl in orjson.loads(b)["resourceLogs"]
                   for sl in rl["scopeLogs"] for rec in sl["logRecords"]]
        assert len(records) == 30
        assert records[0]["severityText"] == "INFO"
        assert records[0]["body"]["stringValue"].startswith("event")
    finally:
        http_sink.close(1)
        otlp.close(1)
        server.close()


def test_logstash_tcp_and_syslog() -> None:
    tcp = CaptureTCP()
    udp = CaptureTCP(udp=True)
    stcp = CaptureTCP()
    logstash = LogstashSink("127.0.0.1", tcp.port, **FAST)
    syslog_udp = SyslogSink(("127.0.0.1", udp.port), transport="udp", app_name="svc", **FAST)
    syslog_tcp = SyslogSink(("127.0.0.1", stcp.port), transport="tcp", app_name="svc", **FAST)
    try:
        pipeline = _pipeline(logstash, syslog_udp, syslog_tcp)
        _emit(pipeline, 25)
        pipeline.emit(40, "app", "bad", None)
        for sink in (logstash, syslog_udp, syslog_tcp):
            assert sink.drain(5)
        assert wait_for(lambda: tcp.data.count(b"\n") == 26)
        assert [orjson.loads(x)["message"] for x in bytes(tcp.data).splitlines()][-1] == "bad"
        assert wait_for(lambda: len(udp.datagrams) == 26)
        first = udp.datagrams[0]
        assert first.startswith(b"<14>1 ")
        assert b" svc " in first
        assert udp.datagrams[-1].startswith(b"<11>1 ")  # user.err
        assert orjson.loads(first.split(b"\xef\xbb\xbf", 1)[1])["message"] == "event 0"
        assert wait_for(lambda: len(stcp.data) > 0)
        length, _, rest = bytes(stcp.data).partition(b" ")
        assert rest[: int(length)].startswith(b"<14>1 ")  # octet-counting framing
    finally:
        for sink in (logstash, syslog_udp, syslog_tcp):
            sink.close(1)
        for server in (tcp, udp, stcp):
            server.close()


def test_retry_with_backoff_until_delivered() -> None:
    server = CaptureHTTP(lambda n, body: (503, b"") if n <= 2 else (200, b"{}"))
    sink = HttpJsonSink(server.url, **FAST)
    try:
        _emit(_pipeline(sink), 5)
        assert sink.drain(5)
        assert len(server.requests) == 3
        assert sink.sent == 5
        assert sink.dropped == 0
    finally:
        sink.close(1)
        server.close()


def test_bad_request_is_dropped_not_retried() -> None:
    server = CaptureHTTP(lambda n, body: (400, b"bad"))
    sink = HttpJsonSink(server.url, **FAST)
    try:
        _emit(_pipeline(sink), 5)
        sink.drain(5)
        assert len(server.requests) == 1
        assert sink.dropped == 5
    finally:
        sink.close(1)
        server.close()


def _time_per_call(pipeline: Pipeline, n: int) -> float:
    start = time.perf_counter()
    _emit(pipeline, n)
    return (time.perf_counter() - start) / n


@pytest.mark.parametrize("kind", ["refused", "hanging"])
def test_dead_sink_does_not_slow_the_caller_and_drops_are_counted(kind: str,
                                                                   registry: Any) -> None:
    hanging = HangingServer() if kind == "hanging" else None
    url = hanging.url if hanging else f"http://127.0.0.1:{refused_port()}"
    warnings: list[tuple[str, dict[str, Any]]] = []
    drops = logs._shipper.registry_drop_counter(registry)
    sink = HttpJsonSink(url, name="dead", queue_size=200, batch_size=50, batch_interval=0.01,
                        max_retries=1, backoff_initial=0.01, timeout=0.3,
                        count_drops=drops, warn=lambda m, f: warnings.append((m, f)),
                        drop_warning_interval=60)
    baseline = _pipeline()
    dead = _pipeline(sink)
    try:
        _time_per_call(baseline, 2000)  # warm caches
        base = min(_time_per_call(baseline, 3000) for _ in range(3))
        slow = min(_time_per_call(dead, 3000) for _ in range(3))
        # A blocked caller would take the 0.3 s timeout; this box is shared, so be lenient.
        assert slow < base * 3 + 20e-6, (base, slow)
        sink.close(0.2)
        # close() returns at its deadline; a batch still in a send is counted when the
        # send gives up (the 0.3 s timeout).
        sink._thread.join(2)
        family = registry.families["watchkeeper_log_records_dropped_total"]
        # Every record written is accounted for: overflow, retries exhausted, shutdown.
        assert sink.sent == 0
        assert family.children[("dead",)].value == sink.dropped == 9000
        # One WARNING in the interval, plus at most one summary when the sink closes.
        assert 1 <= len(warnings) <= 2
        assert warnings[0][1]["sink"] == "dead"
        # The warnings cover every drop but the batch that was still in a send at close.
        warned = sum(f["dropped"] for _, f in warnings)
        assert sink.dropped - sink.batch_size <= warned <= sink.dropped
    finally:
        sink.close(0.1)
        if hanging:
            hanging.close()


def test_close_respects_the_deadline_with_a_hanging_sink() -> None:
    hanging = HangingServer()
    sink = HttpJsonSink(hanging.url, batch_interval=0.01, timeout=10, max_retries=0)
    try:
        _emit(_pipeline(sink), 10)
        time.sleep(0.05)
        start = time.monotonic()
        sink.close(0.3)
        assert time.monotonic() - start < 1.0
    finally:
        hanging.close()


SCRIPT = textwrap.dedent("""
    import sys, time, logging
    from watchkeeper import logs
    from watchkeeper.config import Settings
    settings = Settings(logs={"stream": "none",
                              "http": {"url": sys.argv[1], "batch_interval": 60,
                                       "batch_size": 10000}})
    logs.configure(settings, registry=None)
    log = logs.get_logger("app")
    for i in range(50):
        log.info("pending", i=i)
    print("ready", flush=True)
    if sys.argv[2] == "wait":
        time.sleep(30)
""")


def test_sigterm_flushes_pending_records(tmp_path: Any) -> None:
    server = CaptureHTTP()
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, str(script), f"{server.url}/logs", "wait"],
                            stdout=subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        assert not server.requests
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == -signal.SIGTERM
        got = [rec["i"] for _, _, body in server.requests for rec in orjson.loads(body)]
        assert sorted(got) == list(range(50))
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        server.close()


def test_normal_exit_flushes_pending_records(tmp_path: Any) -> None:
    server = CaptureHTTP()
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    try:
        done = subprocess.run([sys.executable, str(script), f"{server.url}/logs", "exit"],
                              capture_output=True, env=env, timeout=20, check=True)
        assert done.stdout.strip() == b"ready"
        got = [rec["i"] for _, _, body in server.requests for rec in orjson.loads(body)]
        assert sorted(got) == list(range(50))
    finally:
        server.close()


FORK_SCRIPT = textwrap.dedent("""
    import os, sys, time
    from watchkeeper import logs
    from watchkeeper.config import Settings
    settings = Settings(logs={"stream": "stdout", "flush_interval": 0.05,
                              "files": [{"path": sys.argv[2], "max_bytes": 0}],
                              "http": {"url": sys.argv[1], "batch_interval": 0.05}})
    logs.configure(settings, registry=None, install_signal_handler=False)
    log = logs.get_logger("app")
    log.info("before fork")
    pid = os.fork()
    if pid == 0:
        # A pre-fork worker: it logs, and its lines must get out while it runs (no
        # flush call, no atexit: os._exit, as a killed worker would).
        log.info("in child")
        time.sleep(1.5)
        os._exit(0)
    os.waitpid(pid, 0)
    log.info("parent after")
    logs.shutdown(5)
""")


def test_forked_worker_keeps_logging_through_every_sink(tmp_path: Any) -> None:
    """Threads do not survive fork: the child restarts the writer, flusher and shipper
    threads, and lines buffered before the fork are written once."""
    server = CaptureHTTP()
    script = tmp_path / "fork.py"
    script.write_text(FORK_SCRIPT)
    log_file = tmp_path / "app.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, str(script), f"{server.url}/logs", str(log_file)],
                         capture_output=True, env=env, timeout=30, check=True).stdout
    stdout = [orjson.loads(line)["message"] for line in out.splitlines()]
    in_file = [orjson.loads(line)["message"] for line in log_file.read_bytes().splitlines()]
    shipped = [rec["message"] for _, _, body in server.requests for rec in orjson.loads(body)]
    for messages in (stdout, in_file, shipped):
        assert sorted(messages) == ["before fork", "in child", "parent after"], messages


def test_backed_up_queues_are_invisible_to_the_garbage_collector() -> None:
    """A dead receiver keeps a full queue that churns with every record: queued items
    must not be GC-tracked, or each one is promoted through the generations and full
    collections (a pause over the whole heap) come ever more often."""
    import gc
    import io

    from watchkeeper.logs import StreamSink

    dead = HttpJsonSink(f"http://127.0.0.1:{refused_port()}/x", queue_size=200,
                        batch_interval=60, batch_size=10_000)
    stream = StreamSink(io.BytesIO(), flush_interval=60)
    pipeline = _pipeline(dead, stream)
    try:
        _emit(pipeline, 300)
        gc.collect()
        assert len(dead._queue) == 200
        assert not any(gc.is_tracked(item) for item in dead._queue)
        queued = [item for item in stream._pending if type(item) is bytes]
        assert len(queued) == 300
        assert not any(gc.is_tracked(item) for item in queued)
    finally:
        pipeline.close(0.1)


def test_stream_sink_follows_a_swapped_stdout(monkeypatch: Any) -> None:
    import io

    from watchkeeper.logs import StreamSink

    first, second = io.StringIO(), io.StringIO()
    sink = StreamSink("stdout", flush_interval=60)
    pipeline = _pipeline(sink)
    try:
        monkeypatch.setattr(sys, "stdout", first)
        pipeline.emit(20, "app", "one", None)
        pipeline.emit(20, "app", "two", None)
        monkeypatch.setattr(sys, "stdout", second)
        pipeline.emit(20, "app", "three", None)
        sink.flush()
        assert [orjson.loads(x)["message"] for x in first.getvalue().splitlines()] == [
            "one", "two"]
        assert [orjson.loads(x)["message"] for x in second.getvalue().splitlines()] == [
            "three"]
    finally:
        pipeline.close(0.5)
