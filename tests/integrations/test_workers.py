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


def _exemplar_scrape(text: str) -> dict[tuple[str, str], tuple[float, str | None, float]]:
    """{(route, le): (bucket's own count, exemplar trace id, exemplar value)} of the request
    duration histogram, read by prometheus_client's OpenMetrics parser (which rejects
    malformed exemplars)."""
    from prometheus_client.openmetrics.parser import text_string_to_metric_families

    family = next(f for f in text_string_to_metric_families(text)
                  if f.name == "http_request_duration_seconds")
    out: dict[tuple[str, str], tuple[float, str | None, float]] = {}
    below: dict[str, float] = {}
    for sample in family.samples:
        if not sample.name.endswith("_bucket"):
            continue
        route, le = sample.labels["route"], sample.labels["le"]
        own = sample.value - below.get(route, 0.0)  # cumulative -> this bucket's count
        below[route] = sample.value
        mark = sample.exemplar
        out[route, le] = (own, mark.labels["trace_id"] if mark else None,
                          mark.value if mark else float("nan"))
    return out


def test_exemplars_of_every_worker_reach_the_scrape(tmp_path) -> None:  # type: ignore[no-untyped-def]
    shards = tmp_path / "shards"
    port = free_port()
    env = {"WATCHKEEPER_METRICS__MULTIPROCESS_DIR": str(shards),
           "WATCHKEEPER_TRACES__ENABLED": "true", "WATCHKEEPER_TRACES__SAMPLE_RATIO": "1.0",
           "WATCHKEEPER_TRACES__EXPORTERS": "none",
           "WATCHKEEPER_TRACES__TRACE_ID_HEADER": "X-Trace-Id"}
    argv = gunicorn("counting_app:asgi", port, "-w", "2", "-k", "uvicorn_worker.UvicornWorker")
    served: dict[str, int] = {}  # trace id -> pid that served it

    def one(client: httpx.Client, path: str) -> tuple[str, int]:
        response = client.get(path)
        trace_id = response.headers["x-trace-id"]
        served[trace_id] = int(response.json()["pid"])
        return trace_id, served[trace_id]

    def fresh(path: str) -> tuple[str, int]:
        with httpx.Client(base_url=base, timeout=10) as client:  # new connection
            return one(client, path)

    with serve(argv, port, env=env) as base:
        time.sleep(1.0)
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda i: fresh(f"/nap/{(0, 20, 60, 150, 400)[i % 5]}"), range(100)))
        assert len(set(served.values())) == 2, "the load did not reach both workers"
        # The last request of each route, served by different workers: each is the newest
        # of its bucket, so both must show whichever worker answers the scrape.
        last_hit, hit_pid = fresh("/hit/1")
        for _ in range(200):
            last_nap, nap_pid = fresh("/nap/0")
            if nap_pid != hit_pid:
                break
        assert nap_pid != hit_pid
        accept = {"accept": "application/openmetrics-text"}
        texts = [httpx.get(f"{base}/metrics", headers=accept).text for _ in range(6)]
        plain = httpx.get(f"{base}/metrics").text
        assert "# {" not in plain  # the 0.0.4 text format never carries exemplars
        for text in texts:
            buckets = _exemplar_scrape(text)
            shown = {trace for _, trace, _ in buckets.values() if trace}
            assert {last_hit, last_nap} <= shown
            previous = {"/hit/{n}": 0.0, "/nap/{ms}": 0.0}
            for (route, le), (count, trace, observed) in buckets.items():
                bound = float(le)
                if count > 0:
                    assert trace in served, f"{route} le={le}: no exemplar of a served request"
                    assert previous[route] < observed <= bound
                previous[route] = bound

        # Corrupt the slot holding the /hit exemplar in its worker's file: the scrape
        # skips it (that bucket has no other exemplar) and keeps everything else.
        needle = last_hit.encode()
        slot_file = next(p for p in shards.iterdir()
                         if p.suffix == ".exemplars" and needle in p.read_bytes())
        data = slot_file.read_bytes()
        at = data.index(needle) - 9  # a byte of the slot's timestamp, just before the id
        with open(slot_file, "r+b") as fh:
            fh.seek(at)
            fh.write(bytes([data[at] ^ 0xFF]))
        corrupted = httpx.get(f"{base}/metrics", headers=accept).text

    after = _exemplar_scrape(corrupted)
    shown = {trace for _, trace, _ in after.values() if trace}
    assert last_hit not in shown
    assert last_nap in shown
    assert all(trace for (route, _), (count, trace, _) in after.items()
               if count > 0 and route == "/nap/{ms}")
