"""HealthSettings validation and misconfigured checks: clear errors at startup."""

from __future__ import annotations

import pytest

from watchkeeper import health
from watchkeeper.config import BUILTIN_CHECK_TYPES, HealthSettings, load_settings
from watchkeeper.exceptions import ConfigError, HealthCheckConfigError
from watchkeeper.health._builtin import BUILDERS

from .helpers import make_settings


def test_defaults() -> None:
    settings = load_settings(environ={})
    assert settings.health == HealthSettings()
    assert settings.health.component_path == "/health/component/{name}"
    assert settings.health.probes.live_initial_delay == 30


def test_builders_match_the_settings_list() -> None:
    assert set(BUILDERS) == set(BUILTIN_CHECK_TYPES)


def test_durations_accept_prometheus_strings() -> None:
    settings = make_settings(default_timeout="1500ms", checks=[
        {"name": "db", "type": "tcp", "timeout": "2s", "interval": "1m",
         "options": {"host": "127.0.0.1", "port": 5432}}])
    assert settings.health.default_timeout == 1.5
    assert settings.health.checks[0].interval == 60


@pytest.mark.parametrize(("health_settings", "field", "message"), [
    ({"checks": [{"name": "x", "type": "mongo"}]}, "health.checks.0.type",
     "unknown built-in check type 'mongo'"),
    ({"checks": [{"name": "x", "type": "tcp", "timeout": -1}]}, "health.checks.0.timeout",
     ">= 0"),
    ({"checks": [{"name": "x", "type": "tcp", "timeout": 0}]}, "health.checks.0.timeout",
     "greater than 0"),
    ({"checks": [{"name": "a b", "type": "tcp"}]}, "health.checks.0.name", "no '/'"),
    ({"live_path": "health/live"}, "health.live_path", "must start with '/'"),
    ({"component_path": "/health/component"}, "health.component_path", "{param}"),
    ({"ready_path": "/health"}, "health", "distinct"),
    ({"bogus": 1}, "health.bogus", "unknown setting"),
    ({"probes": {"live_period": 2.5}}, "health.probes.live_period", "whole seconds"),
])
def test_invalid_settings(health_settings: dict[str, object], field: str,
                          message: str) -> None:
    with pytest.raises(ConfigError) as info:
        make_settings(**health_settings)
    problem = info.value.problems[0]
    assert problem.field == field
    assert message in problem.message


def test_env_variables() -> None:
    settings = load_settings(environ={"WATCHKEEPER_HEALTH__READY_PATH": "/readyz",
                                      "WATCHKEEPER_HEALTH__DEFAULT_TIMEOUT": "3s"})
    assert settings.health.ready_path == "/readyz"
    assert settings.health.default_timeout == 3


def test_bad_builtin_options_fail_at_configure() -> None:
    settings = make_settings(checks=[{"name": "db", "type": "tcp", "options": {"hots": "x"}}])
    with pytest.raises(HealthCheckConfigError, match=r"'db' \(tcp\): bad options.*takes: host"):
        health.configure(settings)
    settings = make_settings(checks=[{"name": "db", "type": "tcp",
                                      "options": {"host": "x", "port": 70000}}])
    with pytest.raises(HealthCheckConfigError, match="port must be an integer"):
        health.configure(settings)


def test_builtins_from_settings_run() -> None:
    settings = make_settings(checks=[
        {"name": "disk", "type": "disk", "critical": False, "options": {"path": "/"}},
        {"name": "mem", "type": "memory", "options": {"max_percent": 100}}])
    h = health.configure(settings)
    assert h.runner.run_now("disk", 5).ok
    assert h.runner.run_now("mem", 5).ok
    assert h.runner.states["disk"].spec.kind == "disk"
    # Reconfiguring replaces the built-ins it made, instead of clashing with them.
    h = health.configure(make_settings())
    assert "disk" not in h.runner.states


@pytest.mark.parametrize("options", [
    {"timeout": -1}, {"timeout": 0}, {"interval": float("nan")}, {"retries": -1},
    {"retries": 1.5}, {"warn_latency": 2, "fail_latency": 1}, {"tags": "sql"},
])
def test_decorator_rejects_bad_definitions(options: dict[str, object]) -> None:
    with pytest.raises(HealthCheckConfigError, match="health check 'db'"):
        health.check("db", **options)  # type: ignore[call-overload]


def test_bad_names_and_duplicates() -> None:
    with pytest.raises(HealthCheckConfigError, match="invalid"):
        health.check("a/b")

    @health.check("db")
    def db() -> bool:
        return True

    with pytest.raises(HealthCheckConfigError, match="already defined"):
        health.add_check("db", lambda: True)


def test_class_form() -> None:
    class TokenStorage(health.HealthCheck):
        id = "token-storage"
        name = "token_storage"
        type = "file"
        timeout = 1.0
        retry_count = 1
        critical = False
        thresholds = {"warn_latency": 0.5, "fail_latency": 0.9}

        def check(self) -> tuple[bool, str]:
            return True, "writable"

    health.check(TokenStorage())
    h = health.configure(make_settings())
    spec = h.runner.states["token_storage"].spec
    assert (spec.id, spec.kind, spec.retries, spec.critical, spec.fail_latency) == (
        "token-storage", "file", 1, False, 0.9)
    assert h.runner.run_now("token_storage", 5).message == "writable"

    class Bad(health.HealthCheck):
        name = "bad"
        thresholds = {"slow": 1.0}

    with pytest.raises(HealthCheckConfigError, match="unknown thresholds"):
        health.check(Bad())


def test_public_api() -> None:
    assert sorted(health.__all__) == sorted([
        "BreakerListener", "CheckFunc", "CheckResult", "CircuitBreaker", "CircuitOpenError",
        "HealthCheck", "HealthCheckConfigError", "HealthError", "RedisBreakerState", "Status",
        "add_check", "check",
        "configure", "disk_check", "dns_check", "endpoints", "event_loop_lag_check",
        "file_check", "http_check", "k8s_probes", "k8s_probes_yaml", "kafka_check",
        "mark_started", "memory_check", "postgres_check", "redis_check", "reset",
        "set_component_status", "sqlalchemy_check", "tcp_check", "tls_check",
    ])
    from watchkeeper import exceptions

    assert issubclass(exceptions.CircuitOpenError, exceptions.HealthError)
    assert issubclass(exceptions.HealthCheckConfigError, exceptions.WatchkeeperError)
