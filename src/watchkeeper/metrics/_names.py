"""Metric and label name rules, and the escaping exposition formats demand."""

from __future__ import annotations

import math
import re

from ..exceptions import LabelError, MetricError

__all__ = [
    "HTTP_METHODS",
    "OTHER_METHOD",
    "check_label_names",
    "check_metric_name",
    "escape_help",
    "escape_label",
    "format_value",
    "method_label",
]

_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def check_metric_name(name: str) -> str:
    if not _METRIC_NAME.match(name):
        raise MetricError(f"invalid metric name {name!r}: must match [a-zA-Z_:][a-zA-Z0-9_:]*")
    return name


def check_label_names(metric: str, names: tuple[str, ...], reserved: tuple[str, ...] = ()) -> None:
    seen: set[str] = set()
    for name in names:
        if not _LABEL_NAME.match(name) or name.startswith("__"):
            raise LabelError(f"{metric}: invalid label name {name!r}")
        if name in reserved:
            raise LabelError(f"{metric}: label name {name!r} is reserved for this metric type")
        if name in seen:
            raise LabelError(f"{metric}: duplicate label name {name!r}")
        seen.add(name)


def escape_label(value: str) -> str:
    """Label value escaping shared by the text and OpenMetrics formats."""
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return value


def escape_help(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n")


HTTP_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)
OTHER_METHOD = "_OTHER"  # as OpenTelemetry: arbitrary methods must not mint series


def method_label(method: str) -> str:
    """The method as a label value: one of the standard methods, else ``_OTHER``."""
    return method if method in HTTP_METHODS else OTHER_METHOD


_INF = math.inf


def format_value(value: float) -> str:
    """A float as Prometheus parses it: ``+Inf``, ``-Inf``, ``NaN``, else Python's repr
    (shortest round-tripping digits, ``1e-05`` style exponents)."""
    if value == _INF:
        return "+Inf"
    if value == -_INF:
        return "-Inf"
    if math.isnan(value):
        return "NaN"
    return repr(value)
