"""Our scrape stores the same series a real Prometheus stores from the same /metrics."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests._servers import free_port, serve, uvicorn
from watchkeeper.promql import Engine
from watchkeeper.scrape import Scraper
from watchkeeper.tsdb import TSDB

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("prometheus") is None,
                       reason="prometheus binary not installed (Debian package 'prometheus')"),
]

OPENMETRICS_FIRST = ("application/openmetrics-text;version=1.0.0,"
                     "application/openmetrics-text;version=0.0.1;q=0.75,"
                     "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")


def _prometheus_series(base: str) -> set[frozenset[tuple[str, str]]] | None:
    try:
        response = httpx.get(f"{base}/api/v1/query", params={"query": '{job="app"}'}, timeout=5)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    return {frozenset(r["metric"].items()) for r in response.json()["data"]["result"]}


def test_same_series_as_prometheus(tmp_path: Path) -> None:
    app_port, prom_port = free_port(), free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n"
        "scrape_configs:\n  - job_name: app\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{app_port}']\n")
    with serve(uvicorn("fastapi_app:app", app_port), app_port) as app:
        for i in range(3):  # some request series, then only scrapes
            httpx.get(f"{app}/items/{i}", timeout=5)
        prometheus = subprocess.Popen(
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
             f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        db = TSDB()
        scraper = Scraper(
            db, lambda: httpx.get(f"{app}/metrics", headers={"Accept": OPENMETRICS_FIRST},
                                  timeout=5).text,
            {"job": "app", "instance": f"127.0.0.1:{app_port}"})
        try:
            theirs: set[frozenset[tuple[str, str]]] | None = None
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline:
                assert scraper.scrape().up
                time.sleep(1.0)
                theirs = _prometheus_series(f"http://127.0.0.1:{prom_port}")
                if theirs and len(theirs) > 20:
                    break
            assert theirs, "Prometheus stored nothing"
            time.sleep(2.5)  # both have scraped the app's /metrics requests into its counters
            scraper.scrape()
            theirs = _prometheus_series(f"http://127.0.0.1:{prom_port}")
            assert theirs is not None
            ours = {frozenset(s.labels.items())
                    for s in Engine(db).instant('{job="app"}', time.time()).vector}
        finally:
            prometheus.terminate()
            prometheus.wait(timeout=15)

    def names(series: set[frozenset[tuple[str, str]]]) -> set[str]:
        return {dict(s)["__name__"] for s in series}

    # Series of requests to /metrics may differ by one scrape's timing; everything else
    # (names, label sets, the scrape_* report series) must be identical.
    assert names(ours) == names(theirs)
    stable_ours = {s for s in ours if ("route", "/metrics") not in s}
    stable_theirs = {s for s in theirs if ("route", "/metrics") not in s}
    assert stable_ours == stable_theirs
