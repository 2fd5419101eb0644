"""Metric history store: label-set series, an inverted index and numpy-backed head.

Owns appends (in order, with counted rejections), staleness markers, the WAL and
compressed on-disk blocks, and retention. Readers use :class:`Querier`.
"""

from ._api import Appender, Querier, Storage
from ._appender import HeadAppender
from ._block import Block
from ._db import TSDB, Stats
from ._labels import STALE_NAN, STALE_NAN_BITS, Labels, format_labels, is_stale_nan, make_labels
from ._matchers import Matcher, MatchType
from ._series import SeriesData, stale_mask
from ._wal import FsyncPolicy

__all__ = [
    "STALE_NAN",
    "STALE_NAN_BITS",
    "TSDB",
    "Appender",
    "Block",
    "FsyncPolicy",
    "HeadAppender",
    "Labels",
    "MatchType",
    "Matcher",
    "Querier",
    "SeriesData",
    "Stats",
    "Storage",
    "format_labels",
    "is_stale_nan",
    "make_labels",
    "stale_mask",
]
