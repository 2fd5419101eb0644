"""``watchkeeper security verify-audit FILE`` and ``watchkeeper compliance report``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["register"]


def register(commands: Any) -> None:
    security = commands.add_parser("security", help="security audit log tools")
    what = security.add_subparsers(dest="what", metavar="WHAT", required=True)
    verify = what.add_parser("verify-audit", help="verify an audit log's hash chain")
    verify.add_argument("file", help="the JSON-lines audit log")
    verify.set_defaults(func=_verify_audit)

    compliance = commands.add_parser("compliance", help="compliance reporting")
    sub = compliance.add_subparsers(dest="what", metavar="WHAT", required=True)
    report = sub.add_parser("report", help="check controls against the configuration")
    report.add_argument("--standard", choices=["SOC2", "PCI-DSS", "GDPR", "HIPAA"],
                        type=str.upper, help="only this standard's controls")
    report.add_argument("--config", help="YAML settings file (default: $WATCHKEEPER_CONFIG)")
    report.add_argument("--url", action="append", default=[],
                        help="an exposed base URL of the service (for the TLS control)")
    report.add_argument("--format", choices=["text", "json"], default="text")
    report.set_defaults(func=_compliance_report)


def _verify_audit(args: argparse.Namespace) -> int:
    from ..exceptions import AuditChainError
    from ..security import verify_audit

    try:
        report = verify_audit(args.file)
    except FileNotFoundError:
        print(f"{args.file}: no such file", file=sys.stderr)
        return 2
    except AuditChainError as exc:
        print(f"{args.file}: TAMPERED: {exc}", file=sys.stderr)
        return 1
    anchor = "genesis" if report.complete else f"anchor {report.anchor} (older records " \
                                               "dropped by retention)"
    print(f"{args.file}: OK, {report.records} records, chain intact from {anchor}")
    return 0


def _compliance_report(args: argparse.Namespace) -> int:
    import orjson

    from ..config import load_settings
    from ..security import compliance_report

    settings = load_settings(args.config)
    report = compliance_report(settings, args.standard, args.url)
    if args.format == "json":
        print(orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        print(report.as_text())
    return 0 if report.passed else 1
