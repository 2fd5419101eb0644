"""``watchkeeper notify ...``: routing tests, config checks, silences, acknowledgements.

``routes-test`` and ``check-config`` print what ``amtool config routes test`` and
``amtool check-config`` print, so scripts written for amtool keep working.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

from ..exceptions import NotifyConfigError, NotifyError

__all__ = ["register", "run"]


def register(commands: Any) -> None:
    notify = commands.add_parser("notify", help="notification routing, silences, checks")
    sub = notify.add_subparsers(dest="notify_command", metavar="ACTION", required=True)

    test = sub.add_parser("routes-test", help="print the receivers labels route to "
                          "(like 'amtool config routes test')")
    test.add_argument("--config", "--config.file", dest="config", required=True,
                      help="alertmanager.yml")
    test.add_argument("--tree", action="store_true", help="also print the matching tree")
    test.add_argument("--verify-receivers", "--verify.receivers", dest="verify", default="",
                      help="fail unless the receivers are exactly these (comma-separated)")
    test.add_argument("labels", nargs="*", help="label=value pairs")
    test.set_defaults(func=_routes_test)

    show = sub.add_parser("routes", help="print the routing tree (like 'amtool config routes')")
    show.add_argument("--config", "--config.file", dest="config", required=True)
    show.set_defaults(func=_routes_show)

    check = sub.add_parser("check-config", help="validate alertmanager.yml files "
                           "(like 'amtool check-config')")
    check.add_argument("files", nargs="+")
    check.set_defaults(func=_check_config)

    sil = sub.add_parser("silence", help="add, query or expire silences")
    sil_sub = sil.add_subparsers(dest="silence_command", metavar="ACTION", required=True)
    for name in ("add", "query", "expire"):
        p = sil_sub.add_parser(name)
        where = p.add_mutually_exclusive_group(required=True)
        where.add_argument("--url", help="watchkeeper or Alertmanager base URL (API v2)")
        where.add_argument("--data-dir", help="a local watchkeeper notify data directory")
        if name == "add":
            p.add_argument("--duration", default="1h", help="how long (e.g. 2h, 30m)")
            p.add_argument("--author", default="watchkeeper")
            p.add_argument("--comment", default="")
            p.add_argument("matchers", nargs="+", help='e.g. alertname="Foo" env=~"prod.*"')
        elif name == "expire":
            p.add_argument("ids", nargs="+")
        else:
            p.add_argument("--expired", action="store_true", help="show expired ones too")
        p.set_defaults(func=_silence)

    ack = sub.add_parser("ack", help="acknowledge an alert: stop its escalation")
    ack.add_argument("--url", required=True, help="watchkeeper base URL")
    ack.add_argument("--by", default="cli")
    ack.add_argument("fingerprint")
    ack.set_defaults(func=_ack)


def _labels(items: Sequence[str]) -> dict[str, str]:
    from ..notify import MatchType, parse_matcher

    out: dict[str, str] = {}
    for item in items:
        try:
            m = parse_matcher(item)
        except ValueError as exc:
            raise NotifyError(f"Failed to parse labels: {exc}") from exc
        if m.type is not MatchType.EQUAL:
            raise NotifyError("Failed to parse labels: labels must be specified as "
                              "key=value pairs")
        out[m.name] = m.value
    return out


def _routes_test(args: argparse.Namespace) -> int:
    from ..notify import build_route, load_config

    route = build_route(load_config(args.config).route)
    labels = _labels(args.labels)
    if args.tree:
        print(route.matching_tree(labels))
        print()
    slug = ",".join(r.opts.receiver for r in route.match(labels))
    print(slug)
    if args.verify and args.verify != slug:
        print("WARNING: Expected receivers did not match resolved receivers.")
        return 1
    return 0


def _routes_show(args: argparse.Namespace) -> int:
    from ..notify import build_route, load_config

    print(build_route(load_config(args.config).route).tree())
    return 0


def _check_config(args: argparse.Namespace) -> int:
    from ..notify import TemplateSet, load_config

    failed = 0
    for path in args.files:
        sys.stdout.write(f"Checking '{path}'")
        try:
            cfg = load_config(path)
        except NotifyConfigError as exc:
            print(f"  FAILED: {exc}\n")
            failed += 1
            continue
        print("  SUCCESS")
        print("Found:")
        print(" - global config")
        print(" - route")
        print(f" - {len(cfg.inhibit_rules)} inhibit rules")
        print(f" - {len(cfg.receivers)} receivers")
        print(f" - {len(cfg.templates)} templates")
        if cfg.templates:
            try:
                TemplateSet.from_globs(cfg.templates)
                print("  SUCCESS")
            except NotifyError as exc:
                print(f"  FAILED: {exc}")
                failed += 1
        print()
    if failed:
        print(f"watchkeeper: error: failed to validate {failed} file(s)", file=sys.stderr)
        return 1
    return 0


def _http(method: str, url: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
    except urllib.error.HTTPError as exc:
        raise NotifyError(f"{method} {url}: HTTP {exc.code}: {exc.read().decode()[:300]}") \
            from exc
    except OSError as exc:
        raise NotifyError(f"{method} {url}: {exc}") from exc
    return json.loads(raw) if raw.strip() else None


def _silence(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime
    from pathlib import Path

    from ..config import parse_duration
    from ..notify import Silence, Silences

    store = Silences(Path(args.data_dir) / "silences.json") if args.data_dir else None
    base = (args.url or "").rstrip("/")
    now = datetime.now(UTC)
    if args.silence_command == "add":
        sil = Silence.from_text(args.matchers, duration=parse_duration(args.duration),
                                created_by=args.author, comment=args.comment)
        if store is not None:
            print(store.set(sil))
        else:
            print(_http("POST", base + "/api/v2/silences", sil.to_api(now))["silenceID"])
        return 0
    if args.silence_command == "expire":
        for sid in args.ids:
            if store is not None:
                store.expire(sid)
            else:
                _http("DELETE", f"{base}/api/v2/silence/{sid}")
        return 0
    items = ([s.to_api(now) for s in store.list()] if store is not None
             else _http("GET", base + "/api/v2/silences"))
    print(f"{'ID':<36}  {'Matchers':<40}  {'Ends At':<24}  {'Created By':<12}  Comment")
    for s in items:
        if s["status"]["state"] == "expired" and not args.expired:
            continue
        matchers = " ".join(
            f'{m["name"]}{"=" if m["isEqual"] else "!"}{"~" if m["isRegex"] else ""}'
            f'"{m["value"]}"' if m["isEqual"] or m["isRegex"] else
            f'{m["name"]}!="{m["value"]}"' for m in s["matchers"])
        print(f"{s['id']:<36}  {matchers:<40}  {s['endsAt']:<24}  {s['createdBy']:<12}  "
              f"{s['comment']}")
    return 0


def _ack(args: argparse.Namespace) -> int:
    base = args.url.rstrip("/")
    result = _http("POST", f"{base}/api/v2/escalations/ack/{args.fingerprint}", {"by": args.by})
    print("acknowledged" if result and result.get("acknowledged") else "no running escalation")
    return 0


def run(argv: Sequence[str]) -> int:
    """Run ``watchkeeper notify ...`` alone (tests, ``python -m``); exit code."""
    parser = argparse.ArgumentParser(prog="watchkeeper")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["notify", *argv])
    try:
        return int(args.func(args))
    except NotifyError as exc:
        print(f"watchkeeper: error: {exc}", file=sys.stderr)
        return 1
