"""Alertmanager's templates: the shared Go template engine with Alertmanager's functions.

The engine itself lives in ``watchkeeper._gotemplate``; this module binds Alertmanager's
function map, its default templates and :class:`NotifyTemplateError`.
"""

from __future__ import annotations

import glob as globlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .._gotemplate import Template
from .._gotemplate import TemplateSet as _GoTemplateSet
from ..exceptions import NotifyTemplateError
from ._template_funcs import ALERTMANAGER_FUNCS

__all__ = ["Template", "TemplateSet"]


class TemplateSet(_GoTemplateSet):
    """Alertmanager's template set: its functions, ``templates:`` files, its error type."""

    error = NotifyTemplateError

    def __init__(self, funcs: Mapping[str, Callable[..., Any]] | None = None) -> None:
        super().__init__({**ALERTMANAGER_FUNCS, **(funcs or {})})

    def add_file(self, path: str | Path) -> None:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise NotifyTemplateError(f"cannot read template {p}: {exc}") from exc
        self.parse(text, p.name)

    @classmethod
    def from_globs(cls, patterns: list[str], *, defaults: bool = True) -> TemplateSet:
        """Alertmanager's ``templates:`` list: the default templates, then each glob."""
        tset = cls()
        if defaults:
            from ._default_tmpl import DEFAULT_TEMPLATES
            tset.parse(DEFAULT_TEMPLATES, "default.tmpl")
        for pattern in patterns:
            for path in sorted(globlib.glob(pattern)):
                tset.add_file(path)
        return tset
