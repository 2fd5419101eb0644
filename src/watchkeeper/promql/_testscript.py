"""Runner for Prometheus' PromQL test-script format (``load`` / ``clear`` / ``eval``).

Native histograms are not supported: series lines with ``{{...}}`` are not loaded and
evals that expect them or select metrics that only exist as native histograms are
counted as skipped, never as passed.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..config._duration import parse_duration_ms
from ..exceptions import PromQLError, WatchkeeperError
from ..tsdb import STALE_NAN, TSDB, is_stale_nan, make_labels
from ._ast import VectorSelector
from ._engine import Engine, QueryResult
from ._lexer import tokenize, unquote
from ._parser import parse
from ._scriptsyntax import check_annotations, is_st_line, parse_st_offsets

__all__ = ["FileReport", "check_annotations", "parse_st_line", "run_file", "run_script"]

_LOAD = re.compile(r"^load(?:_(with_nhcb))?\s+(.+?)$")
_INSTANT = re.compile(r"^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$")
_RANGE = re.compile(
    r"^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$")
_EXPECT = re.compile(
    r"^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$")
_EXPECT_RANGE = re.compile(r"^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$")
EPSILON = 1e-6
_MIN_NORMAL = 2.2250738585072014e-308


@dataclass
class FileReport:
    """Outcome of one test file: counts and the failure messages (with line numbers)."""

    path: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)


def almost_equal(a: float, b: float, eps: float = EPSILON) -> bool:
    """Upstream's float comparison (stale markers only equal each other)."""
    if is_stale_nan(a) or is_stale_nan(b):
        return is_stale_nan(a) and is_stale_nan(b)
    if math.isnan(a) and math.isnan(b):
        return True
    if a == b:
        return True
    abs_sum = abs(a) + abs(b)
    diff = abs(a - b)
    if a == 0 or b == 0 or abs_sum < _MIN_NORMAL:
        return diff < eps * _MIN_NORMAL
    return diff / min(abs_sum, 1.7976931348623157e308) < eps


def _dur(text: str) -> int:
    text = text.strip()
    try:
        return parse_duration_ms(text)
    except ValueError:
        return round(float(text) * 1000)


def _number(s: str) -> float:
    low = s.lower()
    if low in ("inf", "+inf"):
        return math.inf
    if low == "-inf":
        return -math.inf
    if low in ("nan", "+nan", "-nan"):
        return math.nan
    if re.fullmatch(r"[+-]?0[xX][0-9a-fA-F]+", s):
        return float(int(s, 16))
    return float(s)


Point = float | None  # None: omitted ("_")


def parse_series_line(line: str) -> tuple[dict[str, str], list[Point]]:
    """``metric{a="b"} 1+2x3 _ stale`` → labels and values (``None`` for ``_``)."""
    labels, rest = _split_metric(line)
    values: list[Point] = []
    for item in rest.split():
        if item == "_":
            values.append(None)
            continue
        if item == "stale":
            values.append(STALE_NAN)
            continue
        m = re.fullmatch(r"_x(\d+)", item)
        if m:
            values.extend([None] * int(m.group(1)))
            continue
        m = re.fullmatch(r"(.+?)(?:([+-])(.+?))?x(\d+)", item)
        if m:
            start = _number(m.group(1))
            delta = _number(m.group(3)) if m.group(3) else 0.0
            if m.group(2) == "-":
                delta = -delta
            for i in range(int(m.group(4)) + 1):
                values.append(start + delta * i)
            continue
        values.append(_number(item))
    return labels, values


def _split_metric(line: str) -> tuple[dict[str, str], str]:
    labels: dict[str, str] = {}
    i = 0
    m = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line)
    if m:
        labels["__name__"] = m.group()
        i = m.end()
    if i < len(line) and line[i] == "{":
        j = i + 1
        depth_str = None
        while j < len(line):
            c = line[j]
            if depth_str:
                if c == "\\":
                    j += 1
                elif c == depth_str:
                    depth_str = None
            elif c in "\"'`":
                depth_str = c
            elif c == "}":
                break
            j += 1
        body = line[i + 1:j]
        toks = [t for t in tokenize(body) if t.kind != "EOF"]
        k = 0
        while k < len(toks):
            t = toks[k]
            if t.kind == "PUNCT" and t.text == ",":
                k += 1
                continue
            name = unquote(t.text[1:-1], t.text[0]) if t.kind == "STRING" else t.text
            if k + 1 < len(toks) and toks[k + 1].kind == "OP" and toks[k + 1].text == "=":
                v = toks[k + 2]
                value = unquote(v.text[1:-1], v.text[0])
                if value:
                    labels[name] = value
                k += 3
            else:
                labels["__name__"] = name
                k += 1
        i = j + 1
    return labels, line[i:]


def parse_st_line(line: str) -> tuple[dict[str, str], list[int | None]]:
    """``metric{...}@st <offsets>`` → the metric's labels and its ST offsets."""
    at = line.index("@st")
    return _split_metric(line[:at])[0], parse_st_offsets(line[at + 3:])


@dataclass
class _Eval:
    line: int
    expr: str
    instant: bool
    at: int = 0
    start: int = 0
    end: int = 0
    step: int = 0
    fail: bool = False
    fail_msg: str | None = None
    fail_regex: str | None = None
    ordered: bool = False
    expects: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    expected: list[tuple[dict[str, str], list[Point]]] = field(default_factory=list)
    expect_scalar: float | None = None
    expect_string: str | None = None
    range_vector: bool = False
    uses_nh: bool = False


def _iter_commands(text: str) -> Iterator[tuple[str, int, list[str]]]:
    raw = text.split("\n")
    lines = ["" if l.strip().startswith("#") else l.strip() for l in raw]  # noqa: E741
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line:
            i += 1
            continue
        if line == "clear":
            yield line, i + 1, []
            i += 1
            continue
        body = []
        j = i + 1
        while j < len(lines) and lines[j]:
            body.append(lines[j])
            j += 1
        yield line, i + 1, body
        i = j


def _parse_eval(head: str, lineno: int, body: list[str]) -> _Eval:
    mi = _INSTANT.match(head)
    mr = _RANGE.match(head)
    if mi:
        mod = mi.group(1)
        ev = _Eval(lineno, mi.group(3), True, at=_dur(mi.group(2) or "0s"))
    elif mr:
        mod = mr.group(1)
        ev = _Eval(lineno, mr.group(5), False, start=_dur(mr.group(2)), end=_dur(mr.group(3)),
                   step=_dur(mr.group(4)))
    else:
        raise ValueError(f"line {lineno}: invalid eval command")
    ev.fail = mod == "fail"
    ev.ordered = mod == "ordered"
    if mod in ("warn", "info"):
        ev.expects.append((mod, None, None))
    for line in body:
        if "{{" in line:
            ev.uses_nh = True
        if ev.fail and line.startswith("expected_fail_message"):
            ev.fail_msg = line[len("expected_fail_message"):].strip()
            continue
        if ev.fail and line.startswith("expected_fail_regexp"):
            ev.fail_regex = line[len("expected_fail_regexp"):].strip()
            continue
        m = _EXPECT_RANGE.match(line)
        if m:
            ev.range_vector = True
            ev.start, ev.end, ev.step = _dur(m.group(1)), _dur(m.group(2)), _dur(m.group(3))
            continue
        if line.startswith("expect string"):
            s = line[len("expect string"):].strip()
            ev.expect_string = unquote(s[1:-1], s[0])
            continue
        if line.split(" ")[0] == "expect":
            m = _EXPECT.match(line)
            if not m:
                raise ValueError(f"line {lineno}: invalid expect line {line!r}")
            kind, how, what = m.group(1), m.group(2), m.group(3)
            if kind == "fail":
                ev.fail = True
                if how == "msg":
                    ev.fail_msg = what.strip()
                elif how == "regex":
                    ev.fail_regex = what.strip()
            elif kind == "ordered":
                ev.ordered = True
            else:
                ev.expects.append((kind, how, what.strip() if what else None))
            continue
        try:
            ev.expect_scalar = _number(line)
            continue
        except ValueError:
            pass
        if ev.uses_nh:
            continue
        ev.expected.append(parse_series_line(line))
    return ev


def _selectors(expr: str) -> list[VectorSelector]:
    try:
        tree = parse(expr)
    except WatchkeeperError:
        return []
    from ._engine import _walk

    return [n for n in _walk(tree) if isinstance(n, VectorSelector)]


def _check(ev: _Eval, res: QueryResult | None, err: Exception | None) -> str | None:
    """None on success, else the reason."""
    if ev.fail:
        if err is None:
            return "expected error, got none"
        msg = getattr(err, "message", None) or str(err)
        if ev.fail_msg is not None and ev.fail_msg.strip('"') not in (msg, str(err)):
            return f"expected error {ev.fail_msg!r}, got {msg!r}"
        if ev.fail_regex is not None and not re.search(ev.fail_regex.strip('"'), str(err)):
            return f"expected error matching {ev.fail_regex!r}, got {str(err)!r}"
        return None
    if err is not None:
        return f"unexpected error: {err}"
    assert res is not None
    reason = check_annotations(ev.expects, res.warnings, res.infos)
    if reason is not None:
        return reason
    if ev.expect_string is not None:
        if res.type != "string" or res.string is None or res.string[1] != ev.expect_string:
            return f"expected string {ev.expect_string!r}, got {res.type} {res.string}"
        return None
    if ev.expect_scalar is not None:
        if res.type != "scalar" or res.scalar is None:
            return f"expected scalar, got {res.type}"
        if not almost_equal(ev.expect_scalar, res.scalar[1]):
            return f"expected {ev.expect_scalar}, got {res.scalar[1]}"
        return None
    expected = {tuple(sorted(lb.items())): (i, vals) for i, (lb, vals) in
                enumerate(ev.expected)}
    if res.type == "scalar":
        return "expected vector or matrix result, but got scalar"
    if res.type == "vector" and not ev.range_vector:
        for pos, s in enumerate(res.vector):
            key = tuple(sorted(s.labels.items()))
            if key not in expected:
                return f"unexpected metric {s.labels} in result, has value {s.v}"
            idx, vals = expected[key]
            if ev.ordered and idx != pos:
                return f"expected metric {s.labels} at position {idx + 1} but was at {pos + 1}"
            v0 = vals[0]
            if v0 is None or not almost_equal(v0, s.v):
                return f"expected {v0} for {s.labels} but got {s.v}"
        got = {tuple(sorted(s.labels.items())) for s in res.vector}
        missing = [k for k in expected if k not in got]
        if missing:
            return f"expected metric {dict(missing[0])} not found"
        return None
    if res.type != "matrix":
        return f"unexpected result type {res.type}"
    if ev.ordered:
        return "expected ordered result, but query returned a matrix"
    seen = set()
    for sr in res.matrix:
        key = tuple(sorted(sr.labels.items()))
        if key not in expected:
            return f"unexpected metric {sr.labels} in result"
        seen.add(key)
        _, vals = expected[key]
        want = [(ev.start + i * ev.step, v) for i, v in enumerate(vals) if v is not None]
        if len(want) != len(sr.points):
            return (f"expected {len(want)} points for {sr.labels}, got {len(sr.points)}: "
                    f"{sr.points}")
        for (wt, wv), (gt, gv) in zip(want, sr.points, strict=True):
            if wt != gt:
                return f"expected timestamp {wt} for {sr.labels}, got {gt}"
            if not almost_equal(wv, gv):
                return f"expected {wv} at t={gt} for {sr.labels}, got {gv}"
    missing = [k for k in expected if k not in seen]
    if missing:
        return f"expected metric {dict(missing[0])} not found"
    return None


def run_script(text: str, path: str = "<script>") -> FileReport:
    """Run one test script; every eval counts exactly once as passed, failed or skipped."""
    report = FileReport(path)
    db = TSDB()
    nh_series: list[dict[str, str]] = []
    for head, lineno, body in _iter_commands(text):
        if head == "clear":
            db = TSDB()
            nh_series = []
            continue
        m = _LOAD.match(head)
        if m:
            gap = _dur(m.group(2))
            app = db.appender()
            loaded: dict[tuple[tuple[str, str], ...], list[Point]] = {}
            starts: dict[tuple[tuple[str, str], ...], list[int | None]] = {}
            pending_st: tuple[dict[str, str], list[int | None]] | None = None
            for line in body:
                if is_st_line(line):
                    pending_st = parse_st_line(line)
                    continue
                if "{{" in line:
                    nh_series.append(_split_metric(line)[0])
                    pending_st = None
                    continue
                labels, vals = parse_series_line(line)
                key = make_labels(labels)
                loaded[key] = vals
                if pending_st is not None:
                    if pending_st[0] != labels:
                        raise ValueError(f"line {lineno}: @st metric does not match the "
                                         "following sample line metric")
                    if len(pending_st[1]) != len(vals):
                        raise ValueError(f"line {lineno}: @st line has {len(pending_st[1])} "
                                         f"values but sample line has {len(vals)}")
                    starts[key] = pending_st[1]
                    pending_st = None
                if m.group(1):
                    name = labels.get("__name__", "")
                    if name.endswith("_bucket"):
                        nh = {k: v for k, v in labels.items() if k != "le"}
                        nh["__name__"] = name[: -len("_bucket")]
                        nh_series.append(nh)
            for lb, vals in loaded.items():
                offs = starts.get(lb)
                for i, v in enumerate(vals):
                    if v is not None:
                        off = offs[i] if offs is not None else None
                        st = i * gap + off if off is not None else 0
                        with contextlib.suppress(WatchkeeperError):
                            app.append(lb, i * gap, v, st)
            app.commit()
            continue
        if head.startswith("eval"):
            try:
                ev = _parse_eval(head, lineno, body)
            except (ValueError, WatchkeeperError) as exc:
                report.failed += 1
                report.failures.append(f"line {lineno}: {exc}")
                continue
            if ev.uses_nh or _hits(ev.expr, nh_series):
                report.skipped += 1
                continue
            engine = Engine(db, experimental=True, max_samples=50_000_000,
                            start_timestamps=True)
            res: QueryResult | None = None
            err: Exception | None = None
            try:
                if ev.instant and not ev.range_vector:
                    res = engine.instant(ev.expr, ev.at / 1000)
                elif ev.range_vector:
                    res = engine.instant(ev.expr, ev.end / 1000)
                else:
                    res = engine.range(ev.expr, ev.start / 1000, ev.end / 1000, ev.step / 1000)
            except PromQLError as exc:
                err = exc
            except WatchkeeperError as exc:
                err = exc
            except (ArithmeticError, ValueError, IndexError, KeyError, TypeError,
                    AssertionError, RecursionError) as exc:
                # An engine crash never counts as the failure a test expects.
                report.failed += 1
                report.failures.append(f"line {lineno}: {ev.expr}: internal error "
                                       f"{type(exc).__name__}: {exc}")
                continue
            reason = _check(ev, res, err)
            if reason is None:
                report.passed += 1
            else:
                report.failed += 1
                report.failures.append(f"line {lineno}: {ev.expr}: {reason}")
            continue
        report.failed += 0
    return report


def _hits(expr: str, nh_series: list[dict[str, str]]) -> bool:
    """Whether any selector of the query could select a native-histogram series."""
    if not nh_series:
        return False
    for vs in _selectors(expr):
        for labels in nh_series:
            if all(m.matches(labels.get(m.name, "")) for m in vs.matchers):
                return True
    return False


def run_file(path: str | Path) -> FileReport:
    p = Path(path)
    return run_script(p.read_text(encoding="utf-8"), str(p))
