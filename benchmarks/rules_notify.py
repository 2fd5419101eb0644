"""Benchmark: rule evaluation and notification routing at scale.

Rules part (``_rules_bench.py``): 100 rules (10 groups: recording and alerting rules with
templates, ``for``, aggregations and ``rate``) over 10k counter series; the time of one
evaluation round of every group through ``RuleManager``, and the same rules and data run
by ``promtool test rules`` next to ``watchkeeper rules test`` (per-round time = run with
rules minus the same run without rules, so data loading is not counted).

Notify part: 10k active alerts routed into aggregation groups through a 40-route tree with
inhibition and silences, then one flush of every group through the pipeline to a webhook
receiver on an in-memory transport. Prints time and memory.

Run: ``PYTHONPATH=src python benchmarks/rules_notify.py [N_ALERTS] [--rules-only|--no-rules]``
"""

from __future__ import annotations

import asyncio
import gc
import random
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

import httpx

from watchkeeper.notify import Alert, AlertManager, parse_config

TEAMS = [f"team{i}" for i in range(20)]


def config() -> str:
    routes = []
    for team in TEAMS:
        routes.append(f"""
    - matchers: ['team="{team}"']
      receiver: {team}
      group_by: [alertname, cluster]
      routes:
        - matchers: ['severity=~"critical|page"']
          receiver: {team}-pager
          continue: true""")
    receivers = "\n".join(
        f"  - name: {name}\n    webhook_configs: [{{url: http://bench/{name}}}]"
        for team in TEAMS for name in (team, f"{team}-pager"))
    return f"""
route:
  receiver: default
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  routes:{"".join(routes)}
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [alertname, cluster]
receivers:
  - name: default
    webhook_configs: [{{url: http://bench/default}}]
{receivers}
"""


def alerts(n: int, now: datetime) -> list[Alert]:
    rng = random.Random(42)
    out = []
    for i in range(n):
        out.append(Alert(
            labels={"alertname": f"Alert{rng.randrange(50)}", "team": rng.choice(TEAMS),
                    "cluster": f"c{rng.randrange(10)}", "instance": f"host-{i}:9100",
                    "severity": rng.choice(["critical", "warning", "info"])},
            annotations={"summary": f"something is wrong on host-{i}"},
            starts_at=now, ends_at=now + timedelta(hours=1)))
    return out


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if "--no-rules" not in sys.argv:
        from _rules_bench import rules_benchmark

        rules_benchmark()
    if "--rules-only" in sys.argv:
        return
    n = int(args[0]) if args else 10_000
    now = datetime.now(UTC)
    sent = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal sent
        sent += 1
        return httpx.Response(200)

    def manager() -> AlertManager:
        am = AlertManager(parse_config(config()), clock=lambda: now,
                          transport=httpx.MockTransport(handler))
        am.add_silence('team="team3", severity="info"', duration=3600)
        return am

    batch = alerts(n, now)
    # Memory on its own run: tracemalloc slows allocation-heavy code several-fold.
    gc.collect()
    tracemalloc.start()
    manager().put_alerts(alerts(n, now))
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    am = manager()
    t = time.perf_counter()
    routed = sum(len(am.route.match(a.labels)) for a in batch)
    route_s = time.perf_counter() - t

    gc.collect()
    t = time.perf_counter()
    am.put_alerts(batch)
    put_s = time.perf_counter() - t

    groups = am.groups()
    jobs = am.dispatcher.due(now + timedelta(seconds=30))

    async def flush_all() -> None:
        for job in jobs:
            am.dispatcher.done(job, await am.flush(job))

    t = time.perf_counter()
    asyncio.run(flush_all())
    flush_s = time.perf_counter() - t

    print(f"notify: {n} alerts, {routed} route matches, {len(groups)} aggregation groups")
    print(f"  route match only : {route_s * 1e3:8.1f} ms  ({route_s / n * 1e6:.1f} µs/alert)")
    print(f"  put (store+inhibit+group): {put_s * 1e3:8.1f} ms  "
          f"({put_s / n * 1e6:.1f} µs/alert)")
    print(f"  memory (alerts + store + groups): {current / 2**20:.1f} MiB "
          f"(peak {peak / 2**20:.1f} MiB, tracemalloc)")
    print(f"  flush of every group (inhibit, silence, dedup, webhook payload): "
          f"{flush_s * 1e3:.1f} ms, {sent} webhook requests")


if __name__ == "__main__":
    main()
