from __future__ import annotations

import pytest

from watchkeeper.config import LogsSettings, load_settings
from watchkeeper.exceptions import ConfigError


def test_defaults() -> None:
    s = LogsSettings()
    assert s.level == "INFO"
    assert s.format == "auto"
    assert s.levels == {}
    assert s.access_log.slow_threshold == 1.0
    assert s.redaction.enabled


def test_level_names_are_normalised_and_checked() -> None:
    assert LogsSettings(level="warn").level == "WARNING"
    assert LogsSettings(level=15).level == "HTTP"
    with pytest.raises(ValueError, match="unknown level 'loud'"):
        LogsSettings(level="loud")


def test_sink_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="http:// or https://"):
        LogsSettings(loki={"url": "loki:3100"})
    with pytest.raises(ValueError, match="unknown facility"):
        LogsSettings(syslog={"facility": "nope"})
    with pytest.raises(ValueError, match="extra"):
        LogsSettings(loki={"url": "http://x", "colour": 1})
    files = LogsSettings(files=[{"path": "/tmp/e.log", "level": "error", "retention": "30d"}])
    assert files.files[0].retention == 30 * 86400
    assert files.files[0].level == "ERROR"
    with pytest.raises(ValueError, match="cannot rename unknown field"):
        LogsSettings(rename={"nope": "x"})


def test_env_aliases_and_precedence() -> None:
    s = load_settings(environ={"LOG_LEVEL": "debug"})
    assert s.logs.level == "DEBUG"
    s = load_settings(environ={"LOG_LEVEL": "debug", "WATCHKEEPER_LOG_LEVEL": "error"})
    assert s.logs.level == "ERROR"
    s = load_settings(environ={"WATCHKEEPER_LOGS__LEVEL": "warning"})
    assert s.logs.level == "WARNING"


def test_debug_namespaces_from_env() -> None:
    s = load_settings(environ={"DEBUG": "app:*,db"})
    assert s.logs.debug == ["app.*", "db"]
    s = load_settings(environ={"WATCHKEEPER_LOG_DEBUG": "app.db,app.auth*"})
    assert s.logs.debug == ["app.db", "app.auth*"]
    # A boolean DEBUG (Django/Flask style) is not a namespace list.
    assert load_settings(environ={"DEBUG": "True"}).logs.debug == []


def test_bad_env_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="WATCHKEEPER_LOG_LEVEL"):
        load_settings(environ={"WATCHKEEPER_LOG_LEVEL": "shouty"})
