"""Neumaier-compensated sums, scalar and vectorised across steps, as Prometheus sums."""

from __future__ import annotations

import math

import numpy as np

from ._values import FloatArray

__all__ = ["kahan_inc", "kahan_inc_vec", "kahan_sum"]


def kahan_inc(inc: float, total: float, c: float) -> tuple[float, float]:
    t = total + inc
    if math.isinf(t):
        c = 0.0
    elif abs(total) >= abs(inc):
        c += (total - t) + inc
    else:
        c += (inc - t) + total
    return t, c


def kahan_sum(values: FloatArray) -> float:
    total = c = 0.0
    for v in values.tolist():
        total, c = kahan_inc(v, total, c)
    if math.isinf(total):
        return total
    return total + c


def kahan_inc_vec(inc: FloatArray, total: FloatArray, c: FloatArray,
                  mask: np.ndarray) -> tuple[FloatArray, FloatArray]:
    """One compensated add per step where ``mask`` holds."""
    with np.errstate(invalid="ignore", over="ignore"):
        t = total + inc
        big = np.abs(total) >= np.abs(inc)
        corr = np.where(big, (total - t) + inc, (inc - t) + total)
        newc = np.where(np.isinf(t), 0.0, c + corr)
    return np.where(mask, t, total), np.where(mask, newc, c)
