"""``watchkeeper promql test FILE...`` and ``watchkeeper promql query EXPR --data FILE``."""

from __future__ import annotations

import argparse
import time
from typing import Any

__all__ = ["register"]


def register(commands: Any) -> None:
    promql = commands.add_parser("promql", help="PromQL engine tools")
    what = promql.add_subparsers(dest="what", metavar="WHAT", required=True)
    test = what.add_parser("test", help="run Prometheus PromQL test scripts (*.test)")
    test.add_argument("files", nargs="+", help="test script files")
    test.add_argument("-v", "--verbose", action="store_true", help="print each failure")
    test.set_defaults(func=_test)
    query = what.add_parser("query", help="evaluate an expression over an exposition file")
    query.add_argument("expr", help="PromQL expression")
    query.add_argument("--data", required=True, help="OpenMetrics/text exposition file")
    query.add_argument("--time", help="instant query time (unix seconds or RFC 3339)")
    query.add_argument("--start", help="range query start")
    query.add_argument("--end", help="range query end")
    query.add_argument("--step", help="range query step (seconds or duration, e.g. 1m)")
    query.add_argument("--experimental", action="store_true",
                       help="enable experimental PromQL features (as Prometheus' flags do)")
    query.set_defaults(func=_query)


def _test(args: argparse.Namespace) -> int:
    from ..promql._testscript import run_file

    passed = failed = 0
    for f in args.files:
        r = run_file(f)
        passed += r.passed
        failed += r.failed
        print(f"{f}: {r.passed} passed, {r.failed} failed, {r.skipped} skipped")
        if args.verbose:
            for msg in r.failures:
                print(f"  FAIL {msg}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def _time(text: str) -> float:
    from ..web._query_api import _parse_time

    return _parse_time(text)


def _query(args: argparse.Namespace) -> int:
    from ..promql import Engine
    from ..promql._exposition import load_exposition
    from ..tsdb import format_labels

    db = load_exposition(args.data, default_time_ms=round(time.time() * 1000))
    engine = Engine(db, experimental=args.experimental)
    ranged = args.start is not None or args.end is not None or args.step is not None
    if ranged:
        if args.start is None or args.end is None or args.step is None:
            print("watchkeeper: error: --start, --end and --step go together")
            return 2
        from ..web._query_api import _parse_step

        res = engine.range(args.expr, _time(args.start), _time(args.end),
                           _parse_step(args.step))
    else:
        newest = db.max_time()
        t = _time(args.time) if args.time else (newest / 1000 if newest is not None
                                                 else time.time())
        res = engine.instant(args.expr, t)
    rows: list[tuple[str, str, str]] = []
    if res.type == "vector":
        rows = [(format_labels(tuple(sorted(s.labels.items()))), f"{s.t / 1000:.3f}", _f(s.v))
                for s in res.vector]
    elif res.type == "matrix":
        for sr in res.matrix:
            name = format_labels(tuple(sorted(sr.labels.items())))
            rows += [(name, f"{t / 1000:.3f}", _f(v)) for t, v in sr.points]
    elif res.type == "scalar" and res.scalar is not None:
        rows = [("scalar", f"{res.scalar[0] / 1000:.3f}", _f(res.scalar[1]))]
    elif res.string is not None:
        rows = [("string", f"{res.string[0] / 1000:.3f}", res.string[1])]
    header = ("SERIES", "TIME", "VALUE")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    for r in [header, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    for w in res.warnings:
        print(f"warning: {w}")
    return 0


def _f(v: float) -> str:
    import math

    if math.isnan(v) or math.isinf(v) or v != int(v) or abs(v) > 1e15:
        return repr(v)
    return str(int(v))
