"""``anchored`` / ``smoothed`` range modifiers (experimental): not implemented yet."""

from __future__ import annotations

from ..exceptions import PromQLExecutionError
from ._values import BoolArray, FloatArray, MatrixArg, RangeSeries

__all__ = ["eval_extended"]


def eval_extended(name: str, m: MatrixArg, lookback: int
                  ) -> list[tuple[RangeSeries, FloatArray, BoolArray]]:
    raise PromQLExecutionError("anchored/smoothed range modifiers are not supported yet")
