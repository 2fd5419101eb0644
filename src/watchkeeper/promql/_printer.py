"""Canonical text of an expression; ``parse(format_expr(parse(q)))`` equals ``parse(q)``."""

from __future__ import annotations

import math
import re

from ..tsdb import MatchType
from ._ast import (
    AggregateExpr,
    BinaryExpr,
    Call,
    DurationExpr,
    Expr,
    MatrixSelector,
    NumberLiteral,
    ParenExpr,
    StringLiteral,
    SubqueryExpr,
    UnaryExpr,
    VectorSelector,
)

__all__ = ["format_duration_ms", "format_expr"]

_UNITS = [("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000),
          ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)]
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_METRIC = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_KEYWORDS = {"and", "or", "unless", "atan2", "by", "without", "on", "ignoring", "group_left",
             "group_right", "bool", "offset", "inf", "nan"}


def format_duration_ms(ms: int) -> str:
    """Prometheus' duration text: ``1h30m``, ``0s``; negative gets a leading ``-``."""
    if ms == 0:
        return "0s"
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    out = []
    for unit, size in _UNITS:
        if ms >= size:
            out.append(f"{ms // size}{unit}")
            ms %= size
    return sign + "".join(out)


def _dur(d: int | DurationExpr) -> str:
    if isinstance(d, int):
        return format_duration_ms(d)
    return _dexpr(d)


def _dexpr(d: DurationExpr) -> str:
    if d.op == "num":
        ms = d.value * 1000
        return format_duration_ms(round(ms)) if ms == round(ms) else repr(d.value)
    if d.op in ("step", "range"):
        return f"{d.op}()"
    assert d.rhs is not None
    if d.op in ("neg", "pos"):
        inner = _dexpr(d.rhs)
        return ("-" if d.op == "neg" else "+") + f"({inner})"
    assert d.lhs is not None
    if d.op in ("min_of", "max_of"):
        return f"{d.op}({_dexpr(d.lhs)}, {_dexpr(d.rhs)})"
    return f"({_dexpr(d.lhs)} {d.op} {_dexpr(d.rhs)})"


def _offset_text(d: int | DurationExpr) -> str:
    if isinstance(d, int):
        return format_duration_ms(d)
    return f"({_dexpr(d)})"


def _quote(s: str) -> str:
    out = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    out = out.replace("\r", "\\r").replace("\t", "\\t")
    out = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" if ord(c) < 0x10000
                  else f"\\U{ord(c):08x}" for c in out)
    return f'"{out}"'


def _label_name(s: str) -> str:
    return s if _LABEL.match(s) else _quote(s)


def _num(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def _mods(offset: int | DurationExpr, at: float | None, at_mod: str | None) -> str:
    s = ""
    if at is not None:
        s += f" @ {at:.3f}"
    elif at_mod is not None:
        s += f" @ {at_mod}()"
    if offset != 0:
        s += f" offset {_offset_text(offset)}"
    return s


def _selector(vs: VectorSelector) -> str:
    name = vs.name
    ms = [m for m in vs.matchers if not (m.name == "__name__" and name is not None
                                         and m.type is MatchType.EQUAL and m.value == name)]
    head = ""
    parts = []
    if name is not None:
        if _METRIC.match(name) and name.lower() not in _KEYWORDS:
            head = name
        else:
            parts.append(_quote(name))
    parts += [f"{_label_name(m.name)}{m.type.value}{_quote(m.value)}" for m in ms]
    if parts or not head:
        return head + "{" + ", ".join(parts) + "}"
    return head


def format_expr(e: Expr) -> str:
    """Render an expression as PromQL text."""
    if isinstance(e, NumberLiteral):
        if e.duration and e.value >= 0 and e.value * 1000 == round(e.value * 1000):
            return format_duration_ms(round(e.value * 1000))
        return _num(e.value)
    if isinstance(e, StringLiteral):
        return _quote(e.value)
    if isinstance(e, DurationExpr):
        return _dexpr(e)
    if isinstance(e, VectorSelector):
        return _selector(e) + _mods(e.offset, e.at, e.at_mod) + (" smoothed" if e.smoothed
                                                                   else "")
    if isinstance(e, MatrixSelector):
        s = f"{_selector(e.vs)}[{_dur(e.range)}]" + _mods(e.vs.offset, e.vs.at, e.vs.at_mod)
        if e.anchored:
            s += " anchored"
        if e.smoothed:
            s += " smoothed"
        return s
    if isinstance(e, SubqueryExpr):
        step = "" if e.step is None else _dur(e.step)
        inner = format_expr(e.expr)
        if isinstance(e.expr, VectorSelector) and (e.expr.offset != 0 or e.expr.at is not None
                                                   or e.expr.at_mod is not None):
            inner = f"({inner})"
        return f"{inner}[{_dur(e.range)}:{step}]" + _mods(e.offset, e.at, e.at_mod)
    if isinstance(e, ParenExpr):
        return f"({format_expr(e.expr)})"
    if isinstance(e, UnaryExpr):
        inner = format_expr(e.expr)
        if isinstance(e.expr, BinaryExpr) and e.expr.op != "^":
            inner = f"({inner})"
        return f"{e.op}{inner}"
    if isinstance(e, Call):
        return f"{e.func}({', '.join(format_expr(a) for a in e.args)})"
    if isinstance(e, AggregateExpr):
        s = e.op
        if e.without or e.by or e.grouping:
            kw = "without" if e.without else "by"
            s += f" {kw} ({', '.join(_label_name(g) for g in e.grouping)}) "
        args = ([format_expr(e.param)] if e.param is not None else []) + [format_expr(e.expr)]
        return s + "(" + ", ".join(args) + ")"
    assert isinstance(e, BinaryExpr)
    op = e.op
    if e.return_bool:
        op += " bool"
    m = e.matching
    if m is not None:
        if m.explicit:
            op += f" {'on' if m.on else 'ignoring'} ({', '.join(map(_label_name, m.labels))})"
            if m.card in ("many-to-one", "one-to-many"):
                g = "group_left" if m.card == "many-to-one" else "group_right"
                op += f" {g} ({', '.join(map(_label_name, m.include))})"
        if (m.fill_left is not None and m.fill_left == m.fill_right) or (
                m.fill_left is not None and m.fill_right is not None and
                math.isnan(m.fill_left) and math.isnan(m.fill_right)):
            op += f" fill ({_num(m.fill_left)})"
        else:
            if m.fill_left is not None:
                op += f" fill_left ({_num(m.fill_left)})"
            if m.fill_right is not None:
                op += f" fill_right ({_num(m.fill_right)})"
    return f"{_wrap(e.lhs, e, False)} {op} {_wrap(e.rhs, e, True)}"


def _wrap(child: Expr, parent: BinaryExpr, right: bool) -> str:
    from ._parser import PREC

    s = format_expr(child)
    if isinstance(child, BinaryExpr):
        cp, pp = PREC[child.op], PREC[parent.op]
        if cp < pp or (cp == pp and (right != (parent.op == "^"))):
            return f"({s})"
    if isinstance(child, UnaryExpr) and parent.op == "^" and not right:
        return f"({s})"
    return s
