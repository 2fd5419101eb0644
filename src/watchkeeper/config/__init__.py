"""Configuration: one typed settings tree, read from YAML, the environment and keywords.

Every stage reads its own section (``settings.metrics``, ``settings.logs``, ...);
invalid input fails fast with the field, the bad value and where it came from.
"""

from ._duration import Duration, format_duration, parse_duration, parse_duration_ms
from ._errors import ErrorsSettings
from ._health import BUILTIN_CHECK_TYPES, HealthCheckSettings, HealthSettings, ProbeSettings
from ._load import load_settings
from ._logs import LogsSettings
from ._metrics import DEFAULT_LATENCY_BUCKETS, DEFAULT_SIZE_BUCKETS, MetricsSettings
from ._rules import NotifySettings, RulesSettings
from ._security import SecuritySettings
from ._service import ServiceSettings
from ._settings import Settings
from ._traces import TracesSettings
from ._types import CommaList

__all__ = [
    "BUILTIN_CHECK_TYPES",
    "DEFAULT_LATENCY_BUCKETS",
    "DEFAULT_SIZE_BUCKETS",
    "CommaList",
    "Duration",
    "ErrorsSettings",
    "HealthCheckSettings",
    "HealthSettings",
    "LogsSettings",
    "MetricsSettings",
    "NotifySettings",
    "ProbeSettings",
    "RulesSettings",
    "SecuritySettings",
    "ServiceSettings",
    "Settings",
    "TracesSettings",
    "format_duration",
    "load_settings",
    "parse_duration",
    "parse_duration_ms",
]
