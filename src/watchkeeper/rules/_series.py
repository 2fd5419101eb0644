"""promtool's input-series value notation: ``1 2 _ stale 0+10x100 1x3 -2-1x4 _x3``.

Expanding items add the step cumulatively (``v += step`` per point) as Prometheus'
series parser does, so float results carry the same rounding as promtool's.
"""

from __future__ import annotations

import math
import re

from ..tsdb import STALE_NAN

__all__ = ["parse_values"]

_NUM = r"[-+]?(?:[Ii]nf|NaN|0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
_EXPAND = re.compile(rf"({_NUM})(?:([-+])((?:[Ii]nf|NaN|0[xX][0-9a-fA-F]+|"
                     rf"(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)))?x(\d+)")
_BLANKS = re.compile(r"_x(\d+)")


def _number(text: str) -> float:
    low = text.lower().lstrip("+")
    if low in ("inf", "-inf", "nan", "-nan"):
        return {"inf": math.inf, "-inf": -math.inf}.get(low, math.nan)
    if re.fullmatch(r"-?0x[0-9a-f]+", low):
        return float(int(low, 16))
    return float(text)


def parse_values(text: str) -> list[float | None]:
    """Values of one input series (``None`` = no sample at that step).

    Raises:
        ValueError: naming the item that is not promtool notation.
    """
    out: list[float | None] = []
    for item in text.split():
        if item == "_":
            out.append(None)
        elif item == "stale":
            out.append(STALE_NAN)
        elif m := _BLANKS.fullmatch(item):
            out.extend([None] * int(m.group(1)))
        elif m := _EXPAND.fullmatch(item):
            value = _number(m.group(1))
            step = _number(m.group(3)) if m.group(3) else 0.0
            if m.group(2) == "-":
                step = -step
            out.append(value)
            for _ in range(int(m.group(4))):
                value += step
                out.append(value)
        elif re.fullmatch(_NUM, item):
            out.append(_number(item))
        else:
            raise ValueError(f"unexpected {item!r} in series values")
    return out
