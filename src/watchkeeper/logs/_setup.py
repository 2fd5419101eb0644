"""Global setup: one call installs the pipeline on the root logger; ``reset()`` undoes it.

All process-wide logging state lives here (and in ``_logger.state``): the pipeline,
the root handlers we replaced, the loggers we adopted, the stats thread, and the
shutdown hooks (``atexit`` and a SIGTERM handler, since uvicorn skips ``atexit``).
"""

from __future__ import annotations

import atexit
import contextlib
import fnmatch
import logging
import os
import signal
import sys
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING, Any

from . import _caller
from ._file import FileSink
from ._http_sinks import ElasticsearchSink, HttpJsonSink, LokiSink, OtlpLogSink
from ._logger import BridgeHandler, state
from ._patterns import LogStats, metrics_refresher
from ._pipeline import HTTP, Pipeline, Sink, identity
from ._redact import Redactor
from ._shipper import DropCounter, Shipper, registry_drop_counter
from ._sinks import StreamSink, flush_every_line, flusher
from ._socket_sinks import LogstashSink, SyslogSink

if TYPE_CHECKING:
    from ..config import LogsSettings, Settings

__all__ = ["configure", "current_stats", "flush", "reset", "shutdown"]

logging.addLevelName(HTTP, "HTTP")


class _Installed:
    def __init__(self) -> None:
        self.handler: BridgeHandler | None = None
        self.saved_root: tuple[list[logging.Handler], int] | None = None
        self.adopted: dict[str, tuple[list[logging.Handler], bool, int, bool]] = {}
        self.levels_set: dict[str, int] = {}
        self.stats: LogStats | None = None
        self.settings: LogsSettings | None = None
        self.hooks_installed = False
        self.previous_sigterm: Any = None
        self.shut_down = False


_installed = _Installed()
_lock = threading.RLock()


def _internal_error(component: str) -> None:
    try:
        from .. import _runtime

        _runtime.registry().internal_error(component)
    except Exception:
        pass


def _drop_counter(registry: Any) -> DropCounter | None:
    if registry is None:
        return None
    try:
        return registry_drop_counter(registry)
    except Exception:
        return None


def _level_no(name: str) -> int:
    return HTTP if name == "HTTP" else int(logging.getLevelName(name))


def configure(
    settings: Settings,
    *,
    registry: Any = None,
    sinks: list[Sink] | None = None,
    install_signal_handler: bool = True,
) -> None:
    """Install the logging pipeline described by ``settings.logs`` on the root logger.

    Args:
        settings: the whole settings tree (service identity comes from ``settings.service``).
        registry: metrics registry for drop counts and message counts (default: the
            process registry; tests pass a fake).
        sinks: extra sinks (tests use a :class:`MemorySink`).
        install_signal_handler: flush on SIGTERM (main thread only).
    """
    with _lock:
        reset()
        logs = settings.logs
        if not logs.enabled:
            return
        if registry is None:
            try:
                from .. import _runtime

                registry = _runtime.registry()
            except Exception:
                registry = None
        red = _redactor(logs) if logs.redaction.enabled else None
        service = settings.service
        stats = LogStats(max_clusters=logs.patterns.max_clusters,
                         similarity=logs.patterns.similarity, depth=logs.patterns.depth,
                         queue_size=logs.patterns.queue_size, mine=logs.patterns.enabled)
        if registry is not None:
            try:
                registry.add_refresher(metrics_refresher(stats, registry))
            except Exception:
                _internal_error("logs.metrics")
        all_sinks = _build_sinks(logs, service.name, service.environment,
                                 _drop_counter(registry))
        all_sinks.extend(sinks or [])
        pipeline = Pipeline(
            static=identity(service.name, service.version, service.environment),
            redactor=red,
            names=Pipeline.field_names(logs.fields, logs.rename),
            max_message=logs.max_message_length,
            caller=logs.caller,
            sinks=all_sinks,
            observers=[stats.observe],
            on_error=_internal_error,
        )
        state.pipeline = pipeline
        _installed.stats = stats
        _installed.settings = logs
        _install_root(logs)
        if logs.caller:
            _caller.install()
        adopt_library_loggers()
        _apply_levels(logs)
        if logs.capture_warnings:
            logging.captureWarnings(True)
        _install_shutdown_hooks(install_signal_handler)


def _redactor(logs: LogsSettings) -> Redactor:
    r = logs.redaction
    return Redactor(add_keys=r.add_keys, remove_keys=r.remove_keys, value_rules=r.value_rules,
                    emails=r.emails, ips=r.ips, replacement=r.replacement)


def _console(logs: LogsSettings, environment: str) -> bool:
    if logs.format != "auto":
        return logs.format == "console"
    stream = getattr(sys, logs.stream, None) if logs.stream != "none" else None
    tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())
    return environment in ("development", "dev", "local") or tty


def _warn(message: str, fields: dict[str, Any]) -> None:
    pipeline = state.pipeline
    if pipeline is not None:
        pipeline.emit(30, "watchkeeper.logs", message, fields)


def _build_sinks(logs: LogsSettings, service: str, environment: str,
                 drops: DropCounter | None) -> list[Sink]:
    out: list[Sink] = []
    if logs.stream != "none":
        console = _console(logs, environment)
        out.append(StreamSink(logs.stream, console=console,
                              colour=console and _isatty(logs.stream),
                              flush_interval=logs.flush_interval, count_drops=drops))
    for f in logs.files:
        out.append(FileSink(f.path, max_bytes=f.max_bytes, rotate_every=f.rotate_every,
                            keep=f.keep, retention=f.retention, min_level=_level_no(f.level),
                            flush_interval=logs.flush_interval))
    common: dict[str, Any] = {"count_drops": drops, "warn": _warn,
                              "drop_warning_interval": logs.drop_warning_interval}

    def shipping(s: Any) -> dict[str, Any]:
        return {**common, "min_level": _level_no(s.level), "queue_size": s.queue_size,
                "batch_size": s.batch_size, "batch_interval": s.batch_interval,
                "max_retries": s.max_retries, "backoff_initial": s.backoff_initial,
                "backoff_max": s.backoff_max, "timeout": s.timeout}

    if logs.loki is not None and logs.loki.enabled:
        out.append(LokiSink(logs.loki.url, labels={"service": service, **logs.loki.labels},
                            level_label=logs.loki.level_label, headers=logs.loki.headers,
                            **shipping(logs.loki)))
    if logs.elasticsearch is not None and logs.elasticsearch.enabled:
        es = logs.elasticsearch
        out.append(ElasticsearchSink(es.url, index=es.index, headers=es.headers, **shipping(es)))
    if logs.http is not None and logs.http.enabled:
        out.append(HttpJsonSink(logs.http.url, headers=logs.http.headers, **shipping(logs.http)))
    if logs.otlp is not None and logs.otlp.enabled:
        out.append(OtlpLogSink(logs.otlp.url, resource={"service.name": service},
                               headers=logs.otlp.headers, **shipping(logs.otlp)))
    if logs.logstash is not None and logs.logstash.enabled:
        out.append(LogstashSink(logs.logstash.host, logs.logstash.port,
                                **shipping(logs.logstash)))
    if logs.syslog is not None and logs.syslog.enabled:
        s = logs.syslog
        address: str | tuple[str, int] = s.address
        if s.transport != "unix":
            host, _, port = s.address.rpartition(":")
            address = (host or "127.0.0.1", int(port or 514))
        out.append(SyslogSink(address, transport=s.transport, facility=s.facility,
                              app_name=s.app_name or service, **shipping(s)))
    return out


def _isatty(stream: str) -> bool:
    target = getattr(sys, stream, None)
    return bool(target is not None and getattr(target, "isatty", lambda: False)())


def _install_root(logs: LogsSettings) -> None:
    root = logging.getLogger()
    _installed.saved_root = (list(root.handlers), root.level)
    for handler in list(root.handlers):
        # Console handlers (basicConfig, a framework's default) would print every line a
        # second time; file handlers and test-capture handlers are the app's business.
        if _is_console(handler):
            root.removeHandler(handler)
    handler = BridgeHandler()
    root.addHandler(handler)
    root.setLevel(_level_no(logs.level))
    _installed.handler = handler


def _is_console(handler: logging.Handler) -> bool:
    stream = getattr(handler, "stream", None)
    return isinstance(handler, logging.StreamHandler) and stream in (
        sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)


def adopt_library_loggers() -> None:
    """Route uvicorn/gunicorn/httpx/... loggers through the root pipeline exactly once:
    their own handlers are removed and they propagate. uvicorn's access logger is
    silenced when watchkeeper writes the access line itself. Safe to call repeatedly
    (the request hook calls it again in case a server configured logging after init)."""
    logs = _installed.settings
    if logs is None:
        return
    names = list(logs.adopt_loggers)
    for name in names:
        logger = logging.getLogger(name)
        if name not in _installed.adopted:
            _installed.adopted[name] = (list(logger.handlers), logger.propagate,
                                        logger.level, logger.disabled)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True
        logger.disabled = False
    for name in ("uvicorn.access", "gunicorn.access"):
        logger = logging.getLogger(name)
        if name not in _installed.adopted:
            _installed.adopted[name] = (list(logger.handlers), logger.propagate,
                                        logger.level, logger.disabled)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        if logs.access_log.enabled:
            logger.propagate = False
            logger.disabled = True
        else:
            logger.propagate = True


def _apply_levels(logs: LogsSettings) -> None:
    def set_level(name: str, level: int) -> None:
        logger = logging.getLogger(name)
        _installed.levels_set.setdefault(name, logger.level)
        logger.setLevel(level)

    for name, level in {"watchkeeper.access": "HTTP", **logs.levels}.items():
        set_level(name, _level_no(level))
    for pattern in logs.debug:
        if pattern == "*":
            logging.getLogger().setLevel(logging.DEBUG)
            continue
        # "app.*"/"app*" make the prefix logger DEBUG (children inherit); existing loggers
        # matching the pattern are set too, for patterns like "app.auth*".
        prefix = pattern.split("*", 1)[0].rstrip(".")
        if prefix:
            set_level(prefix, logging.DEBUG)
        if "*" in pattern or "?" in pattern:
            for name in list(logging.root.manager.loggerDict):
                if fnmatch.fnmatchcase(name, pattern):
                    set_level(name, logging.DEBUG)


# -- shutdown -----------------------------------------------------------------------------
def flush(timeout: float = 5.0) -> bool:
    """Write out everything buffered and wait up to ``timeout`` for shippers to drain."""
    pipeline = state.pipeline
    if pipeline is None:
        return True
    pipeline.flush()
    end = time.monotonic() + timeout
    ok = True
    for sink in pipeline.sinks:
        if isinstance(sink, Shipper):
            ok = sink.drain(max(0.0, end - time.monotonic())) and ok
    return ok


def shutdown(timeout: float | None = None) -> None:
    """Flush and close every sink within ``timeout`` (default ``logs.shutdown_timeout``)."""
    with _lock:
        pipeline = state.pipeline
        if pipeline is None or _installed.shut_down:
            return
        _installed.shut_down = True
        limit = timeout if timeout is not None else (
            _installed.settings.shutdown_timeout if _installed.settings else 5.0)
        pipeline.close(limit)


def _atexit() -> None:
    with contextlib.suppress(Exception):
        shutdown()


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    previous = _installed.previous_sigterm
    # Lines written during a graceful shutdown must not sit in a buffer when the process
    # is killed right after: flush now, and flush every line from here on.
    flush_every_line()
    if callable(previous):
        # A server (uvicorn) handles SIGTERM: let it shut down gracefully, and ship what
        # is queued now in the background; the lifespan/atexit path ships the rest.
        threading.Thread(target=flush, args=(_shutdown_timeout(),), daemon=True).start()
        previous(signum, frame)
        return
    shutdown()
    if previous == signal.SIG_IGN:
        return
    signal.signal(signum, signal.SIG_DFL)
    signal.raise_signal(signum)


def _shutdown_timeout() -> float:
    return _installed.settings.shutdown_timeout if _installed.settings else 5.0


def _install_shutdown_hooks(with_signal: bool) -> None:
    if not _installed.hooks_installed:
        atexit.register(_atexit)
        os.register_at_fork(before=_before_fork, after_in_child=_after_fork)
        _installed.hooks_installed = True
    if with_signal and threading.current_thread() is threading.main_thread():
        current = signal.getsignal(signal.SIGTERM)
        if current is not _on_sigterm:
            _installed.previous_sigterm = current
            signal.signal(signal.SIGTERM, _on_sigterm)


def _before_fork() -> None:
    # Buffered file lines go out now: a child inheriting the buffer would write them again.
    pipeline = state.pipeline
    if pipeline is not None:
        for sink in pipeline.sinks:
            if isinstance(sink, FileSink):
                with contextlib.suppress(Exception):
                    sink.flush()


def _after_fork() -> None:
    """In a forked child (a pre-fork server's worker): threads do not survive fork, so
    every sink's writer/shipper thread, the flusher and the miner start again."""
    pipeline = state.pipeline
    if pipeline is None:
        return
    pipeline.refresh_pid()
    flusher.after_fork()
    for sink in pipeline.sinks:
        restart = getattr(sink, "after_fork", None)
        if restart is not None:
            with contextlib.suppress(Exception):
                restart()
    if _installed.stats is not None:
        _installed.stats.after_fork()


def current_stats() -> LogStats | None:
    return _installed.stats


def reset() -> None:
    """Remove the pipeline and restore the root logger and adopted loggers (tests)."""
    with _lock:
        pipeline = state.pipeline
        state.pipeline = None
        if pipeline is not None and not _installed.shut_down:
            pipeline.close(0.5)
        _installed.shut_down = False
        flusher.every_line = False
        if _installed.stats is not None:
            _installed.stats.stop()
            _installed.stats = None
        _caller.uninstall()
        root = logging.getLogger()
        if _installed.handler is not None:
            root.removeHandler(_installed.handler)
            _installed.handler = None
        if _installed.saved_root is not None:
            handlers, level = _installed.saved_root
            for handler in handlers:
                if handler not in root.handlers:
                    root.addHandler(handler)
            root.setLevel(level)
            _installed.saved_root = None
        for name, (handlers, propagate, level, disabled) in _installed.adopted.items():
            logger = logging.getLogger(name)
            for handler in handlers:
                logger.addHandler(handler)
            logger.propagate, logger.disabled = propagate, disabled
            logger.setLevel(level)
        _installed.adopted.clear()
        for name, level in _installed.levels_set.items():
            logging.getLogger(name).setLevel(level)
        _installed.levels_set.clear()
        if _installed.settings is not None and _installed.settings.capture_warnings:
            logging.captureWarnings(False)
        _installed.settings = None
        if _installed.previous_sigterm is not None and (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGTERM) is _on_sigterm
        ):
            signal.signal(signal.SIGTERM, _installed.previous_sigterm)
            _installed.previous_sigterm = None

