"""``watchkeeper export ...``: generate configuration for external engines."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..config import load_settings

__all__ = ["register"]


def register(commands: Any) -> None:
    export = commands.add_parser("export", help="generate configuration for other tools")
    what = export.add_subparsers(dest="what", metavar="WHAT", required=True)
    probes = what.add_parser(
        "k8s-probes", help="Kubernetes liveness/readiness/startup probes for the health paths")
    probes.add_argument("--port", default="8000",
                        help="container port number or name (default 8000)")
    probes.add_argument("--scheme", default="HTTP", choices=["HTTP", "HTTPS"])
    probes.add_argument("--config", help="watchkeeper YAML settings file (default: "
                        "$WATCHKEEPER_CONFIG, then the environment)")
    probes.set_defaults(func=_k8s_probes)


def _k8s_probes(args: argparse.Namespace) -> int:
    from ..health import k8s_probes_yaml

    settings = load_settings(args.config)
    port: int | str = int(args.port) if str(args.port).isdigit() else args.port
    sys.stdout.write(k8s_probes_yaml(settings.health, port, args.scheme))
    return 0
