"""Tokens of PromQL: numbers (incl. hex, Inf, NaN), durations, strings, names, operators."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..exceptions import PromQLParseError

__all__ = ["KEYWORDS", "Token", "describe_token", "line_col", "number_value", "tokenize",
           "unquote"]

AGGREGATORS = frozenset({
    "sum", "avg", "count", "min", "max", "group", "stddev", "stdvar", "topk", "bottomk",
    "count_values", "quantile", "limitk", "limit_ratio",
})
KEYWORDS = frozenset({
    "and", "or", "unless", "atan2", "by", "without", "on", "ignoring", "group_left",
    "group_right", "bool", "offset", "start", "end", "step", "range", "anchored",
    "smoothed", "fill", "fill_left", "fill_right", "min_of", "max_of",
}) | AGGREGATORS


@dataclass(frozen=True, slots=True)
class Token:
    """``kind`` is one of NUMBER DURATION STRING IDENT OP PUNCT EOF; ``pos`` a char offset."""

    kind: str
    text: str
    pos: int


_NUM = re.compile(
    r"0[xX][0-9a-fA-F]+(?![0-9a-zA-Z_])"
    r"|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
)
_DUR = re.compile(r"(?:[0-9]+(?:ms|[smhdwy]))+(?![0-9a-zA-Z_.])")
_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_OPS = ["==", "!=", "<=", ">=", "=~", "!~", "+", "-", "*", "/", "%", "^", "<", ">", "="]
_PUNCT = "(){}[],:@"


def line_col(query: str, pos: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    before = query[:pos]
    line = before.count("\n") + 1
    col = pos - (before.rfind("\n") + 1) + 1
    return line, col


def _err(query: str, pos: int, msg: str) -> PromQLParseError:
    line, col = line_col(query, pos)
    return PromQLParseError(msg, query, line, col)


_ESC = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
        "\\": "\\"}


def unquote(body: str, quote: str, query: str = "", pos: int = 0) -> str:
    """Decode a Go-style quoted string body (the text between the quotes)."""
    if quote == "`":
        return body
    out: list[str] = []
    i = 0
    n = len(body)
    while i < n:
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        if i + 1 >= n:
            raise _err(query, pos + i, "escape sequence not terminated")
        e = body[i + 1]
        if e in _ESC:
            out.append(_ESC[e])
            i += 2
        elif e == quote:
            out.append(e)
            i += 2
        elif e in "xuU01234567":
            if e in "01234567":
                digits, base, width = body[i + 1:i + 4], 8, 3
            else:
                width = {"x": 2, "u": 4, "U": 8}[e]
                digits, base = body[i + 2:i + 2 + width], 16
            try:
                if len(digits) != width:
                    raise ValueError
                code = int(digits, base)
                if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                    raise ValueError
            except ValueError:
                raise _err(query, pos + i, f"invalid escape sequence \\{e}{digits}") from None
            if e in "x01234567":
                out.append(bytes([code]).decode("latin-1") if code < 0x80 else
                           bytes([code]).decode("utf-8", "surrogateescape"))
            else:
                out.append(chr(code))
            i += (2 + width) if e not in "01234567" else 4
        else:
            raise _err(query, pos + i, f"unknown escape sequence U+{ord(e):04X} '{e}'")
    text = "".join(out)
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8")
    except UnicodeDecodeError:
        # Go strings may hold invalid UTF-8; keep the bytes as surrogate escapes so
        # consumers (label names) can reject them with a precise message.
        return text


def tokenize(query: str) -> list[Token]:
    """Split a query into tokens; comments (``# ...``) and whitespace are dropped."""
    toks: list[Token] = []
    i = 0
    n = len(query)
    brace_depth = 0
    bracket_depth = 0
    while i < n:
        c = query[i]
        if c in " \t\r\n":
            i += 1
            continue
        if c == "#":
            j = query.find("\n", i)
            i = n if j < 0 else j
            continue
        if c in "\"'`":
            j = i + 1
            while j < n and query[j] != c:
                if query[j] == "\\" and c != "`":
                    j += 1
                elif query[j] == "\n" and c != "`":
                    raise _err(query, j, "unterminated quoted string")
                j += 1
            if j >= n:
                raise _err(query, i, "unterminated quoted string")
            toks.append(Token("STRING", query[i:j + 1], i))
            i = j + 1
            continue
        if c.isdigit() or (c == "." and i + 1 < n and query[i + 1].isdigit()):
            m = _DUR.match(query, i)
            if m and brace_depth == 0:
                toks.append(Token("DURATION", m.group(), i))
                i = m.end()
                continue
            m = _NUM.match(query, i)
            if m is None:
                raise _err(query, i, f"bad number or duration syntax: {query[i:i + 5]!r}")
            end = m.end()
            if end < n and (query[end].isalnum() or query[end] == "_"):
                j = end
                while j < n and (query[j].isalnum() or query[j] in "_."):
                    j += 1
                raise _err(query, i, f'bad number or duration syntax: "{query[i:j]}"')
            toks.append(Token("NUMBER", m.group(), i))
            i = end
            continue
        m = _IDENT.match(query, i) if not (c == ":" and bracket_depth > 0) else None
        if m:
            word = m.group()
            if brace_depth > 0 and ":" in word:
                word = word[: word.index(":")] or word
            toks.append(Token("IDENT", word, i))
            i += len(word)
            continue
        if c in _PUNCT:
            if c == "{":
                brace_depth += 1
            elif c == "}":
                brace_depth = max(0, brace_depth - 1)
            elif c == "[":
                bracket_depth += 1
            elif c == "]":
                bracket_depth = max(0, bracket_depth - 1)
            toks.append(Token("PUNCT", c, i))
            i += 1
            continue
        for op in _OPS:
            if query.startswith(op, i):
                toks.append(Token("OP", op, i))
                i += len(op)
                break
        else:
            if c == "!":
                raise _err(query, i, "unexpected character after '!': "
                           + (repr(query[i + 1]) if i + 1 < n else "EOF"))
            raise _err(query, i, f"unexpected character: {c!r}")
    toks.append(Token("EOF", "", n))
    return toks


def number_value(text: str) -> float:
    """The value of a NUMBER token: hex, octal (leading 0), Inf and NaN as PromQL reads them."""
    low = text.lower()
    if low in ("inf", "+inf"):
        return math.inf
    if low == "nan":
        return math.nan
    if low.startswith("0x"):
        return float(int(low, 16))
    if len(text) > 1 and text[0] == "0" and text.isdigit():
        try:
            return float(int(text, 8))
        except ValueError:
            return float(text)
    return float(text)


def describe_token(t: Token) -> str:
    """A token the way Prometheus names it in parse errors."""
    if t.kind == "STRING":
        return f"string {t.text}" if len(t.text) < 40 else "string"
    if t.kind == "NUMBER":
        return f"number \"{t.text}\""
    if t.kind == "DURATION":
        return f"duration \"{t.text}\""
    if t.kind == "IDENT":
        low = t.text.lower()
        if low in ("by", "without", "on", "ignoring", "group_left", "group_right", "bool",
                   "offset"):
            return low
        if low in ("and", "or", "unless", "atan2"):
            return low
        return f"identifier \"{t.text}\""
    if t.kind == "PUNCT":
        names = {"(": "left parenthesis", ")": "right parenthesis", "{": "left brace",
                 "}": "right brace", "[": "left bracket", "]": "right bracket",
                 ",": "comma", ":": "colon", "@": "@"}
        return names.get(t.text, t.text)
    return f"\"{t.text}\""
