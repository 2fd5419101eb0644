"""Totals across pre-fork workers: gunicorn sync workers, gunicorn with uvicorn workers,
and ``uvicorn --workers``. Whichever worker answers the scrape reports every worker's
requests."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests._servers import free_port, gunicorn, samples, serve, uvicorn, value

pytestmark = pytest.mark.slow

REQUESTS = 400


def _hammer(base: str) -> set[int]:
    """Send REQUESTS requests over many connections; return the pids that answered."""

    def one(i: int) -> int:
        with httpx.Client(timeout=10) as client:
            return int(client.get(f"{base}/hit/{i}").json()["pid"])

    with ThreadPoolExecutor(max_workers=16) as pool:
        return set(pool.map(one, range(REQUESTS)))


def _scrapes(base: str, count: int = 8) -> list[str]:
    texts = []
    for _ in range(count):
        with httpx.Client(timeout=10) as client:  # new connection: likely another worker
            texts.append(client.get(f"{base}/metrics").text)
    return texts


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(lambda port: gunicorn("counting_app:wsgi", port, "-w", "4"),
                     id="gunicorn-sync"),
        pytest.param(lambda port: gunicorn("counting_app:asgi", port, "-w", "4", "-k",
                                           "uvicorn_worker.UvicornWorker"),
                     id="gunicorn-uvicorn-workers"),
        pytest.param(lambda port: uvicorn("counting_app:asgi", port, "--workers", "4"),
                     id="uvicorn-workers"),
        pytest.param(lambda port: gunicorn("counting_app:wsgi", port, "-w", "4", "--preload"),
                     id="gunicorn-preload"),
    ],
)
def test_every_worker_reports_the_total(argv) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    with serve(argv(port), port) as base:
        time.sleep(1.0)  # all workers booted
        pids = _hammer(base)
        texts = _scrapes(base)
    assert len(pids) >= 2, "the load did not reach several workers"
    route = "/hit/{n}" if "asgi" in " ".join(argv(0)) else "/hit/<int:n>"
    for text in texts:
        assert value(text, "http_requests_total", route=route, status_code="200") == REQUESTS
        assert value(text, "http_request_duration_seconds_count", route=route) == REQUESTS
        # process metrics stay per worker
        workers = samples(text, "process_resident_memory_bytes")
        assert len(workers) >= len(pids)
        assert all(dict(labels).get("pid") for labels in workers)


def test_dead_worker_keeps_its_counts_but_not_its_gauges() -> None:
    port = free_port()
    with serve(gunicorn("counting_app:wsgi", port, "-w", "2"), port) as base:
        time.sleep(1.0)
        pids = _hammer(base)
        victim = sorted(pids)[0]
        os.kill(victim, signal.SIGKILL)  # gunicorn replaces it
        time.sleep(2.0)
        texts = _scrapes(base, 4)
    for text in texts:
        assert value(text, "http_requests_total", route="/hit/<int:n>") == REQUESTS
        live_pids = {dict(k)["pid"] for k in samples(text, "process_resident_memory_bytes")}
        assert str(victim) not in live_pids


def test_corrupt_and_empty_shards_never_break_the_scrape(tmp_path) -> None:  # type: ignore[no-untyped-def]
    shards = tmp_path / "shards"
    shards.mkdir()
    (shards / "1-dead.keys").write_bytes(b'{"s":0,"n":1,"f":"x","v":[]}\n{garbage\n{"s":1')
    (shards / "1-dead.values").write_bytes(b"\x00" * 7)
    (shards / "2-empty.keys").write_bytes(b"")
    (shards / "2-empty.values").write_bytes(b"")
    port = free_port()
    env = {"WATCHKEEPER_METRICS__MULTIPROCESS_DIR": str(shards)}
    with serve(gunicorn("counting_app:wsgi", port, "-w", "2"), port, env=env) as base:
        for i in range(10):
            httpx.get(f"{base}/hit/{i}")
        text = httpx.get(f"{base}/metrics").text
    assert value(text, "http_requests_total", route="/hit/<int:n>") == 10
