"""A real Prometheus server scrapes an instrumented app; its query API sees our series."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests._servers import free_port, serve, uvicorn

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("prometheus") is None,
                       reason="prometheus binary not installed (Debian package 'prometheus')"),
]


def _query(base: str, expr: str) -> list[dict[str, object]]:
    body = httpx.get(f"{base}/api/v1/query", params={"query": expr}, timeout=5).json()
    assert body["status"] == "success", body
    result: list[dict[str, object]] = body["data"]["result"]
    return result


def test_prometheus_scrapes_and_queries_rates(tmp_path: Path) -> None:
    # Prometheus asks for OpenMetrics first; the text format is covered by promtool and
    # the reference parser in tests/metrics.
    app_port, prom_port = free_port(), free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: app\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{app_port}']\n"
    )
    with serve(uvicorn("fastapi_app:app", app_port), app_port) as app:
        prometheus = subprocess.Popen(
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
             f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{prom_port}"
        try:
            deadline = time.monotonic() + 40
            up: list[dict[str, object]] = []
            rate: list[dict[str, object]] = []
            while time.monotonic() < deadline:
                for i in range(5):
                    httpx.get(f"{app}/items/{i}", timeout=5)
                time.sleep(0.5)
                try:
                    up = _query(base, "up")
                    rate = _query(base, 'rate(http_requests_total{route="/items/{item_id}"}[1m])')
                except httpx.HTTPError:
                    continue
                if up and rate:
                    break
            assert up
            assert up[0]["value"][1] == "1"  # type: ignore[index]
            assert rate, "rate() over our counter returned nothing"
            assert float(rate[0]["value"][1]) > 0  # type: ignore[index]
            labels = rate[0]["metric"]
            assert labels["route"] == "/items/{item_id}"  # type: ignore[index]
            assert labels["status_code"] == "200"  # type: ignore[index]
            quantile = _query(base, "histogram_quantile(0.95, sum by (le) (rate("
                                    "http_request_duration_seconds_bucket[1m])))")
            assert quantile
        finally:
            prometheus.terminate()
            prometheus.wait(timeout=15)
            if prometheus.stderr:
                prometheus.stderr.close()
