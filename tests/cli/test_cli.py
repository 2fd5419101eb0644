"""The ``watchkeeper`` command as a user runs it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests._servers import free_port, value, wait_until_up
from watchkeeper import __version__
from watchkeeper.cli import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"watchkeeper {__version__}"


def test_check_config_ok_and_bad(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yml"
    good.write_text("service:\n  name: shop\n")
    assert main(["check", "config", str(good)]) == 0
    assert "OK" in capsys.readouterr().out
    bad = tmp_path / "bad.yml"
    bad.write_text("service:\n  name: shop\nmetrics:\n  path: metrics\n")
    assert main(["check", "config", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:4" in err
    assert "metrics.path" in err
    assert "'metrics'" in err


@pytest.mark.slow
def test_demo_serves_metrics_with_load() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "watchkeeper.cli", "demo", "--port", str(port), "--rate", "50",
         "--duration", "20"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base + "/metrics", process)
        import time

        time.sleep(1.5)
        text = httpx.get(base + "/metrics").text
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=15)
    assert value(text, "http_requests_total", route="/items/{item_id}", status_code="200")
    assert "demo_payment_seconds_bucket" in text
    assert re.search(rf"metrics: +http://127.0.0.1:{port}/metrics", out.decode())


def test_missing_optional_dependency_names_the_extra(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import builtins

    real_import = builtins.__import__

    def without_numpy(name: str, *args: object, **kwargs: object) -> object:
        if name == "numpy" or name.startswith("numpy."):
            raise ModuleNotFoundError("No module named 'numpy'", name="numpy")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    import sys

    for module in [m for m in sys.modules if m.startswith(("watchkeeper.promql",
                                                            "watchkeeper.tsdb", "numpy"))]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setattr(builtins, "__import__", without_numpy)
    data = tmp_path / "data.prom"
    data.write_text("up 1 1000\n")
    assert main(["promql", "query", "1+1", "--data", str(data)]) == 2
    assert "pip install 'watchkeeper[hub]'" in capsys.readouterr().err
