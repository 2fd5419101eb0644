"""``watchkeeper rules check FILE...`` and ``watchkeeper rules test FILE...`` (promtool's)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(commands: Any) -> None:
    rules = commands.add_parser("rules", help="alerting/recording rule tools (promtool's)")
    what = rules.add_subparsers(dest="what", metavar="WHAT", required=True)
    check = what.add_parser("check", help="validate rule files like `promtool check rules`")
    check.add_argument("files", nargs="+", help="rule files")
    check.add_argument("--lint", default="duplicate-rules", choices=["all", "duplicate-rules",
                                                                      "none"],
                       help="linting checks (default: duplicate-rules)")
    check.add_argument("--lint-fatal", action="store_true", help="exit 1 on lint problems")
    check.add_argument("--ignore-unknown-fields", action="store_true",
                       help="ignore unknown fields in rule files")
    check.set_defaults(func=_check)
    test = what.add_parser("test", help="run rule unit tests like `promtool test rules`")
    test.add_argument("files", nargs="+",
                      help="promtool unit-test files (last line: N passed, N failed test groups)")
    test.add_argument("--run", action="append", default=[],
                      help="only run test groups whose name matches this regex (repeatable)")
    test.add_argument("--ignore-unknown-fields", action="store_true",
                      help="ignore unknown fields in the rule files (test files stay strict)")
    test.set_defaults(func=_test)


def _missing(files: list[str]) -> int:
    for f in files:
        if not Path(f).exists():
            print(f"watchkeeper: error: path '{f}' does not exist, try --help", file=sys.stderr)
            return 1
    return 0


def _check(args: argparse.Namespace) -> int:
    from ..rules._files import check_file
    from ..rules._lint import duplicate_rules

    if _missing(args.files):
        return 1
    failed = hard = False
    for f in args.files:
        print(f"Checking {f}")
        result = check_file(f, ignore_unknown_fields=args.ignore_unknown_fields)
        errors = [f"{f}: {e}" for e in result.errors]
        lint = bool(not errors and args.lint != "none" and duplicate_rules(result.groups))
        if errors or lint:
            failed = True
            hard = hard or bool(errors)
            sys.stdout.flush()
            print("  FAILED:", file=sys.stderr)
            for e in errors or [duplicate_rules(result.groups)]:
                print(e, file=sys.stderr)
            sys.stderr.flush()
        else:
            print(f"  SUCCESS: {result.rule_count} rules found")
        print()
    return 1 if failed and (hard or args.lint_fatal) else 0


def _test(args: argparse.Namespace) -> int:
    from ..rules._unittest import run_files

    if _missing(args.files):
        return 1
    return run_files(args.files, run=args.run, ignore_unknown_fields=args.ignore_unknown_fields,
                     out=sys.stdout, err=sys.stderr)
