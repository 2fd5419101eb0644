"""Rules part of ``rules_notify.py``: 100 rules over 10k series, watchkeeper vs promtool.

Last recorded run (2-core VM shared with other jobs, 2026-11-22): one round of all 100
rules over 10k series (61 points each) 6.5 s median (5.7 s min), 478 firing alerts, of
which the 100 PromQL queries alone take 5.1 s (templates, alert state and write-back the
rest). Same rules on 400 series, same run: promtool 2.42 0.054 s per round, watchkeeper
0.157 s per round (2.9x).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from watchkeeper.rules import RuleManager, load_rule_files
from watchkeeper.tsdb import TSDB, make_labels

JOBS = 10
INSTANCES = 500          # x 2 status codes x 10 jobs = 10k series
POINTS = 61              # 15 minutes at 15 s
STEP = 15


def rules_yaml() -> str:
    groups = []
    for g in range(10):
        jobs = f"job[{g % 10}{(g + 3) % 10}{(g + 6) % 10}]"
        rules = [
            f"""      - record: job:http_requests:rate5m
        expr: sum by (job) (rate(http_requests_total{{job=~"{jobs}"}}[5m]))
        labels: {{g: "{g}"}}""",
            f"""      - record: job:http_errors:rate5m
        expr: sum by (job) (rate(http_requests_total{{code="500", job=~"{jobs}"}}[5m]))
        labels: {{g: "{g}"}}""",
            f"""      - record: job:error_ratio:rate5m
        expr: job:http_errors:rate5m{{g="{g}"}} / job:http_requests:rate5m{{g="{g}"}}""",
            f"""      - record: instance:http_requests:rate1m
        expr: sum by (job, instance) (rate(http_requests_total{{job=~"{jobs}"}}[1m]))
        labels: {{g: "{g}"}}""",
            f"""      - record: code:http_requests:increase5m
        expr: sum by (code) (increase(http_requests_total[5m]))
        labels: {{g: "{g}"}}""",
            f"""      - alert: HighErrorRatio{g}
        expr: job:error_ratio:rate5m{{g="{g}"}} > 0.{g}5
        for: 2m
        labels: {{severity: page}}
        annotations:
          summary: "{{{{ $labels.job }}}} error ratio {{{{ $value | humanizePercentage }}}}"
""",
            f"""      - alert: InstanceBusy{g}
        expr: instance:http_requests:rate1m{{g="{g}"}} > {17 + g / 2}
        for: 1m
        annotations:
          summary: "{{{{ $labels.instance }}}} at {{{{ $value | humanize }}}} req/s"
""",
            f"""      - alert: InstanceErrors{g}
        expr: rate(http_requests_total{{code="500", job=~"{jobs}"}}[5m]) > {5.5 + g / 10}
        labels: {{severity: ticket}}
        annotations:
          description: "{{{{ $labels.instance }}}} of {{{{ $labels.job }}}}: {{{{ $value }}}}"
""",
            f"""      - alert: JobTraffic{g}
        expr: sum by (job) (rate(http_requests_total[5m])) < {1000 * g}""",
            f"""      - alert: TopTalkers{g}
        expr: topk(5, rate(http_requests_total{{job=~"{jobs}"}}[5m])) > 0""",
        ]
        groups.append(f"  - name: group{g}\n    rules:\n" + "\n".join(rules))
    return "groups:\n" + "\n".join(groups) + "\n"


def series(jobs: int = JOBS, instances: int = INSTANCES) -> list[tuple[dict[str, str], float]]:
    out = []
    for j in range(jobs):
        for i in range(instances):
            for code, share in (("200", 1.0), ("500", 0.02 + (i % 50) / 100)):
                rate = (1 + (i * 7 + j) % 13) * share
                out.append(({"__name__": "http_requests_total", "job": f"job{j}",
                             "instance": f"i{i}", "code": code}, rate))
    return out


def _load(db: TSDB, data: list[tuple[dict[str, str], float]]) -> None:
    labels = [make_labels(lb) for lb, _ in data]
    for p in range(POINTS):
        app = db.appender()
        for lb, (_, rate) in zip(labels, data, strict=True):
            app.append(lb, p * STEP * 1000, round(rate * STEP * p, 3))
        app.commit()


def _unit_test(path: Path, with_rules: bool, data: list[tuple[dict[str, str], float]]) -> None:
    lines = []
    if with_rules:
        lines.append("rule_files: [rules.yml]")
    lines += ["evaluation_interval: 1m", "tests:", "  - interval: 15s", "    input_series:"]
    for lb, rate in data:
        sel = "http_requests_total{" + ", ".join(
            f'{k}="{v}"' for k, v in lb.items() if k != "__name__") + "}"
        lines.append(f"      - series: '{sel}'\n        values: '0+{round(rate * STEP, 3)}"
                     f"x{POINTS - 1}'")
    lines += ["    promql_expr_test:", "      - expr: count(http_requests_total)",
              f"        eval_time: {(POINTS - 1) * STEP}s", "        exp_samples:",
              f"          - value: {len(data)}"]
    path.write_text("\n".join(lines) + "\n")


def _timed(cmd: list[str], cwd: Path) -> float:
    t = time.perf_counter()
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t
    if res.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed:\n{res.stdout}\n{res.stderr[:2000]}")
    return elapsed


def rules_benchmark(rounds: int = 5) -> None:
    data = series()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        (tmp / "rules.yml").write_text(rules_yaml())
        groups = load_rule_files([tmp / "rules.yml"])
        n_rules = sum(len(g.rules) for g in groups)
        db = TSDB()
        t = time.perf_counter()
        _load(db, data)
        load_s = time.perf_counter() - t
        mgr = RuleManager(db, groups, send=lambda alerts: None, default_interval=60.0)
        end = (POINTS - 1) * STEP
        times = []
        for k in range(rounds):
            ts = end - (rounds - 1 - k) * 60.0
            t = time.perf_counter()
            mgr.evaluate_all(ts)
            times.append(time.perf_counter() - t)
        firing = sum(1 for a in mgr.alerts() if str(a.state) == "firing")
        from watchkeeper.promql import Engine

        engine = Engine(db)
        t = time.perf_counter()
        for g in groups:
            for r in g.rules:
                engine.instant(r.expr, end)
        query_s = time.perf_counter() - t
        print(f"rules: {n_rules} rules in {len(groups)} groups over {len(data)} series "
              f"({POINTS} points each, loaded in {load_s:.1f} s)")
        print(f"  RuleManager round (every group once): median {statistics.median(times):.3f} s,"
              f" min {min(times):.3f} s over {rounds} rounds; {len(mgr.alerts())} active "
              f"alerts ({firing} firing)")
        print(f"  of which PromQL: the 100 rule queries alone take {query_s:.3f} s")
        if shutil.which("promtool") is None:
            print("  promtool not installed: no comparison")
            return
        # promtool's test engine refuses queries touching more than 10,000 samples
        # (promqltest's MaxSamples), so 10k series cannot run there at all: compare on
        # 400 series (2 jobs x 100 instances x 2 codes), same rules, in the same run.
        small = series(2, 100)
        print(f"  same rules on {len(small)} series (promtool's test engine is capped at "
              "10,000 samples per query):")
        _unit_test(tmp / "with.yml", True, small)
        _unit_test(tmp / "without.yml", False, small)
        evals = end // 60 + 1
        wk = [sys.executable, "-m", "watchkeeper.cli", "rules", "test"]
        pt = ["promtool", "test", "rules"]
        res = {}
        for name, cmd in (("promtool", pt), ("watchkeeper", wk)):
            base = _timed([*cmd, "without.yml"], tmp)
            full = _timed([*cmd, "with.yml"], tmp)
            res[name] = (full - base) / evals
            print(f"  {name:11s} test rules: {full:6.1f} s with rules, {base:6.1f} s without "
                  f"-> {res[name]:.3f} s per round ({evals} rounds)")
        ratio = res["watchkeeper"] / res["promtool"]
        print(f"  ratio watchkeeper/promtool per round: {ratio:.1f}x")
