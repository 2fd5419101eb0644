"""A small engine for the Go ``text/template`` subset notification templates use.

Supported: text with ``{{ }}`` actions and ``{{-``/``-}}`` trimming, comments, fields
(``.CommonLabels.x``, ``$.Receiver``), variables (``$x := ...``, ``$x = ...``), pipelines
(``a | f b``), parenthesised pipelines, string/raw/number/bool/nil literals, ``if`` /
``else if`` / ``else``, ``range`` (with ``$i, $e :=`` and ``else``), ``with``, ``define``,
``template``, ``block``, Go's builtin functions and Alertmanager's template functions.
Functions are a plain dict, so other stages (rules) add their own. An unknown function is
a parse-time error, as in Go.
"""

from __future__ import annotations

import glob as globlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..exceptions import NotifyTemplateError
from ._template_funcs import BUILTIN_FUNCS, go_str, truth

__all__ = ["Template", "TemplateSet"]

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\\n]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<char>'(?:[^'\\]|\\.)+')
  | (?P<num>[-+]?(?:0[xX][0-9a-fA-F_]+|(?:\d[\d_]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?))
  | (?P<decl>:=)
  | (?P<assign>=)
  | (?P<pipe>\|)
  | (?P<lp>\()
  | (?P<rp>\))
  | (?P<comma>,)
  | (?P<var>\$[A-Za-z0-9_]*)
  | (?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
""", re.X)
_FIELDS = re.compile(r"\.[A-Za-z_][A-Za-z0-9_]*")


class _Err(Exception):
    pass


# ---------------------------------------------------------------- AST
@dataclass
class _Node:
    line: int


@dataclass
class _Text(_Node):
    text: str


@dataclass
class _Operand:
    kind: str  # lit, field, var, func, pipe
    value: Any
    fields: tuple[str, ...] = ()


@dataclass
class _Pipe:
    decl: list[str]
    assign: bool
    cmds: list[list[_Operand]]


@dataclass
class _Action(_Node):
    pipe: _Pipe


@dataclass
class _Branch(_Node):
    kind: str  # if, range, with
    pipe: _Pipe
    body: list[_Node]
    else_: list[_Node] = field(default_factory=list)


@dataclass
class _Call(_Node):
    name: str
    pipe: _Pipe | None


# ---------------------------------------------------------------- parsing
def _unquote(text: str) -> str:
    if text.startswith("`"):
        return text[1:-1]
    body = text[1:-1]
    return body.encode("latin-1", "backslashreplace").decode("unicode_escape") \
        if "\\" in body else body


class _Parser:
    def __init__(self, name: str, src: str, funcs: Mapping[str, Callable[..., Any]]) -> None:
        self.name, self.src, self.funcs = name, src, funcs
        self.defines: dict[str, list[_Node]] = {}
        self.items: list[tuple[str, Any, int]] = []  # ("text"|"action", payload, line)
        self._else_rest = ""
        self._toks: list[tuple[str, str]] = []
        self._i = 0
        self._line = 0
        self._lex()
        self.pos = 0

    def _lex(self) -> None:
        pos = 0
        src = self.src
        pending_trim = False
        for m in _ACTION.finditer(src):
            text = src[pos:m.start()]
            if pending_trim:
                text = text.lstrip()
            if m.group(1):
                text = text.rstrip()
            if text:
                self.items.append(("text", text, src.count("\n", 0, pos) + 1))
            body = m.group(2).strip()
            line = src.count("\n", 0, m.start()) + 1
            if not (body.startswith("/*") and body.endswith("*/")):
                self.items.append(("action", body, line))
            pending_trim = bool(m.group(3))
            pos = m.end()
        if "{{" in src[pos:]:
            line = src.count("\n", 0, pos) + 1
            raise self.error("unclosed action", line)
        text = src[pos:]
        if pending_trim:
            text = text.lstrip()
        if text:
            self.items.append(("text", text, src.count("\n", 0, pos) + 1))

    def error(self, msg: str, line: int) -> NotifyTemplateError:
        return NotifyTemplateError(f"template: {self.name}:{line}: {msg}")

    def parse(self) -> list[_Node]:
        nodes, end = self._list(())
        if end is not None:
            raise self.error(f"unexpected {{{{{end[0]}}}}}", end[1])
        return nodes

    def _list(self, stops: tuple[str, ...]) -> tuple[list[_Node], tuple[str, int] | None]:
        nodes: list[_Node] = []
        while self.pos < len(self.items):
            kind, payload, line = self.items[self.pos]
            self.pos += 1
            if kind == "text":
                nodes.append(_Text(line, payload))
                continue
            word = payload.split(None, 1)[0] if payload else ""
            rest = payload[len(word):].strip()
            if word in ("end", "else"):
                if word not in stops and not (word == "else" and "else" in stops):
                    raise self.error(f"unexpected {{{{{word}}}}}", line)
                self._else_rest = rest
                return nodes, (word, line)
            if word in ("if", "range", "with"):
                nodes.append(self._branch(word, rest, line))
            elif word in ("define", "block"):
                toks = self._tokens(rest, line)
                if not toks or toks[0][0] not in ("str", "raw"):
                    raise self.error(f"{word} clause needs a quoted name", line)
                name = _unquote(toks[0][1])
                body, end = self._list(("end",))
                if end is None:
                    raise self.error(f"unexpected EOF in {word}", line)
                self.defines[name] = body
                if word == "block":
                    pipe = self._pipe(toks[1:], line) if len(toks) > 1 else None
                    nodes.append(_Call(line, name, pipe))
            elif word == "template":
                toks = self._tokens(rest, line)
                if not toks or toks[0][0] not in ("str", "raw"):
                    raise self.error("template clause needs a quoted name", line)
                pipe = self._pipe(toks[1:], line) if len(toks) > 1 else None
                nodes.append(_Call(line, _unquote(toks[0][1]), pipe))
            elif word in ("break", "continue"):
                nodes.append(_Call(line, "\x00" + word, None))
            else:
                nodes.append(_Action(line, self._pipe(self._tokens(payload, line), line)))
        if stops:
            raise self.error("unexpected EOF", self.items[-1][2] if self.items else 1)
        return nodes, None

    def _branch(self, kind: str, rest: str, line: int) -> _Node:
        pipe = self._pipe(self._tokens(rest, line), line)
        body, end = self._list(("end", "else"))
        if end is None:
            raise self.error(f"unexpected EOF in {kind}", line)
        node = _Branch(line, kind, pipe, body)
        if end[0] == "else":
            rest2 = self._else_rest
            if rest2.startswith(("if ", "with ")) and kind != "range":
                sub_kind, sub_rest = rest2.split(None, 1)
                node.else_ = [self._branch(sub_kind, sub_rest, end[1])]
                return node
            node.else_, end2 = self._list(("end",))
            if end2 is None:
                raise self.error(f"unexpected EOF in {kind}", line)
        return node

    def _tokens(self, text: str, line: int) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:
                raise self.error(f"unexpected {text[pos]!r} in command", line)
            kind = m.lastgroup or ""
            if kind != "ws":
                out.append((kind, m.group()))
            pos = m.end()
        return out

    def _pipe(self, toks: list[tuple[str, str]], line: int) -> _Pipe:
        decl: list[str] = []
        assign = False
        for i, (kind, _val) in enumerate(toks):
            if kind in ("decl", "assign"):
                names = [t[1] for t in toks[:i] if t[0] == "var"]
                if not names or any(t[0] not in ("var", "comma") for t in toks[:i]):
                    raise self.error("bad variable declaration", line)
                decl, assign, toks = names, kind == "assign", toks[i + 1:]
                break
            if kind not in ("var", "comma"):
                break
        self._toks, self._i, self._line = toks, 0, line
        cmds = self._cmds(top=True)
        if not cmds:
            raise self.error("missing value for command", line)
        return _Pipe(decl, assign, cmds)

    def _cmds(self, top: bool) -> list[list[_Operand]]:
        cmds: list[list[_Operand]] = []
        cmd: list[_Operand] = []
        while self._i < len(self._toks):
            kind, val = self._toks[self._i]
            self._i += 1
            if kind == "pipe":
                if not cmd:
                    raise self.error("missing command before |", self._line)
                cmds.append(cmd)
                cmd = []
            elif kind == "rp":
                if top:
                    raise self.error("unexpected )", self._line)
                break
            else:
                cmd.append(self._operand(kind, val))
        else:
            if not top:
                raise self.error("unclosed left paren", self._line)
        if cmd:
            cmds.append(cmd)
        return cmds

    def _operand(self, kind: str, val: str) -> _Operand:
        line = self._line
        if kind in ("str", "raw"):
            return _Operand("lit", _unquote(val))
        if kind == "char":
            return _Operand("lit", ord(_unquote('"' + val[1:-1] + '"')))
        if kind == "num":
            clean = val.replace("_", "")
            try:
                num: Any = int(clean, 0)
            except ValueError:
                num = float(clean)
            return _Operand("lit", num)
        if kind == "field":
            return _Operand("field", None, tuple(f[1:] for f in _FIELDS.findall(val)))
        if kind == "var":
            fields = self._trailing_fields()
            return _Operand("var", val, fields)
        if kind == "lp":
            sub = self._cmds(top=False)
            return _Operand("pipe", _Pipe([], False, sub), self._trailing_fields())
        if kind == "ident":
            if val in ("true", "false"):
                return _Operand("lit", val == "true")
            if val == "nil":
                return _Operand("lit", None)
            if val not in self.funcs:
                raise self.error(f'function "{val}" not defined', line)
            return _Operand("func", val)
        raise self.error(f"unexpected {val!r}", line)

    def _trailing_fields(self) -> tuple[str, ...]:
        if self._i < len(self._toks) and self._toks[self._i][0] == "field" \
                and self._toks[self._i][1] != ".":
            val = self._toks[self._i][1]
            self._i += 1
            return tuple(f[1:] for f in _FIELDS.findall(val))
        return ()


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
    raise _Err(f"can't evaluate field {name} in type {type(obj).__name__}")


class _Exec:
    def __init__(self, tset: TemplateSet, name: str) -> None:
        self.tset, self.name = tset, name
        self.out: list[str] = []

    def run(self, nodes: list[_Node], dot: Any, scope: list[dict[str, Any]]) -> None:
        for node in nodes:
            try:
                self._node(node, dot, scope)
            except (_Break, _Continue, NotifyTemplateError):
                raise
            except _Err as exc:
                raise NotifyTemplateError(f"template: {self.name}:{node.line}: {exc}") from exc
            except Exception as exc:
                raise NotifyTemplateError(
                    f"template: {self.name}:{node.line}: error calling function: {exc}"
                ) from exc

    def _node(self, node: _Node, dot: Any, scope: list[dict[str, Any]]) -> None:
        if isinstance(node, _Text):
            self.out.append(node.text)
        elif isinstance(node, _Action):
            value = self._pipe(node.pipe, dot, scope)
            if not node.pipe.decl:
                self.out.append(go_str(value))
        elif isinstance(node, _Branch):
            self._branch(node, dot, scope)
        elif isinstance(node, _Call):
            if node.name == "\x00break":
                raise _Break
            if node.name == "\x00continue":
                raise _Continue
            body = self.tset.defines.get(node.name)
            if body is None:
                raise _Err(f'no such template "{node.name}"')
            new_dot = self._pipe(node.pipe, dot, scope) if node.pipe else None
            self.run(body, new_dot, [{"$": new_dot}])

    def _branch(self, node: _Branch, dot: Any, scope: list[dict[str, Any]]) -> None:
        inner = [*scope, {}]
        if node.kind == "range":
            value = self._pipe(_Pipe([], False, node.pipe.cmds), dot, inner)
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
        raise _Err(f"undefined variable: {name}")

    def _pipe(self, pipe: _Pipe, dot: Any, scope: list[dict[str, Any]]) -> Any:
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
                    raise _Err(f"undefined variable: {name}")
            else:
                scope[-1][name] = value
        return value

    def _cmd(self, cmd: list[_Operand], dot: Any, scope: list[dict[str, Any]],
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
            raise _Err("can't give argument to non-function")
        return self._arg(head, dot, scope)

    def _arg(self, op: _Operand, dot: Any, scope: list[dict[str, Any]]) -> Any:
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

    def __init__(self, tset: TemplateSet, name: str, nodes: list[_Node]) -> None:
        self.tset, self.name, self.nodes = tset, name, nodes

    def execute(self, data: Any) -> str:
        ex = _Exec(self.tset, self.name)
        ex.run(self.nodes, data, [{"$": data}])
        return "".join(ex.out)


class TemplateSet:
    """Named templates (``define``) plus a function map; renders template strings."""

    def __init__(self, funcs: Mapping[str, Callable[..., Any]] | None = None) -> None:
        self.funcs: dict[str, Callable[..., Any]] = {**BUILTIN_FUNCS, **(funcs or {})}
        self.defines: dict[str, list[_Node]] = {}
        self._cache: dict[str, Template] = {}

    def parse(self, text: str, name: str = "inline") -> Template:
        """Parse ``text``; its ``define`` blocks join the set. Raises NotifyTemplateError."""
        parser = _Parser(name, text, self.funcs)
        nodes = parser.parse()
        self.defines.update(parser.defines)
        return Template(self, name, nodes)

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

    def render(self, text: str, data: Any) -> str:
        """Execute a template string (cached by its text)."""
        tmpl = self._cache.get(text)
        if tmpl is None:
            tmpl = self.parse(text)
            self._cache[text] = tmpl
        return tmpl.execute(data)
