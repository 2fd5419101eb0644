"""``promtool test rules``: run rule unit-test files with promtool's semantics and output.

Per test group: input series are loaded lazily (only samples up to the evaluation time
are visible), every group is evaluated at each ``evaluation_interval`` step, alerts are
checked after the step covering their ``eval_time``, and PromQL expressions are queried
at the end. Native-histogram samples (``{{...}}``) are not supported by the TSDB; a test
group using them fails with a message saying so.
"""

from __future__ import annotations

import contextlib
import glob as globlib
import logging
import math
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from ..config._duration import format_duration
from ..exceptions import PromQLError, WatchkeeperError
from ._alert import go_quote, labelset_string
from ._alerting import AlertingRule, AlertState
from ._files import check_file
from ._group import GroupEvaluator
from ._query import QueryFunc, engine_query_func
from ._series import parse_values
from ._testfile import AlertCase, TestFile, TestFileError, TestGroup, parse_test_file

__all__ = ["FileOutcome", "run_files", "run_test_file"]


@dataclass
class FileOutcome:
    """What one unit-test file produced: per test group pass/fail and promtool's errors."""

    file: str
    passed: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def go_duration(seconds: float) -> str:
    """Go's ``time.Duration.String()`` (``1m0s``, ``1h0m0s``, ``500ms``)."""
    ns = round(seconds * 1e9)
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1000), ("ns", 1)):
            if ns >= size:
                text = f"{ns / size:.9f}".rstrip("0").rstrip(".")
                return sign + text + unit
    h, rem = divmod(ns, 3_600_000_000_000)
    m, rem = divmod(rem, 60_000_000_000)
    s = f"{rem / 1e9:.9f}".rstrip("0").rstrip(".")
    if h:
        return f"{sign}{h}h{m}m{s}s"
    if m:
        return f"{sign}{m}m{s}s"
    return f"{sign}{s}s"


def format_e(v: float) -> str:
    """Go's ``strconv.FormatFloat(v, 'E', -1, 64)``."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return ("-" if math.copysign(1, v) < 0 else "") + _shortest_sci(abs(v))


def _shortest_sci(v: float) -> str:
    if v == 0:
        return "0E+00"
    r = repr(v)
    m, _, e = r.partition("e")
    exp = int(e) if e else 0
    whole, _, frac = m.partition(".")
    digits = (whole + frac).lstrip("0")
    lead_zeros = len(whole + frac) - len((whole + frac).lstrip("0"))
    point = len(whole) - lead_zeros + exp  # digits before the decimal point
    digits = digits.rstrip("0") or "0"
    e10 = point - 1
    body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{body}E{'+' if e10 >= 0 else '-'}{abs(e10):02d}"


def _labels_text(labels: dict[str, str]) -> str:
    return labelset_string(labels)


def _load_series(tg: TestGroup, mint: float) -> list[tuple[int, dict[str, str], float]]:
    from ..promql import VectorSelector, parse
    from ..tsdb import MatchType

    interval = tg.interval
    points: list[tuple[int, dict[str, str], float]] = []
    for s in tg.input_series:
        if "{{" in s.values:
            raise TestFileError(f"series {s.series}: native histogram samples are not "
                                "supported by watchkeeper's TSDB")
        try:
            sel = parse(s.series)
        except PromQLError as exc:
            # promql parses "series values" together; report where that failed
            try:
                parse(f"{s.series} {s.values}")
            except PromQLError as exc2:
                raise TestFileError(str(exc2).split("\n", 1)[0]) from exc2
            raise TestFileError(str(exc).split("\n", 1)[0]) from exc
        if not isinstance(sel, VectorSelector) or any(
                m.type != MatchType.EQUAL for m in sel.matchers):
            raise TestFileError(f"invalid series {s.series!r}: want name{{label=\"value\"}}")
        labels = {m.name: m.value for m in sel.matchers if m.value != ""}
        try:
            values = parse_values(s.values)
        except ValueError as exc:
            raise TestFileError(f"series {s.series}: bad values {s.values!r}: {exc}") from exc
        for i, v in enumerate(values):
            if v is None:
                continue
            points.append((round((mint + i * interval) * 1000), labels, v))
    points.sort(key=lambda p: p[0])
    return points


def _parse_metric(text: str) -> dict[str, str]:
    from ..promql import VectorSelector, parse

    if not text.strip():
        return {}
    sel = parse(text)
    if not isinstance(sel, VectorSelector):
        raise ValueError(f"not a metric: {text!r}")
    return {m.name: m.value for m in sel.matchers if m.value != ""}


def _float_eq(a: float, b: float, fuzzy: bool) -> bool:
    if a == b:
        return True
    return fuzzy and (math.nextafter(a, -math.inf) == b or math.nextafter(a, math.inf) == b)


def _alerts_text(items: list[tuple[dict[str, str], dict[str, str]]]) -> str:
    if not items:
        return "[]"
    parts = []
    for i, (lb, an) in enumerate(items):
        body = f"\nLabels:{_labels_text(lb)}\nAnnotations:{_labels_text(an)}"
        parts.append(f"{i}:" + body.replace("\n", "\n  "))
    return "[\n" + ",\n".join(parts) + "\n]"


def _indent(text: str, indent: str) -> str:
    return text.replace("\n", "\n" + indent)


def _sort_key(item: tuple[dict[str, str], dict[str, str]]) -> tuple[object, ...]:
    return (sorted(item[0].items()), sorted(item[1].items()))


class _GroupRun:
    def __init__(self, tf: TestFile, tg: TestGroup, rule_files: list[str], eval_interval: float,
                 ignore_unknown: bool) -> None:
        self.tf, self.tg = tf, tg
        self.rule_files = rule_files
        self.eval_interval = eval_interval
        self.ignore_unknown = ignore_unknown

    def run(self) -> list[str]:
        from ..promql import Engine
        from ..tsdb import TSDB, make_labels

        tg = self.tg
        groups = []
        errs: list[str] = []
        for f in self.rule_files:
            res = check_file(f, ignore_unknown_fields=self.ignore_unknown)
            errs.extend(f"{f}: {e}" for e in res.errors)
            groups.extend(res.groups)
        if errs:
            return errs
        order = {n: i for i, n in enumerate(self.tf.group_eval_order)}
        groups.sort(key=lambda g: order.get(g.name, 0))
        mint = tg.start_timestamp if tg.start_timestamp is not None else 0.0
        try:
            points = _load_series(tg, mint)
        except TestFileError as exc:
            return [str(exc)]
        db = TSDB()
        engine = Engine(db, subquery_step=self.eval_interval)
        query = engine_query_func(engine)
        evaluators = [GroupEvaluator(g, interval=tg.interval, external_labels=tg.external_labels,
                                     external_url=tg.external_url) for g in groups]
        maxt = max([a.eval_time for a in tg.alert_rule_test] +
                   [p.eval_time for p in tg.promql_expr_test] + [0.0])
        for a in tg.alert_rule_test:
            if not a.alertname:
                where = f" (in TestGroup {tg.name})" if tg.name else ""
                return [f"an item under alert_rule_test misses required attribute alertname "
                        f"at eval_time {format_duration(a.eval_time)}{where}"]
        by_time: dict[float, list[AlertCase]] = {}
        for a in tg.alert_rule_test:
            by_time.setdefault(a.eval_time, []).append(a)
        alert_times = sorted(by_time)
        curr = 0
        loaded = 0
        step = 0
        while True:
            ts = mint + step * self.eval_interval
            if ts > mint + maxt + 1e-9:
                break
            step += 1
            ts_ms = round(ts * 1000)
            app = db.appender()
            while loaded < len(points) and points[loaded][0] <= ts_ms:
                t, lbs, v = points[loaded]
                try:
                    app.append(make_labels(lbs), t, v)
                except WatchkeeperError as exc:
                    errs.append(str(exc))
                loaded += 1
            app.commit()
            eval_errs = []
            for ev in evaluators:
                ev.evaluate(ts, query, db)
                for r in ev.rules:
                    if r.last_error is not None:
                        eval_errs.append(f"    rule: {r.name}, time: {go_duration(ts)}, "
                                         f"err: {r.last_error}")
            errs.extend(eval_errs)
            if eval_errs:
                return errs
            while curr < len(alert_times) and ts - mint <= alert_times[curr] < \
                    ts + self.eval_interval - mint:
                t_rel = alert_times[curr]
                cases = by_time[t_rel]
                present = {c.alertname for c in cases}
                got: dict[str, list[tuple[dict[str, str], dict[str, str]]]] = {}
                for ev in evaluators:
                    for r in ev.rules:
                        if isinstance(r, AlertingRule) and r.name in present:
                            got.setdefault(r.name, []).extend(
                                (dict(a.labels), dict(a.annotations))
                                for a in r.active_alerts() if a.state == AlertState.FIRING)
                for case in cases:
                    got_alerts = sorted(got.get(case.alertname, []), key=_sort_key)
                    exp_alerts = sorted((({**e.labels, "alertname": case.alertname},
                                          dict(e.annotations)) for e in case.exp_alerts),
                                        key=_sort_key)
                    if got_alerts != exp_alerts:
                        name = f"    name: {tg.name},\n" if tg.name else ""
                        exp_s = _indent(_alerts_text(exp_alerts), " " * 12)
                        got_s = _indent(_alerts_text(got_alerts), " " * 12)
                        errs.append(f"{name}    alertname: {case.alertname}, time: "
                                    f"{format_duration(case.eval_time)}, \n        exp:{exp_s}, "
                                    f"\n        got:{got_s}")
                curr += 1
        errs.extend(self._expr_tests(query, mint))
        return errs

    def _expr_tests(self, query: QueryFunc, mint: float) -> list[str]:
        errs: list[str] = []
        fuzzy = self.tf.fuzzy_compare
        for case in self.tg.promql_expr_test:
            when = format_duration(case.eval_time)
            try:
                got_vec = query(case.expr, mint + case.eval_time)
            except WatchkeeperError as exc:
                errs.append(f"    expr: {go_quote(case.expr)}, time: {when}, err: {exc}")
                continue
            got_v = sorted(((dict(s.labels), s.v, "") for s in got_vec),
                           key=lambda x: sorted(x[0].items()))
            exp_v: list[tuple[dict[str, str], float, str]] = []
            bad = None
            for s in case.exp_samples:
                try:
                    exp_v.append((_parse_metric(s.labels), s.value, s.histogram))
                except (PromQLError, ValueError) as exc:
                    bad = f'labels "{s.labels}": {str(exc).split(chr(10), 1)[0]}'
                    break
                if s.histogram:
                    bad = (f'labels "{s.labels}": native histogram samples are not supported '
                           "by watchkeeper's TSDB")
                    break
            if bad is not None:
                errs.append(f"    expr: {go_quote(case.expr)}, time: {when}, err: {bad}")
                continue
            exp_v.sort(key=lambda x: sorted(x[0].items()))
            same = len(exp_v) == len(got_v) and all(
                e[0] == g[0] and _float_eq(e[1], g[1], fuzzy) for e, g in zip(exp_v, got_v,
                                                                            strict=True))
            if not same:
                def text(items: list[tuple[dict[str, str], float, str]]) -> str:
                    if not items:
                        return "nil"
                    return ", ".join(f"{_labels_text(lb)} {format_e(v)}" for lb, v, _ in items)

                errs.append(f"    expr: {go_quote(case.expr)}, time: {when},\n        exp: "
                            f"{text(exp_v)}\n        got: {text(got_v)}")
        return errs


def _resolve(base: Path, patterns: list[str], warnings: list[str]) -> list[str]:
    files: list[str] = []
    for rf in patterns:
        full = rf if not rf or os.path.isabs(rf) else os.path.normpath(base / rf)
        matches = sorted(globlib.glob(full))
        if not matches:
            warnings.append(f"  WARNING: no file match pattern {full}")
        files.extend(matches)
    return files


def run_test_file(path: str | Path, *, run: Sequence[str] = (),
                  ignore_unknown_fields: bool = False) -> FileOutcome:
    """Run one unit-test file; ``run`` regexes select test groups by name (``--run``)."""
    with quiet_rule_log():
        return _run_test_file(path, run, ignore_unknown_fields)


@contextlib.contextmanager
def quiet_rule_log() -> Iterator[None]:
    """Rule evaluation errors are test results here, not log lines."""
    log = logging.getLogger("watchkeeper.rules")
    was_disabled, log.disabled = log.disabled, True
    try:
        yield
    finally:
        log.disabled = was_disabled


def _run_test_file(path: str | Path, run: Sequence[str],
                   ignore_unknown_fields: bool) -> FileOutcome:
    out = FileOutcome(str(path))
    try:
        text = Path(path).read_text(encoding="utf-8")
        tf = parse_test_file(text)
    except OSError as exc:
        out.errors.append(f"open {path}: {exc.strerror}")
        out.failed = 1
        return out
    except TestFileError as exc:
        out.errors.append(str(exc))
        out.failed = 1
        return out
    rule_files = _resolve(Path(path).parent, tf.rule_files, out.warnings)
    eval_interval = tf.evaluation_interval or 60.0
    seen: set[str] = set()
    for name in tf.group_eval_order:
        if name in seen:
            out.errors.append(f"group name repeated in evaluation order: {name}")
            out.failed = 1
            return out
        seen.add(name)
    selector = re.compile("|".join(run)) if run else None
    for tg in tf.tests:
        if selector is not None and not selector.search(tg.name):
            continue
        if not tg.interval:
            tg.interval = eval_interval
        try:
            errs = _GroupRun(tf, tg, rule_files, eval_interval, ignore_unknown_fields).run()
        except TestFileError as exc:
            errs = [str(exc)]
        if errs:
            out.failed += 1
            out.errors.extend(errs)
        else:
            out.passed += 1
    return out


def run_files(files: Sequence[str], *, run: Sequence[str] = (),
              ignore_unknown_fields: bool = False,
              out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """promtool's ``test rules`` output, then ``N passed, N failed`` (test groups)."""
    passed = failed = 0
    for f in files:
        p, q = _print_file(f, run, ignore_unknown_fields, out, err)
        passed += p
        failed += q
    print(f"{passed} passed, {failed} failed", file=out)
    return 1 if failed else 0


def _print_file(f: str, run: Sequence[str], ignore_unknown_fields: bool, out: TextIO,
                err: TextIO) -> tuple[int, int]:
    print("Unit Testing: ", f, file=out)
    res = run_test_file(f, run=run, ignore_unknown_fields=ignore_unknown_fields)
    for w in res.warnings:
        print(w, file=err)
    if res.errors:
        out.flush()
        print("  FAILED:", file=err)
        for e in res.errors:
            print(e, file=err)
            err.flush()
            print(file=out)
    else:
        print("  SUCCESS", file=out)
    print(file=out)
    return res.passed, res.failed
