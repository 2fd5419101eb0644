"""Notification pipeline: Alertmanager's routing, grouping, silences and receivers in-process.

Owns the alertmanager.yml reader, the routing tree, aggregation groups and their timing,
inhibition, silences, time intervals, the notification log, escalation and receivers.
"""

from typing import TYPE_CHECKING

from ..rules._alert import Alert, fingerprint
from ._config import Config, load_config, parse_config
from ._data import NotifyContext
from ._dispatch import AggrGroup, Dispatcher, FlushJob
from ._escalation import (
    EscalationLevel,
    EscalationPolicy,
    Escalations,
    OnCallRotation,
    severity_priority,
)
from ._forward import AlertmanagerForwarder
from ._inhibit import Inhibitor
from ._manager import AlertManager, Notification
from ._matchers import Matcher, Matchers, MatchType, parse_matcher, parse_matchers
from ._muter import Muter
from ._nflog import NotificationLog
from ._route import Route, build_route
from ._silence import Silence, Silences
from ._template import Template, TemplateSet
from ._timeinterval import TimeInterval

if TYPE_CHECKING:
    from starlette.applications import Starlette


def create_app(am: AlertManager, *, manage_lifespan: bool = False) -> "Starlette":
    """Starlette app serving ``am`` on Alertmanager v2-compatible paths.

    Imported lazily so that ``import watchkeeper.notify`` does not load Starlette.
    ``manage_lifespan=True`` starts and stops ``am`` with the app.
    """
    from ._api_http import create_app as _create_app

    return _create_app(am, manage_lifespan=manage_lifespan)


__all__ = [
    "AggrGroup",
    "Alert",
    "AlertManager",
    "AlertmanagerForwarder",
    "Config",
    "Dispatcher",
    "EscalationLevel",
    "EscalationPolicy",
    "Escalations",
    "FlushJob",
    "Inhibitor",
    "MatchType",
    "Matcher",
    "Matchers",
    "Muter",
    "Notification",
    "NotificationLog",
    "NotifyContext",
    "OnCallRotation",
    "Route",
    "Silence",
    "Silences",
    "Template",
    "TemplateSet",
    "TimeInterval",
    "build_route",
    "create_app",
    "fingerprint",
    "load_config",
    "parse_config",
    "parse_matcher",
    "parse_matchers",
    "severity_priority",
]
