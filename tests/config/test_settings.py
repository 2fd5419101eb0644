"""Settings: sources, precedence, and errors that name field, value and source."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.config import load_settings
from watchkeeper.exceptions import ConfigError


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "watchkeeper.yml"
    path.write_text(text)
    return path


def test_defaults_are_production_ready() -> None:
    settings = load_settings(environ={})
    assert settings.metrics.path == "/metrics"
    assert settings.metrics.exclude_paths == ["/metrics", "/health*"]
    assert settings.metrics.cardinality_limit == 2000
    assert settings.service.environment == "production"


def test_precedence_file_then_otel_then_env_then_keywords(tmp_path: Path) -> None:
    config = _write(tmp_path, "service:\n  name: from-file\n  version: '1'\n"
                    "metrics:\n  namespace: file_\n  path: /file\n")
    environ = {
        "OTEL_SERVICE_NAME": "from-otel",
        "OTEL_RESOURCE_ATTRIBUTES": "service.version=2,deployment.environment=staging,team=x",
        "WATCHKEEPER_METRICS__PATH": "/env",
    }
    settings = load_settings(config, environ=environ, metrics__namespace="kw_")
    assert settings.service.name == "from-otel"
    assert settings.service.version == "2"
    assert settings.service.environment == "staging"
    assert settings.service.resource_attributes == {"team": "x"}
    assert settings.metrics.path == "/env"
    assert settings.metrics.namespace == "kw_"


def test_config_file_from_environment_variable(tmp_path: Path) -> None:
    config = _write(tmp_path, "metrics:\n  namespace: ebay_mcp_\n")
    settings = load_settings(environ={"WATCHKEEPER_CONFIG": str(config)})
    assert settings.metrics.metric_name("http_requests_total") == "ebay_mcp_http_requests_total"


def test_env_lists_and_json_maps() -> None:
    settings = load_settings(environ={
        "WATCHKEEPER_METRICS__EXCLUDE_PATHS": "/a, /b*",
        "WATCHKEEPER_METRICS__CONST_LABELS": '{"team": "core"}',
        "watchkeeper_metrics__gzip": "false",
    })
    assert settings.metrics.exclude_paths == ["/a", "/b*"]
    assert settings.metrics.const_labels == {"team": "core"}
    assert settings.metrics.gzip is False


def test_file_errors_name_field_value_and_line(tmp_path: Path) -> None:
    config = _write(tmp_path, "service:\n  name: shop\nmetrics:\n  path: nope\n"
                    "  cardinality_limit: -3\n  buckets_typo: [1]\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    problems = {p.field: p for p in caught.value.problems}
    assert problems["metrics.path"].source == f"{config}:4"
    assert problems["metrics.path"].value == "nope"
    assert "must start with '/'" in problems["metrics.path"].message
    assert problems["metrics.cardinality_limit"].source == f"{config}:5"
    assert problems["metrics.buckets_typo"].message == "unknown setting"
    assert f"{config}:6" in str(caught.value)


def test_list_item_errors_point_at_the_item_line(tmp_path: Path) -> None:
    config = _write(tmp_path, "metrics:\n  latency_buckets:\n    - 0.1\n    - fast\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    assert caught.value.problems[0].source == f"{config}:4"


def test_env_errors_name_the_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"WATCHKEEPER_METRICS__CARDINALITY_LIMIT": "many"})
    problem = caught.value.problems[0]
    assert problem.source == "env WATCHKEEPER_METRICS__CARDINALITY_LIMIT"
    assert problem.value == "many"


@pytest.mark.parametrize("var", ["WATCHKEEPER_METRICZ__PATH", "WATCHKEEPER_METRICS__PTAH"])
def test_unknown_env_variables_fail_like_unknown_yaml_keys(var: str) -> None:
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings(environ={var: "/x"})


def test_bad_json_in_env_is_named() -> None:
    with pytest.raises(ConfigError, match="invalid JSON") as caught:
        load_settings(environ={"WATCHKEEPER_METRICS__CONST_LABELS": "{oops"})
    assert caught.value.problems[0].source == "env WATCHKEEPER_METRICS__CONST_LABELS"


def test_keyword_errors_name_the_keyword() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={}, metrics={"latency_buckets": [1, 0.5]})
    assert "increasing" in caught.value.problems[0].message
    assert caught.value.problems[0].source.startswith("init(metrics=")


@pytest.mark.parametrize("text", ["metrics: [1, 2]\n", "- a\n", "metrics:\n  path: [unclosed\n"])
def test_malformed_yaml_is_a_config_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError):
        load_settings(_write(tmp_path, text), environ={})


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path / "absent.yml", environ={})


def test_bad_metric_names_and_labels_rejected() -> None:
    with pytest.raises(ConfigError, match="namespace"):
        load_settings(environ={"WATCHKEEPER_METRICS__NAMESPACE": "9bad"})
    with pytest.raises(ConfigError, match="invalid label name"):
        load_settings(environ={}, metrics={"const_labels": {"__reserved": "x"}})


_FIELDS = ["METRICS__PATH", "METRICS__NAMESPACE", "METRICS__CARDINALITY_LIMIT",
           "METRICS__LATENCY_BUCKETS", "METRICS__CONST_LABELS", "METRICS__GZIP",
           "METRICS__EXCLUDE_PATHS", "SERVICE__NAME", "METRICS__MULTIPROCESS", "NOPE__X"]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(_FIELDS).map(lambda f: f"WATCHKEEPER_{f}"),
                       st.text(max_size=30), max_size=4))
def test_any_environment_loads_or_fails_with_a_config_error(environ: dict[str, str]) -> None:
    try:
        load_settings(environ=environ)
    except ConfigError as exc:
        problems = exc.problems or [str(exc)]
        assert all(str(p) for p in problems)  # every failure names what is wrong
