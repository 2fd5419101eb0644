"""A small engine for the Go ``text/template`` subset notification templates use.

Supported: text with ``{{ }}`` actions and ``{{-``/``-}}`` trimming, comments, fields
(``.CommonLabels.x``, ``$.Receiver``), variables (``$x := ...``, ``$x = ...``), pipelines
(``a | f b``), parenthesised pipelines, string/raw/number/bool/nil literals, ``if`` /
``else if`` / ``else``, ``range`` (with ``$i, $e :=`` and ``else``), ``with``, ``define``,
``template``, ``block`` and Go's builtin functions. Functions are a plain dict, so each
stage adds its own (notify: Alertmanager's, rules: Prometheus'); errors are raised as the
set's ``error`` type. An unknown function is a parse-time error, as in Go.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..exceptions import TemplateError
from ._funcs import BUILTIN_FUNCS, SafeHTML, go_str, html_escape, truth
from ._parse import (
    Action,
    Branch,
    Call,
    Err,
    Node,
    Operand,
    Parser,
    Pipe,
    Text,
)

__all__ = ["Template", "TemplateSet"]

# ---------------------------------------------------------------- execution
class _Break(Exception):
    pass


class _Continue(Exception):
    pass


def _get(obj: Any, name: str, args: list[Any] | None) -> Any:
    if isinstance(obj, Mapping) and name in obj:
        value = obj[name]
        return value(*args) if callable(value) and args else value
    attr = getattr(type(obj), name, None) if obj is not None else None
    if callable(attr):
        return getattr(obj, name)(*(args or []))
    if isinstance(obj, Mapping):
        return ""  # Go: a missing key of map[string]string is the zero value
    if obj is not None and hasattr(obj, name):
        return getattr(obj, name)
    raise Err(f"can't evaluate field {name} in type {type(obj).__name__}")


class _Exec:
    def __init__(self, tset: TemplateSet, name: str, html: bool = False) -> None:
        self.tset, self.name, self.html = tset, name, html
        self.out: list[str] = []

    def run(self, nodes: list[Node], dot: Any, scope: list[dict[str, Any]]) -> None:
        for node in nodes:
            try:
                self._node(node, dot, scope)
            except (_Break, _Continue, TemplateError):
                raise
            except Err as exc:
                raise self.tset.error(f"template: {self.name}:{node.line}: {exc}") from exc
            except Exception as exc:
                raise self.tset.error(
                    f"template: {self.name}:{node.line}: error calling function: {exc}"
                ) from exc

    def _node(self, node: Node, dot: Any, scope: list[dict[str, Any]]) -> None:
        if isinstance(node, Text):
            self.out.append(node.text)
        elif isinstance(node, Action):
            value = self._pipe(node.pipe, dot, scope)
            if not node.pipe.decl:
                text = go_str(value)
                if self.html and not isinstance(value, SafeHTML):
                    text = html_escape(text)
                self.out.append(text)
        elif isinstance(node, Branch):
            self._branch(node, dot, scope)
        elif isinstance(node, Call):
            if node.name == "\x00break":
                raise _Break
            if node.name == "\x00continue":
                raise _Continue
            body = self.tset.defines.get(node.name)
            if body is None:
                raise Err(f'no such template "{node.name}"')
            new_dot = self._pipe(node.pipe, dot, scope) if node.pipe else None
            self.run(body, new_dot, [{"$": new_dot}])

    def _branch(self, node: Branch, dot: Any, scope: list[dict[str, Any]]) -> None:
        inner = [*scope, {}]
        if node.kind == "range":
            value = self._pipe(Pipe([], False, node.pipe.cmds), dot, inner)
            items: list[tuple[Any, Any]]
            if isinstance(value, Mapping):
                items = [(k, value[k]) for k in sorted(value)]
            elif isinstance(value, int) and not isinstance(value, bool):
                items = [(i, i) for i in range(value)]
            elif value is None:
                items = []
            else:
                items = list(enumerate(value))
            if not items:
                self.run(node.else_, dot, inner)
                return
            for key, elem in items:
                frame = [*scope, {}]
                if len(node.pipe.decl) == 1:
                    frame[-1][node.pipe.decl[0]] = elem
                elif len(node.pipe.decl) == 2:
                    frame[-1][node.pipe.decl[0]] = key
                    frame[-1][node.pipe.decl[1]] = elem
                try:
                    self.run(node.body, elem, frame)
                except _Break:
                    break
                except _Continue:
                    continue
            return
        value = self._pipe(node.pipe, dot, inner)
        if truth(value):
            self.run(node.body, value if node.kind == "with" else dot, inner)
        else:
            self.run(node.else_, dot, inner)

    def _lookup(self, name: str, scope: list[dict[str, Any]]) -> Any:
        for frame in reversed(scope):
            if name in frame:
                return frame[name]
        raise Err(f"undefined variable: {name}")

    def _pipe(self, pipe: Pipe, dot: Any, scope: list[dict[str, Any]]) -> Any:
        value: Any = None
        first = True
        for cmd in pipe.cmds:
            value = self._cmd(cmd, dot, scope, None if first else (value,))
            first = False
        for name in pipe.decl[-1:]:
            if pipe.assign:
                for frame in reversed(scope):
                    if name in frame:
                        frame[name] = value
                        break
                else:
                    raise Err(f"undefined variable: {name}")
            else:
                scope[-1][name] = value
        return value

    def _cmd(self, cmd: list[Operand], dot: Any, scope: list[dict[str, Any]],
             piped: tuple[Any, ...] | None) -> Any:
        head = cmd[0]
        extra = list(piped or ())
        if head.kind == "func":
            args = [self._arg(op, dot, scope) for op in cmd[1:]] + extra
            return self.tset.funcs[head.value](*args)
        if head.kind in ("field", "var") and head.fields and (len(cmd) > 1 or extra):
            base = dot if head.kind == "field" else self._lookup(head.value, scope)
            for name in head.fields[:-1]:
                base = _get(base, name, None)
            args = [self._arg(op, dot, scope) for op in cmd[1:]] + extra
            return _get(base, head.fields[-1], args)
        if len(cmd) > 1 or extra:
            raise Err("can't give argument to non-function")
        return self._arg(head, dot, scope)

    def _arg(self, op: Operand, dot: Any, scope: list[dict[str, Any]]) -> Any:
        if op.kind == "lit":
            return op.value
        if op.kind == "func":
            return self.tset.funcs[op.value]()
        if op.kind == "field":
            base = dot
        elif op.kind == "var":
            base = self._lookup(op.value, scope)
        else:
            base = self._pipe(op.value, dot, scope)
        for name in op.fields:
            base = _get(base, name, None)
        return base


class Template:
    """A parsed template bound to its :class:`TemplateSet`."""

    def __init__(self, tset: TemplateSet, name: str, nodes: list[Node]) -> None:
        self.tset, self.name, self.nodes = tset, name, nodes

    def execute(self, data: Any, *, html: bool = False) -> str:
        """Render; ``html=True`` escapes printed values as Go's ``html/template`` does."""
        ex = _Exec(self.tset, self.name, html)
        ex.run(self.nodes, data, [{"$": data}])
        return "".join(ex.out)


class TemplateSet:
    """Named templates (``define``) plus a function map; renders template strings."""

    #: The error raised for parse and execution failures; stages override it.
    error: type[TemplateError] = TemplateError

    def __init__(self, funcs: Mapping[str, Callable[..., Any]] | None = None) -> None:
        self.funcs: dict[str, Callable[..., Any]] = {**BUILTIN_FUNCS, **(funcs or {})}
        self.defines: dict[str, list[Node]] = {}
        self._cache: dict[str, Template] = {}

    def parse(self, text: str, name: str = "inline") -> Template:
        """Parse ``text``; its ``define`` blocks join the set. Raises :attr:`error`."""
        parser = Parser(name, text, self.funcs, self.error)
        nodes = parser.parse()
        self.defines.update(parser.defines)
        return Template(self, name, nodes)

    def render(self, text: str, data: Any, *, html: bool = False) -> str:
        """Execute a template string (cached by its text); see :meth:`Template.execute`."""
        tmpl = self._cache.get(text)
        if tmpl is None:
            tmpl = self.parse(text)
            self._cache[text] = tmpl
        return tmpl.execute(data, html=html)
