"""Log throughput: watchkeeper vs structlog, python-json-logger, loguru and bare stdlib.

One run writes LINES JSON lines with five extra fields to a file per contender and
reports lines/s and ratios; watchkeeper runs with redaction on, through its native
logger and through the stdlib bridge. A second table compares per-call latency (p50,
p99) with and without a dead network sink (connection refused / hanging receiver);
``--http`` adds the same comparison for HTTP requests to a real uvicorn app (wrk).

    PYTHONPATH=src python benchmarks/log_throughput.py [--lines 200000] [--repeat 5] [--http]
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

FIELDS = {"user": "user-42", "amount": 12.5, "currency": "EUR", "items": 3}


def _reset_logging() -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for name in list(logging.root.manager.loggerDict):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()
    root.setLevel(logging.INFO)


def _timed(run: Callable[[int], None], lines: int, path: Path,
           after: Callable[[], None]) -> tuple[float, float]:
    """(lines per wall second, lines per CPU second of the whole process, all threads)."""
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    run(lines)
    after()
    elapsed, cpu_used = time.perf_counter() - start, time.process_time() - cpu
    written = sum(1 for _ in path.open("rb"))
    if written != lines:
        raise AssertionError(f"{path.name}: wrote {written} lines, expected {lines}")
    return lines / elapsed, lines / cpu_used


# -- contenders ------------------------------------------------------------------------
def raw_orjson(path: Path) -> tuple[Callable[[int], None], Callable[[], None]]:
    fh = path.open("ab")

    def run(n: int) -> None:
        for i in range(n):
            fh.write(orjson.dumps({"timestamp": time.time(), "level": "info",
                                   "message": "order placed", "order_id": i, **FIELDS},
                                  option=orjson.OPT_APPEND_NEWLINE))
            fh.flush()

    return run, fh.close


def structlog_orjson(path: Path) -> tuple[Callable[[int], None], Callable[[], None]]:
    import structlog

    fh = path.open("ab")
    structlog.configure(
        processors=[structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso", utc=True),
                    structlog.processors.JSONRenderer(serializer=orjson.dumps)],
        logger_factory=structlog.BytesLoggerFactory(fh),
        cache_logger_on_first_use=True,
    )
    log = structlog.get_logger()

    def run(n: int) -> None:
        for i in range(n):
            log.info("order placed", order_id=i, **FIELDS)

    def done() -> None:
        structlog.reset_defaults()
        fh.close()

    return run, done


def python_json_logger(path: Path) -> tuple[Callable[[int], None], Callable[[], None]]:
    from pythonjsonlogger.json import JsonFormatter

    _reset_logging()
    handler = logging.FileHandler(path)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.getLogger().addHandler(handler)
    log = logging.getLogger("bench")

    def run(n: int) -> None:
        for i in range(n):
            log.info("order placed", extra={"order_id": i, **FIELDS})

    return run, _reset_logging


def loguru_serialize(path: Path) -> tuple[Callable[[int], None], Callable[[], None]]:
    from loguru import logger

    logger.remove()
    logger.add(str(path), serialize=True, level="INFO")

    def run(n: int) -> None:
        for i in range(n):
            logger.bind(order_id=i, **FIELDS).info("order placed")

    return run, logger.remove


def stdlib_plain(path: Path) -> tuple[Callable[[int], None], Callable[[], None]]:
    _reset_logging()
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s order_id=%(order_id)s user=%(user)s "
        "amount=%(amount)s currency=%(currency)s items=%(items)s"))
    logging.getLogger().addHandler(handler)
    log = logging.getLogger("bench")

    def run(n: int) -> None:
        for i in range(n):
            log.info("order placed", extra={"order_id": i, **FIELDS})

    return run, _reset_logging


def _watchkeeper(path: Path, *, bridge: bool, flush_interval: float = 0.2
                 ) -> tuple[Callable[[int], None], Callable[[], None]]:
    from watchkeeper import logs
    from watchkeeper.config import Settings

    _reset_logging()
    settings = Settings(logs={"stream": "none", "flush_interval": flush_interval,
                              "files": [{"path": str(path), "max_bytes": 0}],
                              "patterns": {"enabled": True}})
    logs.configure(settings, registry=None, install_signal_handler=False)
    std = logging.getLogger("bench")
    native = logs.get_logger("bench")

    def run_bridge(n: int) -> None:
        for i in range(n):
            std.info("order placed", extra={"order_id": i, **FIELDS})

    def run_native(n: int) -> None:
        for i in range(n):
            native.info("order placed", order_id=i, **FIELDS)

    def done() -> None:
        logs.shutdown(5)
        logs.reset()
        _reset_logging()

    return (run_bridge if bridge else run_native), done


CONTENDERS: list[tuple[str, Callable[[Path], tuple[Callable[[int], None], Callable[[], None]]]]] = [
    ("raw orjson + write + flush", raw_orjson),
    ("structlog + orjson", structlog_orjson),
    ("python-json-logger", python_json_logger),
    ("loguru serialize=True", loguru_serialize),
    ("stdlib plain formatter", stdlib_plain),
    ("watchkeeper native (redaction on)", lambda p: _watchkeeper(p, bridge=False)),
    ("watchkeeper stdlib bridge (redaction on)", lambda p: _watchkeeper(p, bridge=True)),
    ("watchkeeper native, flush every line", lambda p: _watchkeeper(p, bridge=False,
                                                                    flush_interval=0)),
    ("watchkeeper bridge, flush every line", lambda p: _watchkeeper(p, bridge=True,
                                                                    flush_interval=0)),
]


def throughput(lines: int, repeat: int) -> dict[str, tuple[float, float]]:
    """Median over ``repeat`` rounds of (lines/s wall, lines per CPU second); rounds
    interleave the contenders and rotate their order, so load from other processes on
    the machine hits all of them alike."""
    got: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in CONTENDERS}
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in range(repeat):
            shift = attempt % len(CONTENDERS)
            for index, (name, make) in enumerate(CONTENDERS[shift:] + CONTENDERS[:shift]):
                path = Path(tmp) / f"{index}-{attempt}.log"
                run, done = make(path)
                wall, cpu = _timed(run, lines, path, done)
                got[name].append((wall, cpu))
                print(f"  round {attempt + 1}: {name:45s} {wall:>10,.0f} lines/s "
                      f"({cpu:,.0f} per CPU s)", file=sys.stderr)
    return {name: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
            for name, v in got.items()}


def _interleaved_contenders(tmp: Path) -> tuple[dict[str, Callable[[int], None]],
                                                 Callable[[], None]]:
    """Every contender set up at once, each on its own logger and file, so the runs can
    be interleaved in small chunks. python-json-logger and the plain formatter use a
    Logger subclass with the stdlib's own findCaller: watchkeeper's faster one (installed
    for its bridge) must not speed up the baselines."""
    import structlog
    from loguru import logger as loguru_logger
    from pythonjsonlogger.json import JsonFormatter

    from watchkeeper import logs
    from watchkeeper.config import Settings

    class StdlibLogger(logging.Logger):
        findCaller = _STDLIB_FIND_CALLER  # type: ignore[assignment]

    def own_logger(name: str, handler: logging.Handler) -> logging.Logger:
        log = StdlibLogger(name, logging.INFO)
        log.addHandler(handler)
        log.propagate = False
        return log

    _reset_logging()
    raw = (tmp / "raw.log").open("ab")
    sl_file = (tmp / "structlog.log").open("ab")
    structlog.configure(
        processors=[structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso", utc=True),
                    structlog.processors.JSONRenderer(serializer=orjson.dumps)],
        logger_factory=structlog.BytesLoggerFactory(sl_file),
        cache_logger_on_first_use=True,
    )
    sl = structlog.get_logger()
    pjl_handler = logging.FileHandler(tmp / "pjl.log")
    pjl_handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    pjl = own_logger("bench.pjl", pjl_handler)
    plain_handler = logging.FileHandler(tmp / "plain.log")
    plain_handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s order_id=%(order_id)s user=%(user)s "
        "amount=%(amount)s currency=%(currency)s items=%(items)s"))
    plain = own_logger("bench.plain", plain_handler)
    loguru_logger.remove()
    loguru_logger.add(str(tmp / "loguru.log"), serialize=True, level="INFO")
    logs.configure(Settings(logs={"stream": "none", "files": [
        {"path": str(tmp / "watchkeeper.log"), "max_bytes": 0}],
        "patterns": {"enabled": True}}), registry=None, install_signal_handler=False)
    native = logs.get_logger("bench")
    bridged = logging.getLogger("bench.bridge")

    def run_raw(n: int) -> None:
        for i in range(n):
            raw.write(orjson.dumps({"timestamp": time.time(), "level": "info",
                                    "message": "order placed", "order_id": i, **FIELDS},
                                   option=orjson.OPT_APPEND_NEWLINE))
            raw.flush()

    def run_structlog(n: int) -> None:
        for i in range(n):
            sl.info("order placed", order_id=i, **FIELDS)

    def stdlib_run(log: logging.Logger) -> Callable[[int], None]:
        def run(n: int) -> None:
            for i in range(n):
                log.info("order placed", extra={"order_id": i, **FIELDS})
        return run

    def run_loguru(n: int) -> None:
        for i in range(n):
            loguru_logger.bind(order_id=i, **FIELDS).info("order placed")

    def run_native(n: int) -> None:
        for i in range(n):
            native.info("order placed", order_id=i, **FIELDS)

    def done() -> None:
        raw.close()
        structlog.reset_defaults()
        sl_file.close()
        pjl_handler.close()
        plain_handler.close()
        loguru_logger.remove()
        logs.shutdown(5)
        logs.reset()
        _reset_logging()

    runs = {"raw orjson + write + flush": run_raw, "structlog + orjson": run_structlog,
            "python-json-logger": stdlib_run(pjl), "loguru serialize=True": run_loguru,
            "stdlib plain formatter": stdlib_run(plain),
            "watchkeeper native (redaction on)": run_native,
            "watchkeeper stdlib bridge (redaction on)": stdlib_run(bridged)}
    return runs, done


_STDLIB_FIND_CALLER = logging.Logger.findCaller


def throughput_interleaved(lines: int, chunk: int) -> dict[str, tuple[float, float]]:
    """(lines/s wall, lines per CPU second) per contender, all set up at once and run in
    interleaved chunks of ``chunk`` lines (the order rotating), so a burst of load from
    other processes hits every contender about equally. watchkeeper's lines (native and
    bridge share one pipeline and file) include its background threads' CPU."""
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        runs, done = _interleaved_contenders(Path(tmp))
        names = list(runs)
        for name in names:
            runs[name](1000)  # warm up
            wall[name] = cpu[name] = 0.0
        gc.collect()
        for index in range(max(1, lines // chunk)):
            shift = index % len(names)
            for name in names[shift:] + names[:shift]:
                start, start_cpu = time.perf_counter(), time.process_time()
                runs[name](chunk)
                wall[name] += time.perf_counter() - start
                cpu[name] += time.process_time() - start_cpu
        start, start_cpu = time.perf_counter(), time.process_time()
        done()  # flushes and closes every file; charged to watchkeeper (the only buffer)
        for name in ("watchkeeper native (redaction on)",
                     "watchkeeper stdlib bridge (redaction on)"):
            wall[name] += (time.perf_counter() - start) / 2
            cpu[name] += (time.process_time() - start_cpu) / 2
        total = max(1, lines // chunk) * chunk + 1000
        for file in Path(tmp).iterdir():
            written = sum(1 for _ in file.open("rb"))
            expected = total * (2 if file.name == "watchkeeper.log" else 1)
            if written != expected:
                raise AssertionError(f"{file.name}: wrote {written} lines, expected {expected}")
    n = max(1, lines // chunk) * chunk
    return {name: (n / wall[name], n / cpu[name]) for name in runs}


# -- dead sink latency -------------------------------------------------------------------
def _hanging_server() -> tuple[socket.socket, str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    conns: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conns.append(sock.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


def _dead_endpoints() -> tuple[list[tuple[str, str | None]], socket.socket]:
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    refused = f"http://127.0.0.1:{free.getsockname()[1]}"
    free.close()
    hang_sock, hanging = _hanging_server()
    setups = [("no network sink", None), ("dead sink: refused", refused),
              ("dead sink: hanging", hanging)]
    return setups, hang_sock


def latency(calls: int, rounds: int) -> dict[str, tuple[float, float]]:
    """Per-call latency of the native logger with no network sink and with a dead one.

    Rounds interleave the set-ups (the order rotates) and the table reports the median
    p50/p99 over the rounds, so load from other processes hits every set-up alike.
    """
    from watchkeeper import logs
    from watchkeeper.config import Settings

    setups, hang_sock = _dead_endpoints()
    samples_by: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in setups}
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in range(rounds):
            shift = attempt % len(setups)
            for name, url in setups[shift:] + setups[:shift]:
                extra: dict[str, Any] = {}
                if url:
                    extra["http"] = {"url": url, "timeout": 2, "queue_size": 1000,
                                     "max_retries": 2}
                settings = Settings(logs={"stream": "none",
                                          "files": [{"path": f"{tmp}/{attempt}-{name}.log",
                                                     "max_bytes": 0}], **extra})
                logs.configure(settings, registry=None, install_signal_handler=False)
                log = logs.get_logger("bench")
                samples = []
                for i in range(calls):
                    t0 = time.perf_counter_ns()
                    log.info("order placed", order_id=i, **FIELDS)
                    samples.append(time.perf_counter_ns() - t0)
                samples.sort()
                p50 = samples[len(samples) // 2] / 1000
                p99 = samples[int(len(samples) * 0.99)] / 1000
                logs.shutdown(0.5)
                logs.reset()
                samples_by[name].append((p50, p99))
                print(f"  round {attempt + 1}: {name:25s} p50 {p50:.1f} us  p99 {p99:.1f} us",
                      file=sys.stderr)
    hang_sock.close()
    return {name: (statistics.median(p for p, _ in got), statistics.median(q for _, q in got))
            for name, got in samples_by.items()}


def http_latency(rounds: int, seconds: float) -> dict[str, tuple[float, float]]:
    """Requests/s and p99 of a real uvicorn app (all defaults: JSON access line to stdout)
    with no network sink and with an HTTP shipper pointed at a dead endpoint.

    uvicorn is pinned to CPU 0 and wrk to CPU 1; rounds interleave the set-ups and the
    table reports medians. Needs wrk.
    """
    sys.path.insert(0, str(Path(__file__).parent))
    from _harness import free_port, require, server, wrk

    require("wrk")
    setups, hang_sock = _dead_endpoints()
    got: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in setups}
    for attempt in range(rounds):
        shift = attempt % len(setups)
        for name, url in setups[shift:] + setups[:shift]:
            env = {"BENCH_VARIANT": "watchkeeper_defaults"}
            if url:
                env["WATCHKEEPER_LOGS__HTTP"] = orjson.dumps(
                    {"url": url, "timeout": 2, "max_retries": 2}).decode()
            port = free_port()
            argv = [sys.executable, "-m", "uvicorn", "_bench_apps:app", "--port", str(port),
                    "--log-level", "warning", "--no-access-log"]
            with server(argv, port, env, "/items/1") as base:
                wrk(f"{base}/items/1", 1.0)  # warm up (and fill the dead sink's queue)
                result = wrk(f"{base}/items/1", seconds)
            got[name].append((result.requests_per_second, result.p99_ms))
            print(f"  round {attempt + 1}: {name:25s} {result.requests_per_second:8.0f} req/s "
                  f"p99 {result.p99_ms:.2f} ms", file=sys.stderr, flush=True)
    hang_sock.close()
    return {name: (statistics.median(r for r, _ in v), statistics.median(p for _, p in v))
            for name, v in got.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--latency-only", action="store_true")
    parser.add_argument("--chunk", type=int, default=2_000)
    parser.add_argument("--sequential", action="store_true",
                        help="one contender at a time, medians of --repeat rounds (adds the "
                             "flush-every-line variants)")
    parser.add_argument("--http", action="store_true",
                        help="also: p99 of HTTP requests (uvicorn + wrk) with a dead sink")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    if not args.latency_only:
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, {args.lines:,} lines, "
              f"5 extra fields, to a file", file=sys.stderr)
        if args.sequential:
            results = throughput(args.lines, args.repeat)
            how = f"medians of {args.repeat} interleaved rounds, each contender alone"
        else:
            results = throughput_interleaved(args.lines, args.chunk)
            how = f"all contenders at once, interleaved in chunks of {args.chunk:,} lines"
        sl_wall, sl_cpu = results["structlog + orjson"]
        pjl_wall, pjl_cpu = results["python-json-logger"]
        print(f"\n{how}")
        print("| logger | lines/s (wall) | vs structlog+orjson | vs python-json-logger "
              "| lines per CPU s | vs structlog (CPU) | vs pjl (CPU) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, (wall, cpu) in results.items():
            print(f"| {name} | {wall:,.0f} | {wall / sl_wall:.2f}x | {wall / pjl_wall:.2f}x "
                  f"| {cpu:,.0f} | {cpu / sl_cpu:.2f}x | {cpu / pjl_cpu:.2f}x |")
    _latency_table(latency(args.calls, args.repeat))
    if args.http:
        http = http_latency(args.repeat, args.seconds)
        base_rps, base_p99 = http["no network sink"]
        print("\n| HTTP requests (uvicorn, all defaults) | req/s | vs no sink | p99 ms "
              "| p99 vs no sink |")
        print("|---|---:|---:|---:|---:|")
        for name, (rps, p99) in http.items():
            print(f"| {name} | {rps:,.0f} | {rps / base_rps:.2f}x | {p99:.2f} "
                  f"| {p99 / base_p99:.2f}x |")


def _latency_table(lat: dict[str, tuple[float, float]]) -> None:
    base_p99 = lat["no network sink"][1]
    print("\n| native logger, per call | p50 µs | p99 µs | p99 vs no sink |")
    print("|---|---:|---:|---:|")
    for name, (p50, p99) in lat.items():
        print(f"| {name} | {p50:.1f} | {p99:.1f} | {p99 / base_p99:.2f}x |")


if __name__ == "__main__":
    main()
