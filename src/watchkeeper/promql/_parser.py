"""Recursive-descent / precedence-climbing parser producing the :mod:`._ast` tree."""

from __future__ import annotations

import math
from typing import NoReturn

from ..config._duration import parse_duration_ms
from ..exceptions import InvalidMatcherError, PromQLParseError
from ..tsdb import Matcher, MatchType
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
    VectorMatching,
    VectorSelector,
)
from ._check import check, check_selectors
from ._durations import as_dexpr, const_seconds, fold, parse_duration_expr_ms
from ._lexer import (
    AGGREGATORS,
    Token,
    describe_token,
    line_col,
    number_value,
    tokenize,
    unquote,
)
from ._signatures import FUNCTIONS

__all__ = ["parse", "parse_duration_expr_ms"]

PREC = {"or": 1, "and": 2, "unless": 2, "==": 3, "!=": 3, "<=": 3, "<": 3, ">=": 3, ">": 3,
        "+": 4, "-": 4, "*": 5, "/": 5, "%": 5, "atan2": 5, "^": 6}
COMPARISONS = frozenset({"==", "!=", "<=", "<", ">=", ">"})
SET_OPS = frozenset({"and", "or", "unless"})
PARAM_AGGS = frozenset({"topk", "bottomk", "count_values", "quantile", "limitk", "limit_ratio"})
_DUR_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "%": 2, "^": 4}


def parse(query: str) -> Expr:
    """Parse and type-check a PromQL expression.

    Raises:
        PromQLParseError: syntax errors, with line/column and a caret line.
        PromQLTypeError: well-formed but ill-typed expressions.
    """
    p = _Parser(query)
    expr = p.expr(0)
    if p.peek().kind != "EOF":
        p.unexpected(p.peek(), "")
    check_selectors(expr, query, False)
    check(expr, query)
    return expr


class _Parser:
    def __init__(self, query: str) -> None:
        self.q = query
        self.toks = tokenize(query)
        self.i = 0

    # --- token helpers -----------------------------------------------------------------
    def peek(self, k: int = 0) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self) -> Token:
        t = self.toks[self.i]
        if self.i < len(self.toks) - 1:
            self.i += 1
        return t

    def error(self, pos: int, msg: str) -> NoReturn:
        line, col = line_col(self.q, pos)
        raise PromQLParseError(msg, self.q, line, col)

    def unexpected(self, tok: Token, ctx: str) -> NoReturn:
        what = "end of input" if tok.kind == "EOF" else describe_token(tok)
        self.error(tok.pos, f"unexpected {what}" + (f" in {ctx}" if ctx else ""))

    def is_punct(self, c: str, k: int = 0) -> bool:
        t = self.peek(k)
        return t.kind == "PUNCT" and t.text == c

    def expect_punct(self, c: str, ctx: str) -> Token:
        t = self.next()
        if t.kind != "PUNCT" or t.text != c:
            self.unexpected(t, ctx + f", expected \"{c}\"")
        return t

    def kw(self, k: int = 0) -> str:
        t = self.peek(k)
        return t.text.lower() if t.kind == "IDENT" else ""

    # --- expressions -------------------------------------------------------------------
    def binop_at(self) -> str | None:
        t = self.peek()
        if t.kind == "OP" and t.text in PREC:
            return t.text
        if t.kind == "IDENT" and t.text.lower() in ("and", "or", "unless", "atan2"):
            return t.text.lower()
        return None

    def expr(self, min_prec: int) -> Expr:
        lhs = self.unary()
        while True:
            op = self.binop_at()
            if op is None:
                return lhs
            prec = PREC[op]
            if prec < min_prec:
                return lhs
            optok = self.next()
            ret_bool = False
            if self.kw() == "bool":
                self.next()
                ret_bool = True
            matching = self.vector_matching(op)
            rhs = self.expr(prec if op == "^" else prec + 1)
            lhs = BinaryExpr(op, lhs, rhs, matching, ret_bool, pos=optok.pos)
            lhs.pos = _start(lhs.lhs)

    def vector_matching(self, op: str) -> VectorMatching | None:
        m = VectorMatching(card="many-to-many" if op in SET_OPS else "one-to-one")
        seen = False
        if self.kw() in ("on", "ignoring"):
            m.on = self.next().text.lower() == "on"
            m.labels = self.label_list()
            m.explicit = True
            seen = True
            if self.kw() in ("group_left", "group_right"):
                g = self.next().text.lower()
                m.card = "many-to-one" if g == "group_left" else "one-to-many"
                if self.is_punct("("):
                    m.include = self.label_list()
        while self.kw() in ("fill", "fill_left", "fill_right") and self.is_punct("(", 1):
            which = self.next().text.lower()
            self.expect_punct("(", "fill modifier")
            sign = 1.0
            while self.peek().kind == "OP" and self.peek().text in "+-":
                if self.next().text == "-":
                    sign = -sign
            t = self.next()
            if t.kind == "NUMBER":
                val = sign * number_value(t.text)
            elif t.kind == "DURATION":
                val = sign * parse_duration_ms(t.text) / 1000
            elif t.kind == "IDENT" and t.text.lower() in ("inf", "nan"):
                val = sign * number_value(t.text)
            else:
                self.unexpected(t, "fill modifier")
            self.expect_punct(")", "fill modifier")
            if which in ("fill", "fill_left"):
                m.fill_left = val
            if which in ("fill", "fill_right"):
                m.fill_right = val
            seen = True
        return m if seen or op in SET_OPS else None

    def label_list(self) -> list[str]:
        self.expect_punct("(", "grouping opts")
        out: list[str] = []
        while not self.is_punct(")"):
            t = self.next()
            if t.kind == "IDENT":
                out.append(t.text)
            elif t.kind == "STRING":
                out.append(unquote(t.text[1:-1], t.text[0], self.q, t.pos))
            else:
                self.unexpected(t, "grouping opts, expected label")
            if self.is_punct(","):
                self.next()
            elif not self.is_punct(")"):
                self.unexpected(self.peek(), "grouping opts, expected \",\" or \")\"")
        self.next()
        return out

    def unary(self) -> Expr:
        t = self.peek()
        if t.kind == "OP" and t.text in ("+", "-"):
            self.next()
            operand = self.expr(PREC["^"])
            if isinstance(operand, NumberLiteral):
                if t.text == "-":
                    operand.value = -operand.value
                operand.pos = t.pos
                return operand
            return UnaryExpr(t.text, operand, pos=t.pos)
        return self.postfix(self.primary())

    def primary(self) -> Expr:
        t = self.next()
        if t.kind == "NUMBER":
            return NumberLiteral(number_value(t.text), pos=t.pos)
        if t.kind == "DURATION":
            return NumberLiteral(parse_duration_ms(t.text) / 1000, duration=True, pos=t.pos)
        if t.kind == "STRING":
            return StringLiteral(unquote(t.text[1:-1], t.text[0], self.q, t.pos), pos=t.pos)
        if t.kind == "PUNCT" and t.text == "(":
            inner = self.expr(0)
            self.expect_punct(")", "paren expression")
            return ParenExpr(inner, pos=t.pos)
        if t.kind == "PUNCT" and t.text == "{":
            return self.selector(None, t.pos, brace_consumed=True)
        if t.kind == "IDENT":
            low = t.text.lower()
            if low in ("inf", "nan"):
                return NumberLiteral(number_value(t.text), pos=t.pos)
            if low in AGGREGATORS and (self.is_punct("(") or self.kw() in ("by", "without")):
                return self.aggregate(low, t.pos)
            if self.is_punct("("):
                if t.text in FUNCTIONS:
                    return self.call(t.text, t.pos)
                if low in ("step", "range", "start", "end") and low in FUNCTIONS:
                    return self.call(low, t.pos)
                self.error(t.pos, f'unknown function with name "{t.text}"')
            if low in ("and", "or", "unless", "atan2", "by", "without", "on", "ignoring",
                       "group_left", "group_right", "bool", "offset"):
                self.unexpected(t, "")
            return self.selector(t.text, t.pos)
        self.unexpected(t, "")

    def call(self, name: str, pos: int) -> Expr:
        self.expect_punct("(", "function call")
        args: list[Expr] = []
        while not self.is_punct(")"):
            args.append(self.expr(0))
            if self.is_punct(","):
                self.next()
                if self.is_punct(")"):
                    self.unexpected(self.peek(), "function call")
            elif not self.is_punct(")"):
                self.unexpected(self.peek(), "function call, expected \",\" or \")\"")
        self.next()
        return Call(name, args, pos=pos)

    def aggregate(self, op: str, pos: int) -> Expr:
        grouping: list[str] = []
        without = by = False
        if self.kw() in ("by", "without"):
            without = self.next().text.lower() == "without"
            by = not without
            grouping = self.label_list()
        self.expect_punct("(", "aggregation")
        args: list[Expr] = []
        while not self.is_punct(")"):
            args.append(self.expr(0))
            if self.is_punct(","):
                self.next()
            elif not self.is_punct(")"):
                self.unexpected(self.peek(), "aggregation, expected \",\" or \")\"")
        self.next()
        if not (by or without) and self.kw() in ("by", "without"):
            without = self.next().text.lower() == "without"
            by = not without
            grouping = self.label_list()
        want = 2 if op in PARAM_AGGS else 1
        if len(args) != want:
            self.error(pos, "wrong number of arguments for aggregate expression provided, "
                       f"expected {want}, got {len(args)}")
        param = args[0] if want == 2 else None
        return AggregateExpr(op, args[-1], param, grouping, without, by, pos=pos)

    def selector(self, name: str | None, pos: int, brace_consumed: bool = False) -> Expr:
        matchers: list[Matcher] = []
        if brace_consumed or self.is_punct("{"):
            if not brace_consumed:
                self.next()
            while not self.is_punct("}"):
                t = self.next()
                if t.kind == "IDENT":
                    label = t.text
                elif t.kind == "STRING":
                    label = unquote(t.text[1:-1], t.text[0], self.q, t.pos)
                    if self.is_punct(",") or self.is_punct("}"):
                        if name is not None:
                            self.error(t.pos, "metric name must not be set twice: "
                                       f'"{name}" or "{label}"')
                        name = label
                        if self.is_punct(","):
                            self.next()
                        continue
                else:
                    self.unexpected(t, "label matching")
                op = self.next()
                if op.kind != "OP" or op.text not in ("=", "!=", "=~", "!~"):
                    self.unexpected(op, "label matching, expected one of \"=\", \"!=\", "
                                    "\"=~\" or \"!~\"")
                v = self.next()
                if v.kind != "STRING":
                    self.unexpected(v, "label matching, expected string")
                value = unquote(v.text[1:-1], v.text[0], self.q, v.pos)
                try:
                    matchers.append(Matcher.parse_op(op.text, label, value))
                except InvalidMatcherError as exc:
                    self.error(v.pos, str(exc))
                if self.is_punct(","):
                    self.next()
                elif not self.is_punct("}"):
                    self.unexpected(self.peek(), "label matching, expected \",\" or \"}\"")
            self.next()
        end = self.toks[self.i - 1].pos + len(self.toks[self.i - 1].text)
        if name is not None:
            if any(m.name == "__name__" for m in matchers):
                self.error(pos, f'metric name must not be set twice: "{name}" or '
                           f'"{next(m.value for m in matchers if m.name == "__name__")}"')
            matchers.insert(0, Matcher(MatchType.EQUAL, "__name__", name))
        return VectorSelector(name, matchers, pos=pos, end=end)

    # --- postfix: [range], [range:step], offset, @, anchored/smoothed --------------------
    def postfix(self, e: Expr) -> Expr:
        while True:
            if self.is_punct("["):
                e = self.bracket(e)
            elif self.kw() == "offset":
                t = self.next()
                d = self.offset_duration()
                e = self.set_offset(e, d, t.pos)
            elif self.is_punct("@"):
                t = self.next()
                self.set_at(e, t.pos)
            elif self.kw() == "smoothed" and isinstance(e, VectorSelector) and not e.smoothed:
                self.next()
                e.smoothed = True
            elif self.kw() in ("anchored", "smoothed") and isinstance(e, MatrixSelector):
                word = self.next().text.lower()
                if e.anchored or e.smoothed:
                    self.error(self.toks[self.i - 1].pos,
                               "anchored and smoothed modifiers may not be combined")
                setattr(e, word, True)
            else:
                return e

    def bracket(self, e: Expr) -> Expr:
        lb = self.next()
        rng = self.duration_expr(0)
        self._check_positive(rng, lb.pos)
        if self.is_punct(":"):
            self.next()
            step: int | DurationExpr | None = None
            if not self.is_punct("]"):
                step = self.duration_expr(0)
                self._check_positive(step, lb.pos)
            self.expect_punct("]", "subquery selector")
            return SubqueryExpr(e, rng, step, pos=_start(e))
        self.expect_punct("]", "matrix selector")
        if not isinstance(e, VectorSelector):
            self.error(lb.pos, "ranges only allowed for vector selectors")
        if e.offset != 0:
            self.error(lb.pos, "no offset modifiers allowed before range")
        if e.at is not None or e.at_mod is not None:
            self.error(lb.pos, "no @ modifiers allowed before range")
        if e.smoothed:
            self.error(lb.pos, "no smoothed modifier allowed before range")
        return MatrixSelector(e, rng, pos=e.pos)

    def _check_positive(self, d: int | DurationExpr, pos: int) -> None:
        if isinstance(d, int) and d <= 0:
            self.error(pos, "duration must be greater than 0" if d == 0 else
                       f"duration must be greater than 0, got {d}")

    def duration_expr(self, min_prec: int) -> int | DurationExpr:
        lhs = self.duration_unary()
        while True:
            t = self.peek()
            if t.kind != "OP" or t.text not in _DUR_PREC or _DUR_PREC[t.text] < min_prec:
                break
            self.next()
            prec = _DUR_PREC[t.text]
            rhs = self.duration_expr(prec if t.text == "^" else prec + 1)
            if t.text in "/%" and const_seconds(rhs) == 0:
                self.error(t.pos, "division by zero" if t.text == "/" else "modulo by zero")
            lhs = fold(DurationExpr(t.text, as_dexpr(lhs), as_dexpr(rhs), pos=t.pos))
        return lhs

    def duration_unary(self) -> int | DurationExpr:
        t = self.peek()
        if t.kind == "OP" and t.text in "+-":
            self.next()
            inner = self.duration_expr(3)
            return fold(DurationExpr("neg" if t.text == "-" else "pos", None,
                                      as_dexpr(inner), pos=t.pos))
        return self.duration_atom()

    def duration_atom(self) -> int | DurationExpr:
        t = self.next()
        if t.kind == "DURATION":
            return parse_duration_ms(t.text)
        if t.kind == "NUMBER":
            v = number_value(t.text)
            if math.isinf(v) or math.isnan(v) or abs(v) > 2**62 / 1e6:
                self.error(t.pos, "duration out of range")
            ms = v * 1000
            return round(ms) if ms == round(ms) else DurationExpr("num", value=v, pos=t.pos)
        if t.kind == "PUNCT" and t.text == "(":
            inner = self.duration_expr(0)
            self.expect_punct(")", "duration expression")
            return inner
        if t.kind == "IDENT" and t.text.lower() in ("step", "range") and self.is_punct("("):
            self.next()
            self.expect_punct(")", "duration expression")
            return DurationExpr(t.text.lower(), pos=t.pos)
        if t.kind == "IDENT" and t.text.lower() in ("min_of", "max_of") and self.is_punct("("):
            self.next()
            a = self.duration_expr(0)
            self.expect_punct(",", "duration expression")
            b = self.duration_expr(0)
            self.expect_punct(")", "duration expression")
            return DurationExpr(t.text.lower(), as_dexpr(a), as_dexpr(b), pos=t.pos)
        self.unexpected(t, "duration expression")

    def offset_duration(self) -> int | DurationExpr:
        t = self.peek()
        if t.kind == "OP" and t.text in "+-":
            self.next()
            inner = self.duration_atom()
            return fold(DurationExpr("neg" if t.text == "-" else "pos", None,
                                      as_dexpr(inner), pos=t.pos))
        return self.duration_atom()

    def set_offset(self, e: Expr, d: int | DurationExpr, pos: int) -> Expr:
        target: VectorSelector | SubqueryExpr
        if isinstance(e, MatrixSelector):
            target = e.vs
        elif isinstance(e, VectorSelector | SubqueryExpr):
            target = e
        else:
            self.error(pos, "offset modifier must be preceded by an instant vector selector "
                       "or range vector selector or a subquery")
        if target.offset != 0:
            self.error(pos, "offset may not be set multiple times")
        target.offset = d
        return e

    def set_at(self, e: Expr, pos: int) -> None:
        target: VectorSelector | SubqueryExpr
        if isinstance(e, MatrixSelector):
            target = e.vs
        elif isinstance(e, VectorSelector | SubqueryExpr):
            target = e
        else:
            self.error(pos, "@ modifier must be preceded by an instant vector selector or "
                       "range vector selector or a subquery")
        if target.at is not None or target.at_mod is not None:
            self.error(pos, "@ <timestamp> may not be set multiple times")
        t = self.next()
        sign = 1.0
        if t.kind == "OP" and t.text in "+-":
            sign = -1.0 if t.text == "-" else 1.0
            t = self.next()
        if t.kind == "NUMBER" or (t.kind == "IDENT" and t.text.lower() in ("inf", "nan")):
            v = sign * number_value(t.text)
            if math.isinf(v) or math.isnan(v) or abs(v) * 1000 > 2**63:
                self.error(t.pos, f"timestamp out of bounds for @ modifier: {v}")
            target.at = v
        elif t.kind == "DURATION":
            target.at = sign * parse_duration_ms(t.text) / 1000
        elif t.kind == "IDENT" and t.text.lower() in ("start", "end") and self.is_punct("("):
            self.next()
            self.expect_punct(")", "@ modifier")
            target.at_mod = t.text.lower()
        else:
            self.error(t.pos, "unexpected " + describe_token(t) + " in @, expected timestamp")


def _start(e: Expr) -> int:
    return e.pos
