"""An application that set its own TracerProvider first (Logfire, Sentry, by hand) keeps
it; watchkeeper adds its processors to it. Runs in a fresh interpreter: the OpenTelemetry
global provider can be set only once per process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

SCRIPT = """
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import watchkeeper
from watchkeeper import traces

theirs = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(theirs))
trace.set_tracer_provider(provider)

watchkeeper.init(traces={"exporters": ["memory"]})
with watchkeeper.span("mine"):
    with trace.get_tracer("app").start_as_current_span("theirs"):
        pass
assert trace.get_tracer_provider() is provider
assert traces.current().provider is provider
ours = sorted(s.name for s in traces.finished_spans())
assert ours == ["mine", "theirs"], ours
assert sorted(s.name for s in theirs.get_finished_spans()) == ["mine", "theirs"]
print("ok")
"""


def test_an_existing_provider_is_reused() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         check=False, env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
                         timeout=60)
    assert out.stdout.strip() == "ok", out.stderr
