"""Alerting and recording rules: Prometheus rule files, evaluation and rule unit tests.

Owns the rule-file reader (Prometheus format and the seed shorthand), group scheduling,
alert state (pending/firing/resolved), Prometheus' template functions and ``rules test``.
"""

from typing import TYPE_CHECKING, Any

from ..exceptions import RuleFileError
from ._alert import Alert, fingerprint
from ._model import Rule, RuleGroup

if TYPE_CHECKING:
    from ._alerting import ActiveAlert, AlertState
    from ._files import load_rule_files
    from ._manager import RuleManager

__all__ = [
    "ActiveAlert",
    "Alert",
    "AlertState",
    "Rule",
    "RuleFileError",
    "RuleGroup",
    "RuleManager",
    "fingerprint",
    "load_rule_files",
]

# The engine pulls in promql (numpy); notify imports this package only for ``Alert``.
_LAZY: dict[str, str] = {
    "ActiveAlert": "._alerting",
    "AlertState": "._alerting",
    "RuleManager": "._manager",
    "load_rule_files": "._files",
}


def __getattr__(name: str) -> Any:
    import importlib

    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
