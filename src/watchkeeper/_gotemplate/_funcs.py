"""Go's builtin template functions and value formatting (``%v``, ``printf``).

Also the text functions Prometheus and Alertmanager share (``toUpper``, ``title``,
``match``, ``reReplaceAll``, ``safeHtml``...); each stage adds its own on top.
"""

from __future__ import annotations

import html
import json
import math
import re
import urllib.parse
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["BUILTIN_FUNCS", "TEXT_FUNCS", "SafeHTML", "go_float", "go_sprintf", "go_str",
           "html_escape", "title", "truth"]


class SafeHTML(str):
    """A string ``safeHtml`` marked as trusted: HTML-mode rendering does not escape it."""

    __slots__ = ()


_HTML = {"&": "&amp;", "'": "&#39;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "+": "&#43;",
         "\0": "\ufffd"}


def html_escape(text: str) -> str:
    """Go ``html/template``'s escaping of a value printed in HTML text."""
    return "".join(_HTML.get(ch, ch) for ch in text)


def go_float(v: float) -> str:
    """Go's ``%v`` for a float64 (strconv 'g', shortest)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == 0:
        return "-0" if math.copysign(1, v) < 0 else "0"
    digits, exp = _shortest(v)
    nd, dp = len(digits), exp
    eprec = 6
    if eprec > nd >= dp:
        eprec = nd
    x = dp - 1
    sign = "-" if v < 0 else ""
    if x < -4 or x >= eprec:
        mant = digits[0] + ("." + digits[1:] if nd > 1 else "")
        return f"{sign}{mant}e{'+' if x >= 0 else '-'}{abs(x):02d}"
    if dp <= 0:
        return f"{sign}0.{'0' * -dp}{digits}"
    if dp >= nd:
        return sign + digits + "0" * (dp - nd)
    return f"{sign}{digits[:dp]}.{digits[dp:]}"


def _shortest(v: float) -> tuple[str, int]:
    text = repr(abs(v))
    mant, _, e = text.partition("e")
    exp = int(e) if e else 0
    whole, _, frac = mant.partition(".")
    if frac == "0":
        frac = ""
    digits = (whole + frac).lstrip("0")
    dp = len(whole) + exp if whole != "0" else exp - (len(frac) - len(frac.lstrip("0")))
    digits = digits.rstrip("0") or "0"
    return digits, dp


def go_str(v: Any) -> str:
    """Go's ``%v``."""
    if v is None:
        return "<no value>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, float):
        return go_float(v)
    if isinstance(v, datetime):
        return _go_time(v)
    if isinstance(v, Mapping):
        return "map[" + " ".join(f"{go_str(k)}:{go_str(v[k])}" for k in sorted(v)) + "]"
    if isinstance(v, list | tuple):
        return "[" + " ".join(go_str(x) for x in v) + "]"
    return str(v)


def _go_time(t: datetime) -> str:
    t = t.astimezone(UTC)
    frac = f".{t.microsecond:06d}".rstrip("0") if t.microsecond else ""
    return t.strftime("%Y-%m-%d %H:%M:%S") + frac + " +0000 UTC"


def truth(v: Any) -> bool:
    if v is None or v is False:
        return False
    if isinstance(v, int | float | str | list | tuple | dict):
        return bool(v)
    return True


_VERB = re.compile(r"%([-+# 0]*)(\d+|\*)?(?:\.(\d+))?([vdsfgeqxXtTbo%])")


def go_sprintf(fmt: str, *args: Any) -> str:
    """``printf`` with the verbs templates use (%v %s %d %f %g %e %q %x %t %%)."""
    out = []
    pos = 0
    idx = 0
    for m in _VERB.finditer(fmt):
        out.append(fmt[pos:m.start()])
        pos = m.end()
        flags, width, prec, verb = m.group(1), m.group(2), m.group(3), m.group(4)
        if verb == "%":
            out.append("%")
            continue
        if idx >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        arg = args[idx]
        idx += 1
        # Go flags to a Python format spec: [align][sign][#][0][width][.precision]
        spec = ("<" if "-" in flags else "") + ("+" if "+" in flags else
                                                " " if " " in flags else "")
        spec += ("#" if "#" in flags else "") + ("0" if "0" in flags and "-" not in flags
                                                 else "")
        spec += (width or "") + (f".{prec}" if prec is not None else "")
        if verb in "vs":
            text = go_str(arg)
            if prec is not None:
                text = text[:int(prec)]
            out.append(f"{text:{'<' if '-' in flags else '>'}{width or ''}}")
        elif verb == "d":
            out.append(format(int(arg), spec + "d"))
        elif verb in "fFeEgG":
            out.append(format(float(arg), spec + verb))
        elif verb == "q":
            out.append(json.dumps(go_str(arg)))
        elif verb in "xX":
            out.append(format(int(arg), spec + verb) if isinstance(arg, int)
                       else go_str(arg).encode().hex())
        elif verb == "t":
            out.append(go_str(bool(arg)))
        elif verb == "T":
            out.append(type(arg).__name__)
        else:
            out.append(go_str(arg))
    out.append(fmt[pos:])
    if idx < len(args):
        out.append("%!(EXTRA " + ", ".join(go_str(a) for a in args[idx:]) + ")")
    return "".join(out)


def _cmp(a: Any, b: Any) -> int:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return int(a > b) - int(a < b)
    if type(a) is not type(b):
        raise ValueError(f"incompatible types for comparison: {type(a).__name__} and "
                         f"{type(b).__name__}")
    return int(a > b) - int(a < b)


def _eq(a: Any, *others: Any) -> bool:
    return any(_cmp(a, b) == 0 if not (a is None or b is None) else a is b for b in others)


def _index(item: Any, *keys: Any) -> Any:
    for k in keys:
        item = item.get(k, "") if isinstance(item, Mapping) else item[int(k)]
    return item


_JS = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E",
       "&": "\\u0026", "=": "\\u003D"}


def _js(s: str) -> str:
    """Go's ``template.JSEscapeString``."""
    out = []
    for ch in s:
        if ch in _JS:
            out.append(_JS[ch])
        elif ord(ch) < 0x20 or not ch.isprintable():
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def _call(f: Callable[..., Any], *args: Any) -> Any:
    return f(*args)


def _and(*args: Any) -> Any:
    for a in args:
        if not truth(a):
            return a
    return args[-1]


def _or(*args: Any) -> Any:
    for a in args:
        if truth(a):
            return a
    return args[-1]


# Alertmanager's ``title`` is golang.org/x/text ``cases.Title``: Unicode words (UAX #29,
# where ' . : join letters and _ joins anything) get an upper-case first letter and the
# rest lower-cased.
_WORD = re.compile(r"[^\W_]+(?:(?:['\u2019.:](?=[^\W\d_])|_+)[^\W_]*)*|_+[^\W_]*", re.UNICODE)


def title(s: str) -> str:
    return _WORD.sub(lambda m: m.group(0)[:1].upper() + m.group(0)[1:].lower(), str(s))


BUILTIN_FUNCS: dict[str, Callable[..., Any]] = {
    # Go text/template builtins
    "and": _and, "or": _or, "not": lambda a: not truth(a),
    "len": len, "index": _index,
    "print": lambda *a: "".join(go_str(x) for x in a),
    "println": lambda *a: " ".join(go_str(x) for x in a) + "\n",
    "printf": go_sprintf,
    "eq": _eq, "ne": lambda a, b: not _eq(a, b),
    "lt": lambda a, b: _cmp(a, b) < 0, "le": lambda a, b: _cmp(a, b) <= 0,
    "gt": lambda a, b: _cmp(a, b) > 0, "ge": lambda a, b: _cmp(a, b) >= 0,
    "html": lambda *a: html.escape("".join(go_str(x) for x in a)),
    "js": lambda *a: _js("".join(go_str(x) for x in a)),
    "urlquery": lambda *a: urllib.parse.quote_plus("".join(go_str(x) for x in a)),
    "slice": lambda s, *i: s[slice(*i)] if i else s,
    "call": _call,
}

#: Functions Prometheus' and Alertmanager's template engines both define, with one meaning.
TEXT_FUNCS: dict[str, Callable[..., Any]] = {
    "toUpper": lambda s: str(s).upper(), "toLower": lambda s: str(s).lower(),
    "title": title,
    "match": lambda pattern, s: re.search(str(pattern), str(s)) is not None,
    "safeHtml": SafeHTML,
    "reReplaceAll": lambda pattern, repl, text: re.sub(
        str(pattern), re.sub(r"\$\{?(\w+)\}?", r"\\g<\1>", str(repl)), str(text)),
}
