"""Where settings come from: a YAML file, the environment, and explicit keywords.

Each source yields a :class:`Layer`: nested data plus, for every leaf, a human-readable
origin (``watchkeeper.yml:12`` or ``env WATCHKEEPER_METRICS__PATH``) so a validation
error can say exactly which line or variable to fix.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from ..exceptions import ConfigError, ConfigProblem

__all__ = ["ENV_ALIASES", "Layer", "env_layer", "kwargs_layer", "otel_layer", "yaml_layer"]

Path_ = tuple[str, ...]

# Plain environment variables that set one field of the tree (lowest env precedence).
ENV_ALIASES: dict[str, Path_] = {
    "OTEL_SERVICE_NAME": ("service", "name"),
    # Later entries win: the WATCHKEEPER_ spelling beats the generic one.
    "LOG_LEVEL": ("logs", "level"),
    "WATCHKEEPER_LOG_LEVEL": ("logs", "level"),
    "DEBUG": ("logs", "debug"),
    "WATCHKEEPER_LOG_DEBUG": ("logs", "debug"),
}


@dataclass
class Layer:
    """Settings data from one source, with the origin of each leaf value."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)
    origins: dict[Path_, str] = field(default_factory=dict)

    def set(self, path: Path_, value: Any, origin: str) -> None:
        node = self.data
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
        self.origins[path] = origin

    def origin_of(self, path: Path_) -> str | None:
        """The origin of ``path`` or of its nearest recorded ancestor or descendant."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.origins:
                return self.origins[path[:end]]
        for known, origin in self.origins.items():
            if known[: len(path)] == path:
                return origin
        return None


def yaml_layer(file: str | Path) -> Layer:
    """Read a YAML settings file, remembering the line of every value."""
    path = Path(file)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    layer = Layer(name=str(path))
    if root is None:
        return layer
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError(
            f"{path}:{root.start_mark.line + 1}: the top level must be a mapping of sections"
        )
    layer.data = _walk(root, (), path, layer)
    return layer


def _walk(node: yaml.Node, at: Path_, file: Path, layer: Layer) -> Any:
    """Build the value of ``node``, recording the line of it and of everything inside."""
    layer.origins[at] = f"{file}:{node.start_mark.line + 1}"
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(_SCALARS.construct_object(key_node))
            out[key] = _walk(value_node, (*at, key), file, layer)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(item, (*at, str(i)), file, layer) for i, item in enumerate(node.value)]
    return _SCALARS.construct_object(node, deep=True)


_SCALARS = yaml.SafeLoader("")


def env_layer(settings_cls: type[Any], environ: Mapping[str, str] | None = None) -> Layer:
    """``WATCHKEEPER_SECTION__FIELD`` variables (case-insensitive), plus plain aliases.

    A value that starts with ``[`` or ``{`` is JSON; anything else stays a string for the
    model to coerce. A variable naming no setting is an error, as a typo in YAML is.
    """
    env = os.environ if environ is None else environ
    layer = Layer(name="environment")
    for alias, target in ENV_ALIASES.items():
        if alias in env:
            layer.set(target, env[alias], f"env {alias}")
    for var, raw in env.items():
        upper = var.upper()
        if not upper.startswith(_PREFIX) or upper in _RESERVED_ENV or upper in ENV_ALIASES:
            continue
        origin = f"env {var}"
        path = tuple(upper[len(_PREFIX) :].lower().split("__"))
        _check_known(path, raw, origin, settings_cls)
        layer.set(path, _decode(raw, origin, path), origin)
    return layer


_PREFIX = "WATCHKEEPER_"
_RESERVED_ENV = {"WATCHKEEPER_CONFIG"}


def _decode(raw: str, origin: str, path: Path_) -> Any:
    text = raw.strip()
    if not text.startswith(("[", "{")):
        return raw
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ConfigError(
            [ConfigProblem(".".join(path), raw, origin, f"invalid JSON: {exc}")]
        ) from None


def _check_known(path: Path_, raw: str, origin: str, settings_cls: type[Any]) -> None:
    model: Any = settings_cls
    for depth, part in enumerate(path):
        fields = getattr(model, "model_fields", None)
        if fields is None:
            return
        if part not in fields:
            known = ", ".join(sorted(fields))
            where = ".".join(path[:depth]) or "the top level"
            raise ConfigError(
                [ConfigProblem(".".join(path), raw, origin,
                               f"unknown setting; {where} has: {known}")]
            )
        model = fields[part].annotation


def otel_layer(environ: Mapping[str, str] | None = None) -> Layer:
    """The service identity from ``OTEL_RESOURCE_ATTRIBUTES`` (W3C baggage-like list)."""
    env = os.environ if environ is None else environ
    layer = Layer(name="OTEL_RESOURCE_ATTRIBUTES")
    raw = env.get("OTEL_RESOURCE_ATTRIBUTES", "")
    origin = "env OTEL_RESOURCE_ATTRIBUTES"
    extra: dict[str, str] = {}
    for item in raw.split(","):
        if "=" not in item:
            continue
        key, _, value = item.partition("=")
        key, value = key.strip(), _unquote(value.strip())
        if key == "service.name":
            layer.set(("service", "name"), value, origin)
        elif key == "service.version":
            layer.set(("service", "version"), value, origin)
        elif key in ("deployment.environment", "deployment.environment.name"):
            layer.set(("service", "environment"), value, origin)
        elif key == "service.instance.id":
            layer.set(("service", "instance"), value, origin)
        elif key:
            extra[key] = value
    if extra:
        layer.set(("service", "resource_attributes"), extra, origin)
    return layer


def _unquote(value: str) -> str:
    from urllib.parse import unquote

    return unquote(value)


def kwargs_layer(overrides: Mapping[str, Any]) -> Layer:
    """Keywords given to ``init()``: ``metrics={"path": "/m"}`` or ``metrics__path="/m"``."""
    layer = Layer(name="init()")
    for key, value in overrides.items():
        at = tuple(key.split("__"))
        if isinstance(value, Mapping) and len(at) == 1:
            for sub_key, sub_value in value.items():
                layer.set((*at, str(sub_key)), sub_value, f"init({key}={{{sub_key!r}: ...}})")
        else:
            layer.set(at, value, f"init({key}=...)")
    return layer
