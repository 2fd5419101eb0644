"""The TracerProvider: resource, sampler, exporters, batching, fork and shutdown.

One provider per process, created on the first ``configure`` and reused by later calls
(the OpenTelemetry global can be set only once): a new configuration swaps the sampler
and the processors in place. When the application already installed an SDK provider
(Logfire, Sentry, its own), watchkeeper adds its processors to that one instead.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import platform
import signal
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..exceptions import TracingError

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan, Span, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.sdk.trace.sampling import Sampler, SamplingResult
    from opentelemetry.trace import Link, SpanKind, Tracer
    from opentelemetry.trace.span import TraceState
    from opentelemetry.util.types import Attributes

    from ..config import Settings, TracesSettings
    from ..logs import Redactor
    from ._processor import BoundedBatchProcessor

__all__ = ["TracingState", "configure", "current", "exporter_names", "flush",
           "resource_attributes", "shutdown", "tracing_wanted"]

_log = logging.getLogger("watchkeeper.traces")
_lock = threading.RLock()
_SIGTERM_FLUSH_WAIT = 2.0
_DEFAULTS = {"max_queue_size": 2048, "max_export_batch_size": 512, "schedule_delay": 5.0,
             "export_timeout": 10.0}
_ENV = {"max_queue_size": "OTEL_BSP_MAX_QUEUE_SIZE",
        "max_export_batch_size": "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        "schedule_delay": "OTEL_BSP_SCHEDULE_DELAY", "export_timeout": "OTEL_BSP_EXPORT_TIMEOUT"}


@dataclass
class TracingState:
    """What ``configure`` set up; the hooks and API read it through :func:`current`."""

    provider: Any
    tracer: Tracer
    settings: TracesSettings
    processors: list[BoundedBatchProcessor] = field(default_factory=list)
    memory: Any = None
    owned: bool = True
    live: bool = True

    @property
    def dropped(self) -> int:
        return sum(p.stats.dropped for p in self.processors)


_state: TracingState | None = None
_provider: TracerProvider | None = None
_switch: _SwitchProcessor | None = None
_sampler: _SwitchSampler | None = None
_hooks_installed = False


def current() -> TracingState | None:
    """The active tracing state, or None when tracing is off."""
    return _state


def configure(settings: Settings, redactor: Redactor | None = None,
              on_drop: Callable[[int], None] | None = None) -> TracingState | None:
    """Install (or re-install) tracing as ``settings.traces`` describes; None when off."""
    global _state, _provider, _switch, _sampler
    traces = settings.traces
    with _lock:
        old = _state
        _state = None
        if old is not None:
            _retire(old)
        if not tracing_wanted(traces):
            _silence()
            return None
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider as SdkProvider

        resource = _resource(settings)
        sampler = _make_sampler(traces)
        processors, memory = _processors(settings, redactor, on_drop)
        existing = trace.get_tracer_provider()
        owned = True
        if _provider is None:
            if (traces.reuse_global_provider and isinstance(existing, SdkProvider)):
                # The app (or Logfire/Sentry) owns the provider: add to it, keep its sampler.
                owned = False
                _switch = _SwitchProcessor()
                existing.add_span_processor(_switch)  # type: ignore[arg-type]
                _provider = existing
            else:
                _sampler = _SwitchSampler(sampler)
                _switch = _SwitchProcessor()
                _provider = SdkProvider(resource=resource,
                                        sampler=_sampler,  # type: ignore[arg-type]
                                        shutdown_on_exit=False)
                _provider.add_span_processor(_switch)  # type: ignore[arg-type]
                trace.set_tracer_provider(_provider)
        else:
            owned = _sampler is not None
            if _sampler is not None:
                _sampler.delegate = sampler
                _replace_resource(_provider, resource)
        assert _switch is not None
        _switch.processors = tuple(processors)
        from .._version import __version__

        tracer: Tracer = _provider.get_tracer("watchkeeper", __version__)
        if owned:
            from ._light import LightTracer, sampler_rule

            choice = _sampler_choice(traces)
            tracer = LightTracer(tracer, _provider, _switch,
                                 None if choice is None else sampler_rule(*choice))
        _state = TracingState(_provider, tracer, traces, processors, memory, owned)
        _install_process_hooks(traces.flush_on_sigterm)
        return _state


def _silence() -> None:
    """Tracing off: the OpenTelemetry global cannot be unset, so the provider we own
    samples nothing (user spans become non-recording, nothing is exported); a provider the
    app owns keeps its own sampler and processors, it only loses ours."""
    if _sampler is not None:
        from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

        _sampler.delegate = ALWAYS_OFF
    if _switch is not None:
        _switch.processors = ()


def _retire(state: TracingState) -> None:
    state.live = False
    for processor in state.processors:
        try:
            processor.shutdown()
        except Exception:
            _log.exception("span processor shutdown failed")
    if _switch is not None:
        _switch.processors = ()


def flush(timeout: float = 5.0) -> bool:
    """Export every finished span now; True if all processors flushed."""
    state = _state
    if state is None:
        return True
    return all(p.force_flush(int(timeout * 1000)) for p in state.processors)


def shutdown() -> None:
    """Flush and stop the exporters (idempotent); tracing stays off until configured."""
    global _state
    with _lock:
        state, _state = _state, None
        if state is not None:
            _retire(state)
        _silence()


# -- resource ------------------------------------------------------------------------------
def resource_attributes(settings: Settings) -> dict[str, str | int]:
    """The resource attributes spans carry: service, deployment, host and process."""
    service = settings.service
    attrs: dict[str, str | int] = {
        "service.name": service.name,
        "service.version": service.version,
        "deployment.environment": service.environment,
        "deployment.environment.name": service.environment,
        "host.name": socket.gethostname(),
        "process.pid": os.getpid(),
        "process.runtime.name": platform.python_implementation().lower(),
        "process.runtime.version": platform.python_version(),
        "telemetry.sdk.language": "python",
    }
    if service.instance:
        attrs["service.instance.id"] = service.instance
    attrs.update(service.resource_attributes)
    return attrs


def _resource(settings: Settings) -> Resource:
    from opentelemetry.sdk.resources import Resource

    # Resource.create merges OTEL_RESOURCE_ATTRIBUTES; the settings (which already fold
    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES in) win.
    return Resource.create(resource_attributes(settings))


# -- sampling ------------------------------------------------------------------------------
def _sampler_choice(traces: TracesSettings) -> tuple[str, float] | None:
    """(sampler name, ratio) from the settings, or None when ``OTEL_TRACES_SAMPLER``
    names the sampler (the SDK builds that one, custom ones included)."""
    name = traces.sampler
    ratio = traces.sample_ratio
    if name is None and ratio is None and os.environ.get("OTEL_TRACES_SAMPLER"):
        return None
    if ratio is None:
        try:
            ratio = float(os.environ.get("OTEL_TRACES_SAMPLER_ARG", "1.0"))
        except ValueError:
            ratio = 1.0
    return name or "parentbased_traceidratio", ratio


def _make_sampler(traces: TracesSettings) -> Sampler:
    from opentelemetry.sdk.trace import sampling

    choice = _sampler_choice(traces)
    if choice is None:
        return sampling._get_from_env_or_default()
    name, ratio = choice
    if name in ("traceidratio", "parentbased_traceidratio"):
        base: Sampler = sampling.TraceIdRatioBased(ratio)
        return sampling.ParentBased(base) if name.startswith("parentbased") else base
    known: Sampler = sampling._KNOWN_SAMPLERS[name]  # type: ignore[assignment]
    return known


class _SwitchSampler:
    """Delegates to the sampler of the latest configuration (providers keep theirs)."""

    def __init__(self, delegate: Sampler) -> None:
        self.delegate = delegate

    def should_sample(  # noqa: PLR0917 - OpenTelemetry's Sampler signature
        self, parent_context: Context | None, trace_id: int, name: str,
        kind: SpanKind | None = None, attributes: Attributes = None,
        links: Sequence[Link] | None = None, trace_state: TraceState | None = None,
    ) -> SamplingResult:
        return self.delegate.should_sample(parent_context, trace_id, name, kind, attributes,
                                           links, trace_state)

    def get_description(self) -> str:
        return self.delegate.get_description()


class _SwitchProcessor:
    """The one processor watchkeeper adds to a provider; re-configuration swaps its list."""

    def __init__(self) -> None:
        self.processors: tuple[Any, ...] = ()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def _on_ending(self, span: Span) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        for processor in self.processors:
            processor.on_end(span)

    def shutdown(self) -> None:
        for processor in self.processors:
            processor.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return all(p.force_flush(timeout_millis) for p in self.processors)


# -- exporters -----------------------------------------------------------------------------
def _batch_value(traces: TracesSettings, name: str) -> float:
    value = getattr(traces, name)
    if value is not None:
        return float(value)
    raw = os.environ.get(_ENV[name])
    if raw:
        try:
            number = float(raw)
            # OTEL_BSP_* durations are milliseconds.
            return number / 1000.0 if name in ("schedule_delay", "export_timeout") else number
        except ValueError:
            _log.warning("ignoring %s=%r: not a number", _ENV[name], raw)
    return _DEFAULTS[name]


def tracing_wanted(traces: TracesSettings) -> bool:
    """Whether the settings turn tracing on (``auto``: when something is exported)."""
    if traces.enabled == "auto":
        return bool(exporter_names(traces))
    return bool(traces.enabled)


def exporter_names(traces: TracesSettings) -> list[str]:
    """The exporters the settings and ``OTEL_*`` variables ask for, in order."""
    if traces.exporters is not None:
        names = list(traces.exporters)
    elif os.environ.get("OTEL_TRACES_EXPORTER"):
        names = [n.strip().lower() for n in os.environ["OTEL_TRACES_EXPORTER"].split(",")]
    elif traces.otlp_endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or \
            os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        names = ["otlp"]
    else:
        names = []
    if traces.hub_url and "hub" not in names:
        names.append("hub")
    if names and names[0] == "otlp" and \
            os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
                           os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "")) == "grpc":
        names[0] = "otlp_grpc"
    return [n for n in names if n != "none"]


def _processors(settings: Settings, redactor: Redactor | None,
                on_drop: Callable[[int], None] | None) -> tuple[list[BoundedBatchProcessor], Any]:
    from ._processor import BoundedBatchProcessor

    traces = settings.traces
    out = []
    memory = None
    for name in exporter_names(traces):
        exporter = _exporter(name, traces)
        if name == "memory":
            memory = exporter
        out.append(BoundedBatchProcessor(
            exporter,
            max_queue_size=int(_batch_value(traces, "max_queue_size")),
            max_export_batch_size=int(_batch_value(traces, "max_export_batch_size")),
            schedule_delay=_batch_value(traces, "schedule_delay"),
            redactor=redactor, on_drop=on_drop,
        ))
    return out, memory


def _exporter(name: str, traces: TracesSettings) -> SpanExporter:
    timeout = _batch_value(traces, "export_timeout")
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if name == "memory":
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
            InMemorySpanExporter,
        )

        return InMemorySpanExporter()
    if name in ("otlp", "otlp_http", "hub"):
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError as exc:
            raise TracingError(
                f"trace exporter {name!r} needs the OTLP exporter: "
                "pip install 'watchkeeper[otlp]'") from exc
        base = traces.hub_url if name == "hub" else traces.otlp_endpoint
        endpoint = None
        if base:
            endpoint = base if base.rstrip("/").endswith("/v1/traces") else \
                base.rstrip("/") + "/v1/traces"
        headers = dict(traces.otlp_headers) if name != "hub" else None
        session, bundle = _session(endpoint)
        if any(os.environ.get(v) for v in _CREDENTIAL_PROVIDERS):
            session, bundle = None, None  # the exporter builds the provider's session
        certificate = None if os.environ.get("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE") or \
            os.environ.get("OTEL_EXPORTER_OTLP_CERTIFICATE") else bundle
        exporter = OTLPSpanExporter(endpoint=endpoint, headers=headers or None, timeout=timeout,
                                    session=session, certificate_file=certificate)
        if traces.otlp_encoder == "watchkeeper":
            from ._otlp import fast_exporter

            exporter = fast_exporter(exporter)
        return exporter
    if name == "otlp_grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter as GrpcExporter,
            )
        except ImportError as exc:
            raise TracingError(
                "trace exporter 'otlp_grpc' needs opentelemetry-exporter-otlp-proto-grpc: "
                "pip install 'watchkeeper[otlp-grpc]'") from exc
        return GrpcExporter(endpoint=traces.otlp_endpoint, timeout=timeout,  # type: ignore[no-any-return]
                            headers=dict(traces.otlp_headers) or None)
    raise TracingError(f"unknown trace exporter {name!r}")


_CREDENTIAL_PROVIDERS = ("OTEL_PYTHON_EXPORTER_OTLP_HTTP_TRACES_CREDENTIAL_PROVIDER",
                         "OTEL_PYTHON_EXPORTER_OTLP_HTTP_CREDENTIAL_PROVIDER")


def _session(endpoint: str | None) -> tuple[Any, str | None]:
    """A requests session for an OTLP exporter with the environment read once: requests
    otherwise re-reads every proxy variable of the process environment on each POST
    (~2.5 ms per export here). Returns it and the CA bundle ``REQUESTS_CA_BUNDLE`` /
    ``CURL_CA_BUNDLE`` names, which the exporter must be given explicitly now."""
    import requests

    url = endpoint or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or (
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318").rstrip("/")
        + "/v1/traces")
    session = requests.Session()
    session.proxies.update(requests.utils.get_environ_proxies(url))
    session.trust_env = False
    return session, (os.environ.get("REQUESTS_CA_BUNDLE") or
                     os.environ.get("CURL_CA_BUNDLE") or None)


# -- process life ----------------------------------------------------------------------------
def _install_process_hooks(sigterm: bool) -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(shutdown)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork)
    if sigterm:
        _chain_sigterm()


def _after_fork() -> None:
    # A pre-fork worker is another process and its spans must say so (the SDK only
    # re-runs process-dependent detectors, which are off by default).
    if _state is None or not _state.owned or _provider is None:
        return
    from opentelemetry.sdk.resources import Resource

    _replace_resource(_provider, _provider.resource.merge(Resource({"process.pid": os.getpid()})))


def _replace_resource(provider: Any, resource: Resource) -> None:
    # The SDK has no public way to change a provider's resource; its own fork handler
    # (which updates process.pid in pre-fork workers) uses these same internals.
    with provider._tracers_lock:
        provider._resource = resource
        for tracer in provider._tracers.values():
            tracer._set_resource(resource)


def _chain_sigterm() -> None:
    """Flush spans when SIGTERM arrives, then let whoever handled it before carry on.

    uvicorn re-raises SIGTERM after its shutdown with the default handler, so atexit does
    not run; flushing here is what gets the last batch out. Spans of requests that finish
    during the graceful shutdown after this point can still be lost: flushing on the ASGI
    lifespan shutdown would catch them (needs a hook in the middleware).
    """
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        previous = signal.getsignal(signal.SIGTERM)
    except (ValueError, OSError):
        return

    def handler(signum: int, frame: Any) -> None:
        if callable(previous):
            # The server re-raises SIGTERM with the default action once it has shut down,
            # killing the process mid-export: wait (bounded, the exporter may be down)
            # for what is queued to go out before letting the server start.
            worker = threading.Thread(target=flush, name="watchkeeper-span-flush",
                                      daemon=True)
            worker.start()
            worker.join(_SIGTERM_FLUSH_WAIT)
            previous(signum, frame)
            return
        if previous == signal.SIG_IGN:
            return
        flush(timeout=3.0)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal.SIGTERM, handler)
