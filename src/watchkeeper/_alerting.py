"""In-process alerting: the app scrapes itself into a TSDB, rules run over it, and the
alerts go through an in-process Alertmanager (or an external one).

Started by ``watchkeeper.init()`` when ``rules.files`` or ``notify`` is configured. Under a
pre-fork server exactly one worker runs it (a ``flock`` on a file in the workers' shared
directory elects it; when that worker dies the lock is free and another takes over), and
that worker's self-scrape reads every worker's shard, so the rules see the server's totals
exactly as a Prometheus scraping ``/metrics`` would. Security incidents of the other
workers reach the leader through a spool in the same directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _runtime

if TYPE_CHECKING:
    from .config import Settings
    from .notify import AlertManager
    from .notify._spool import AlertSpool
    from .rules import Alert, RuleGroup, RuleManager
    from .scrape import Scraper

__all__ = ["Alerting", "current", "current_alertmanager", "leader_socket", "start", "stop"]

_log = logging.getLogger("watchkeeper.alerting")
_LEADER_RETRY_SECONDS = 5.0
_SPOOL_DRAIN_SECONDS = 1.0

_lock = threading.Lock()
_current: Alerting | None = None


class Alerting:
    """Self-scrape, rules and notify of one process; :meth:`start` / :meth:`stop` bracket it.

    Construction loads and validates everything (rule files, alertmanager.yml), so bad
    files fail ``init()`` with file:line instead of failing later in a thread.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        rules, notify = settings.rules, settings.notify
        self.groups: list[RuleGroup] = []
        if rules.files:
            try:
                import numpy  # noqa: F401
            except ImportError:
                from .exceptions import ConfigError, ConfigProblem

                raise ConfigError([ConfigProblem(
                    "rules.files", rules.files, "settings",
                    "in-process rules need numpy: pip install 'watchkeeper[rules]'")]) from None
            from .rules import load_rule_files

            self.groups = load_rule_files(rules.files)
        self.am_config: Any = None
        if notify.config_file is not None:
            from .notify import load_config

            self.am_config = load_config(notify.config_file)
            _check_escalations(settings, set(self.am_config.receivers))
        self.db: Any = None
        self.scraper: Scraper | None = None
        self.manager: RuleManager | None = None
        self.alertmanager: AlertManager | None = None
        self._forwarder: Any = None
        self._collector: Any = None
        self._leader_fd: int | None = None
        self._incident_sink = False
        self._stop = threading.Event()
        self._waiter: threading.Thread | None = None
        self._drainer: threading.Thread | None = None
        self._relay: Any = None

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Run now, or — under pre-fork workers — as soon as this worker is elected."""
        if self._lock_path() is None or self._try_lead():
            self._run()
            return
        spool = self._spool()
        if spool is not None and self._pages_incidents():
            from . import security

            # Until elected, this worker's incidents go to the leader through the spool.
            security.set_incident_sink(spool.append)
            self._incident_sink = True
        self._stop.clear()
        self._waiter = threading.Thread(target=self._wait_for_lead, daemon=True,
                                        name="watchkeeper-alerting-leader")
        self._waiter.start()

    def _lock_path(self) -> Path | None:
        from .metrics import aggregation

        shared = aggregation(_runtime.registry())
        return None if shared is None else Path(shared.directory) / "alerting.lock"

    def _spool(self) -> AlertSpool | None:
        """Where pre-fork workers leave incidents for the leader (None when alone)."""
        path = self._lock_path()
        if path is None:
            return None
        from .notify._spool import AlertSpool

        return AlertSpool(path.parent / "incidents")

    def _pages_incidents(self) -> bool:
        notify = self.settings.notify
        return self.settings.security.enabled and (
            self.am_config is not None or bool(notify.forward_url))

    def _try_lead(self) -> bool:
        path = self._lock_path()
        if path is None:
            return True
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._leader_fd = fd
        return True

    def _wait_for_lead(self) -> None:
        while not self._stop.wait(_LEADER_RETRY_SECONDS):
            if self._try_lead():
                _log.info("this worker (pid %d) now runs rules and notifications", os.getpid())
                self._run()
                return

    def _run(self) -> None:
        from .scrape import Scraper
        from .tsdb import TSDB

        rules, notify = self.settings.rules, self.settings.notify
        self.db = TSDB(retention_ms=int(rules.retention * 1000))
        send = None
        if self.am_config is not None:
            send = self._start_alertmanager()
        elif notify.forward_url:
            send = self._start_forwarder()
        if send is not None and self.settings.security.enabled:
            from . import security

            security.set_incident_sink(send)  # brute force / blocks page like alerts
            self._incident_sink = True
            spool = self._spool()
            if spool is not None:
                self._drainer = threading.Thread(
                    target=self._drain_spool, args=(spool, send), daemon=True,
                    name="watchkeeper-incident-spool")
                self._drainer.start()
        if self.groups:
            from .rules import RuleManager

            self.manager = RuleManager(
                self.db, self.groups, send=send, external_labels=rules.external_labels,
                default_interval=rules.evaluation_interval, state_dir=rules.state_dir,
                external_url=rules.external_url)
            warmup = min(warmup_seconds(self.groups) + rules.scrape_interval, rules.retention)
            started = time.monotonic()

            def after_scrape(_result: object) -> None:
                self.db.apply_retention()
                if (self.manager is not None and not self._stop.is_set()
                        and time.monotonic() - started >= warmup):
                    self.manager.start()  # idempotent

            self.scraper = Scraper(self.db, _self_exposition, self._target_labels())
            self.scraper.start(rules.scrape_interval, on_scrape=after_scrape)

    def _drain_spool(self, spool: AlertSpool, send: Callable[[Sequence[Alert]], None]) -> None:
        """Deliver the other workers' incidents (and this worker's from before it led)."""
        while True:
            try:
                alerts = spool.drain()
                if alerts:
                    send(alerts)
            except Exception:
                _log.exception("delivering spooled incidents failed")
            if self._stop.wait(_SPOOL_DRAIN_SECONDS):
                return

    def _target_labels(self) -> dict[str, str]:
        return {"job": self.settings.service.name, "instance": socket.gethostname()}

    def _start_alertmanager(self) -> Any:
        from ._background import background_loop, run_coroutine
        from .notify import AlertManager

        notify = self.settings.notify
        am = AlertManager(self.am_config, data_dir=notify.data_dir, timeout=notify.timeout,
                          external_url=self.settings.rules.external_url,
                          escalations=self._escalations())
        run_coroutine(am.start(), timeout=10.0)
        self.alertmanager = am
        self._collector = _expose(am)
        self._serve_relay(am)
        loop = background_loop()

        def send(alerts: Sequence[Alert]) -> None:
            loop.call_soon_threadsafe(am.put_alerts, list(alerts))

        return send

    def _serve_relay(self, am: AlertManager) -> None:
        """Answer the other workers' Alertmanager API requests (see ``notify._relay``)."""
        path = leader_socket()
        if path is None:
            return
        from .notify._api_views import run_view
        from .notify._relay import RelayServer

        relay = RelayServer(path, lambda route, request: run_view(am, route, request))
        try:
            relay.start()
        except OSError:
            _log.exception("the Alertmanager API relay for other workers did not start")
            return
        self._relay = relay

    def _escalations(self) -> Any:
        from datetime import UTC, timedelta

        from .notify import EscalationPolicy, Escalations, OnCallRotation

        notify = self.settings.notify
        if not notify.escalations:
            return None
        rotations = [OnCallRotation(r.name, tuple(r.members),
                                    r.start if r.start.tzinfo else r.start.replace(tzinfo=UTC),
                                    timedelta(seconds=r.period)) for r in notify.rotations]
        policies = [EscalationPolicy.create(e.name, [(lv.after, lv.receivers) for lv in e.levels],
                                            e.matchers, e.priorities)
                    for e in notify.escalations]
        path = notify.data_dir / "escalations.json" if notify.data_dir is not None else None
        return Escalations(policies, rotations, path=path)

    def _start_forwarder(self) -> Any:
        from ._background import background_loop
        from .notify import AlertmanagerForwarder

        forwarder = AlertmanagerForwarder(self.settings.notify.forward_url,
                                          timeout=self.settings.notify.timeout)
        self._forwarder = forwarder
        loop = background_loop()

        def send(alerts: Sequence[Alert]) -> None:
            asyncio.run_coroutine_threadsafe(forwarder.send(list(alerts)), loop)

        return send

    def stop(self, timeout: float = 5.0) -> None:
        """Stop rules and sampling, then let the Alertmanager finish what it is sending."""
        self._stop.set()
        if self._waiter is not None and self._waiter is not threading.current_thread():
            self._waiter.join(timeout)
        if self._incident_sink:
            from . import security

            security.set_incident_sink(None)
            self._incident_sink = False
        if self._drainer is not None and self._drainer is not threading.current_thread():
            self._drainer.join(timeout)
            self._drainer = None
        if self.manager is not None:
            self.manager.stop()
        if self.scraper is not None:
            self.scraper.stop()
        if self._relay is not None:
            self._relay.stop()
            self._relay = None
        if self.alertmanager is not None:
            from ._background import run_coroutine

            try:
                run_coroutine(self.alertmanager.stop(), timeout=timeout)
            except Exception:  # shutdown goes on; the nflog keeps what was delivered
                _log.exception("stopping the in-process Alertmanager failed")
        if self._forwarder is not None:
            from ._background import run_coroutine

            try:
                run_coroutine(self._forwarder.aclose(), timeout=timeout)
            except Exception:
                _log.exception("closing the Alertmanager forwarder failed")
            self._forwarder = None
        if self._collector is not None:
            _unexpose(self._collector)
            self._collector = None
        if self._leader_fd is not None:
            os.close(self._leader_fd)  # releases the flock: another worker may lead
            self._leader_fd = None


def warmup_seconds(groups: Sequence[RuleGroup]) -> float:
    """The longest range any rule reads (range selectors and subqueries, with offsets).

    Rules start only once the self-scraped history spans it: the history lives in memory,
    so right after a (re)start a ``rate(x[5m])`` would see a sliver of data, and restored
    firing alerts would resolve and fire again on the gap instead of carrying on.
    """
    from .promql import MatrixSelector, SubqueryExpr, parse

    longest = 0

    def walk(node: object) -> None:
        nonlocal longest
        if isinstance(node, (MatrixSelector, SubqueryExpr)) and isinstance(node.range, int):
            offset = node.vs.offset if isinstance(node, MatrixSelector) else node.offset
            longest = max(longest, node.range + (offset if isinstance(offset, int) else 0))
        if dataclasses.is_dataclass(node):
            for f in dataclasses.fields(node):
                walk(getattr(node, f.name))
        elif isinstance(node, list | tuple):
            for item in node:
                walk(item)

    for group in groups:
        for rule in group.rules:
            walk(parse(rule.expr))
    return longest / 1000.0


def _check_escalations(settings: Settings, receivers: set[str]) -> None:
    """Escalation levels must name receivers of the alertmanager.yml or known rotations."""
    from .exceptions import ConfigError, ConfigProblem

    notify = settings.notify
    rotations = {r.name for r in notify.rotations}
    problems = []
    for i, policy in enumerate(notify.escalations):
        for j, level in enumerate(policy.levels):
            for name in level.receivers:
                if name.startswith("rotation:"):
                    parts = name.split(":")
                    ok = (len(parts) in (2, 3) and parts[1] in rotations
                          and (len(parts) == 2 or parts[2] in ("primary", "secondary")))
                    why = f"no rotation {parts[1]!r} (or not primary/secondary)"
                else:
                    ok, why = name in receivers, f"no receiver {name!r} in {notify.config_file}"
                if not ok:
                    problems.append(ConfigProblem(
                        f"notify.escalations.{i}.levels.{j}.receivers", name, "settings", why))
    if problems:
        raise ConfigError(problems)


def _self_exposition() -> str:
    """What a Prometheus scraping ``/metrics`` gets (it asks for OpenMetrics first)."""
    from .metrics._endpoint import render_registry

    return render_registry(_runtime.registry(), openmetrics=True)


class _AlertmanagerCollector:
    """Puts the in-process Alertmanager's own metrics (notifications_total, latency) into
    the user-facing ``/metrics`` via prometheus_client's default registry."""

    def __init__(self, am: AlertManager) -> None:
        self.am = am

    def collect(self) -> Any:
        return self.am.registry.collect()


def _expose(am: AlertManager) -> _AlertmanagerCollector | None:
    try:
        from prometheus_client import REGISTRY
    except ImportError:  # pragma: no cover - a core dependency
        return None
    collector = _AlertmanagerCollector(am)
    REGISTRY.register(collector)
    return collector


def _unexpose(collector: _AlertmanagerCollector) -> None:
    from prometheus_client import REGISTRY

    with contextlib.suppress(KeyError):
        REGISTRY.unregister(collector)


# --- process-wide handle ----------------------------------------------------------------
def current() -> Alerting | None:
    """The running in-process alerting, if rules or notify are configured."""
    return _current


def current_alertmanager() -> AlertManager | None:
    """The Alertmanager running in this process (None in a worker that does not lead)."""
    running = _current
    return None if running is None else running.alertmanager


def leader_socket() -> Path | None:
    """Where the elected worker serves its Alertmanager API to the others (None outside a
    pre-fork server, or when the shared directory's path is too long for a socket)."""
    from .metrics import aggregation
    from .notify._relay import usable

    shared = aggregation(_runtime.registry())
    if shared is None:
        return None
    path = Path(shared.directory) / "alertmanager.sock"
    return path if usable(path) else None


def start(settings: Settings) -> Alerting | None:
    """Replace the running alerting by one for ``settings`` (None when nothing is set)."""
    global _current
    with _lock:
        new = Alerting(settings) if (settings.rules.enabled or settings.notify.enabled) else None
        old, _current = _current, None
        if old is not None:
            old.stop()
        if new is not None and _prefork_master():
            # gunicorn --preload: this master serves nothing and would page on its own
            # empty registry; each forked worker restarts alerting (_after_fork_in_child).
            _log.info("gunicorn master: rules and notifications start in the workers")
        elif new is not None:
            new.start()
        _current = new
        return new


def _prefork_master() -> bool:
    from .metrics._multiprocess import is_prefork_master

    return is_prefork_master()


def stop() -> None:
    global _current
    with _lock:
        old, _current = _current, None
    if old is not None:
        old.stop()


def _after_fork_in_child() -> None:
    # Threads and the leader lock belong to the parent; the child starts over (and runs
    # for election if it is a worker).
    global _current
    old, _current = _current, None
    if old is None:
        return
    if old._leader_fd is not None:
        os.close(old._leader_fd)  # the parent's lock stays the parent's

    def restart() -> None:  # in a thread: the other stages' fork hooks have run by then
        try:
            start(old.settings)
        except Exception:
            _log.exception("restarting in-process alerting after fork failed")

    threading.Thread(target=restart, name="watchkeeper-alerting-fork", daemon=True).start()


os.register_at_fork(after_in_child=_after_fork_in_child)
