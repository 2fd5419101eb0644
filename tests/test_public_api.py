"""The public surface is what we mean it to be, and importing it stays cheap."""

from __future__ import annotations

import subprocess
import sys

import watchkeeper


def test_top_level_api_is_pinned() -> None:
    assert watchkeeper.__all__ == [
        "__version__",
        "cache_access",
        "capture_exception",
        "capture_message",
        "continue_trace",
        "counter",
        "current_span_id",
        "current_trace_id",
        "extract",
        "gauge",
        "get_logger",
        "histogram",
        "init",
        "inject",
        "instrument",
        "record_cost",
        "span",
        "timer",
        "traced",
        "track_db_operation",
        "track_message",
        "uninstrument",
    ]
    for name in watchkeeper.__all__:
        assert getattr(watchkeeper, name) is not None


def test_import_is_cheap_and_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, time\n"
        "t = time.perf_counter()\n"
        "import watchkeeper\n"
        "elapsed = time.perf_counter() - t\n"
        "heavy = [m for m in ('numpy', 'starlette', 'opentelemetry.sdk', 'pydantic', "
        "'prometheus_client') if m in sys.modules]\n"
        "print(elapsed, heavy)\n"
    )
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True,
                         text=True, check=True)
    elapsed, heavy = out.stdout.split(" ", 1)
    assert heavy.strip() == "[]"
    assert float(elapsed) < 0.1


def test_exception_tree_has_one_root() -> None:
    from watchkeeper import exceptions

    for name in exceptions.__all__:
        cls = getattr(exceptions, name)
        if isinstance(cls, type) and issubclass(cls, Exception):
            assert issubclass(cls, exceptions.WatchkeeperError)


def test_stage_packages_load_on_attribute_access() -> None:
    code = ("import sys, watchkeeper\n"
            "assert 'watchkeeper.health' not in sys.modules\n"
            "assert callable(watchkeeper.health.check)\n"
            "assert 'watchkeeper.health' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)
