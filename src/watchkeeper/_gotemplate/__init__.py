"""Go ``text/template`` for Python: the engine Alertmanager and Prometheus templates run on.

Private, shared by ``notify`` (Alertmanager's functions) and ``rules`` (Prometheus'
functions); each passes its own function map and error type.
"""

from ._funcs import (
    BUILTIN_FUNCS,
    TEXT_FUNCS,
    SafeHTML,
    go_float,
    go_sprintf,
    go_str,
    html_escape,
    title,
    truth,
)
from ._template import Template, TemplateSet

__all__ = [
    "BUILTIN_FUNCS",
    "TEXT_FUNCS",
    "SafeHTML",
    "Template",
    "TemplateSet",
    "go_float",
    "go_sprintf",
    "go_str",
    "html_escape",
    "title",
    "truth",
]
