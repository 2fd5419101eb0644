"""Evaluation values: every node is evaluated over all steps at once (numpy per series)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = [
    "FloatArray", "Matrix", "MatrixArg", "RangeSeries", "Scalar", "Series", "Vector",
    "label_key",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class Series:
    """One instant-vector series across the query's steps."""

    labels: dict[str, str]
    values: FloatArray
    present: BoolArray
    drop_name: bool = False
    ts: IntArray | None = None  # sample timestamps, only from plain selectors


Vector = list[Series]


@dataclass
class Scalar:
    values: FloatArray


@dataclass
class RangeSeries:
    """Raw samples of one series (stale markers removed)."""

    labels: dict[str, str]
    ts: IntArray
    vs: FloatArray
    drop_name: bool = False
    sts: IntArray | None = None  # start timestamps (0 = unknown), only when stored


@dataclass
class MatrixArg:
    """A range vector: samples plus, per step, the window ``(ends - range, ends]``."""

    series: list[RangeSeries]
    ends: IntArray
    range_ms: int
    anchored: bool = False
    smoothed: bool = False
    from_subquery: bool = False
    step_times: IntArray = field(default_factory=lambda: np.empty(0, np.int64))


Matrix = MatrixArg


def label_key(labels: dict[str, str]) -> frozenset[tuple[str, str]]:
    """Hashable identity of a label set (order-free, so no sort per series)."""
    return frozenset(labels.items())  # noqa: RUF100
