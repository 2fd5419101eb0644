"""Alerting and recording rules: Prometheus rule files, evaluation and rule unit tests.

Owns the rule-file reader (Prometheus format and the seed shorthand), group scheduling,
alert state (pending/firing/resolved), Prometheus' template functions and ``rules test``.
"""

from typing import Any

from ..exceptions import RuleFileError
from ._alert import Alert, fingerprint
from ._files import load_rule_files
from ._model import Rule, RuleGroup

__all__ = [
    "Alert",
    "Rule",
    "RuleFileError",
    "RuleGroup",
    "fingerprint",
    "load_rule_files",
]

# The engine pulls in promql (numpy); notify imports this package only for ``Alert``.
_LAZY: dict[str, str] = {}


def __getattr__(name: str) -> Any:
    import importlib

    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
