"""Lexer and parser for the template engine: Go ``text/template`` source to a small AST."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import TemplateError

__all__ = ["Action", "Branch", "Call", "Err", "Node", "Operand", "Parser", "Pipe", "Text"]

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


class Err(Exception):
    pass


# ---------------------------------------------------------------- AST
@dataclass
class Node:
    line: int


@dataclass
class Text(Node):
    text: str


@dataclass
class Operand:
    kind: str  # lit, field, var, func, pipe
    value: Any
    fields: tuple[str, ...] = ()


@dataclass
class Pipe:
    decl: list[str]
    assign: bool
    cmds: list[list[Operand]]


@dataclass
class Action(Node):
    pipe: Pipe


@dataclass
class Branch(Node):
    kind: str  # if, range, with
    pipe: Pipe
    body: list[Node]
    else_: list[Node] = field(default_factory=list)


@dataclass
class Call(Node):
    name: str
    pipe: Pipe | None


# ---------------------------------------------------------------- parsing
def _unquote(text: str) -> str:
    if text.startswith("`"):
        return text[1:-1]
    body = text[1:-1]
    return body.encode("latin-1", "backslashreplace").decode("unicode_escape") \
        if "\\" in body else body


class Parser:
    def __init__(self, name: str, src: str, funcs: Mapping[str, Callable[..., Any]],
                 error: type[TemplateError] = TemplateError) -> None:
        self.name, self.src, self.funcs, self.error_type = name, src, funcs, error
        self.defines: dict[str, list[Node]] = {}
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

    def error(self, msg: str, line: int) -> TemplateError:
        return self.error_type(f"template: {self.name}:{line}: {msg}")

    def parse(self) -> list[Node]:
        nodes, end = self._list(())
        if end is not None:
            raise self.error(f"unexpected {{{{{end[0]}}}}}", end[1])
        return nodes

    def _list(self, stops: tuple[str, ...]) -> tuple[list[Node], tuple[str, int] | None]:
        nodes: list[Node] = []
        while self.pos < len(self.items):
            kind, payload, line = self.items[self.pos]
            self.pos += 1
            if kind == "text":
                nodes.append(Text(line, payload))
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
                    nodes.append(Call(line, name, pipe))
            elif word == "template":
                toks = self._tokens(rest, line)
                if not toks or toks[0][0] not in ("str", "raw"):
                    raise self.error("template clause needs a quoted name", line)
                pipe = self._pipe(toks[1:], line) if len(toks) > 1 else None
                nodes.append(Call(line, _unquote(toks[0][1]), pipe))
            elif word in ("break", "continue"):
                nodes.append(Call(line, "\x00" + word, None))
            else:
                nodes.append(Action(line, self._pipe(self._tokens(payload, line), line)))
        if stops:
            raise self.error("unexpected EOF", self.items[-1][2] if self.items else 1)
        return nodes, None

    def _branch(self, kind: str, rest: str, line: int) -> Node:
        pipe = self._pipe(self._tokens(rest, line), line)
        body, end = self._list(("end", "else"))
        if end is None:
            raise self.error(f"unexpected EOF in {kind}", line)
        node = Branch(line, kind, pipe, body)
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
            # Whitespace is kept as one "sp" token: "(x).F" is a field of x, "(x) .F" is
            # a second argument.
            if kind != "ws":
                out.append((kind, m.group()))
            elif out and out[-1][0] != "sp":
                out.append(("sp", " "))
            pos = m.end()
        return out

    def _pipe(self, toks: list[tuple[str, str]], line: int) -> Pipe:
        decl: list[str] = []
        assign = False
        if toks and toks[0][0] == "sp":
            toks = toks[1:]
        for i, (kind, _val) in enumerate(toks):
            if kind in ("decl", "assign"):
                names = [t[1] for t in toks[:i] if t[0] == "var"]
                if not names or any(t[0] not in ("var", "comma", "sp") for t in toks[:i]):
                    raise self.error("bad variable declaration", line)
                decl, assign, toks = names, kind == "assign", toks[i + 1:]
                break
            if kind not in ("var", "comma", "sp"):
                break
        self._toks, self._i, self._line = toks, 0, line
        cmds = self._cmds(top=True)
        if not cmds:
            raise self.error("missing value for command", line)
        return Pipe(decl, assign, cmds)

    def _cmds(self, top: bool) -> list[list[Operand]]:
        cmds: list[list[Operand]] = []
        cmd: list[Operand] = []
        while self._i < len(self._toks):
            kind, val = self._toks[self._i]
            self._i += 1
            if kind == "sp":
                continue
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

    def _operand(self, kind: str, val: str) -> Operand:
        line = self._line
        if kind in ("str", "raw"):
            return Operand("lit", _unquote(val))
        if kind == "char":
            return Operand("lit", ord(_unquote('"' + val[1:-1] + '"')))
        if kind == "num":
            clean = val.replace("_", "")
            try:
                num: Any = int(clean, 0)
            except ValueError:
                num = float(clean)
            return Operand("lit", num)
        if kind == "field":
            return Operand("field", None, tuple(f[1:] for f in _FIELDS.findall(val)))
        if kind == "var":
            fields = self._trailing_fields()
            return Operand("var", val, fields)
        if kind == "lp":
            sub = self._cmds(top=False)
            return Operand("pipe", Pipe([], False, sub), self._trailing_fields())
        if kind == "ident":
            if val in ("true", "false"):
                return Operand("lit", val == "true")
            if val == "nil":
                return Operand("lit", None)
            if val not in self.funcs:
                raise self.error(f'function "{val}" not defined', line)
            return Operand("func", val)
        raise self.error(f"unexpected {val!r}", line)

    def _trailing_fields(self) -> tuple[str, ...]:
        if self._i < len(self._toks) and self._toks[self._i][0] == "field" \
                and self._toks[self._i][1] != ".":
            val = self._toks[self._i][1]
            self._i += 1
            return tuple(f[1:] for f in _FIELDS.findall(val))
        return ()



