"""Layer the sources, validate once, and turn validation errors into named problems."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..exceptions import ConfigError, ConfigProblem
from ._settings import Settings
from ._sources import Layer, env_layer, kwargs_layer, otel_layer, yaml_layer

__all__ = ["load_settings"]


def load_settings(
    config: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build the settings tree from (lowest to highest precedence) the YAML file, the
    ``OTEL_*`` variables, ``WATCHKEEPER_*`` variables and keyword overrides.

    Args:
        config: a YAML file; defaults to ``$WATCHKEEPER_CONFIG`` when set.
        environ: the environment to read (``os.environ`` by default; tests pass a dict).
        **overrides: ``section={...}`` or ``section__field=value``.

    Raises:
        ConfigError: listing every invalid field with its value and source.
    """
    env = os.environ if environ is None else environ
    layers: list[Layer] = []
    file = config if config is not None else env.get("WATCHKEEPER_CONFIG")
    if file:
        layers.append(yaml_layer(file))
    layers.append(otel_layer(env))
    layers.append(env_layer(Settings, env))
    layers.append(kwargs_layer(overrides))
    merged: dict[str, Any] = {}
    for layer in layers:
        _deep_merge(merged, layer.data)
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError([_problem(err, merged, layers) for err in exc.errors()]) from None


def _deep_merge(into: dict[str, Any], new: Mapping[str, Any]) -> None:
    for key, value in new.items():
        current = into.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            _deep_merge(current, value)
        else:
            into[key] = dict(value) if isinstance(value, Mapping) else value


def _problem(err: Any, merged: dict[str, Any], layers: list[Layer]) -> ConfigProblem:
    loc = tuple(str(part) for part in err["loc"])
    value = err.get("input")
    source = "default"
    for layer in reversed(layers):
        origin = layer.origin_of(loc)
        if origin is not None:
            source = origin
            break
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        message = "unknown setting"
    return ConfigProblem(field=".".join(loc), value=value, source=source, message=message)
