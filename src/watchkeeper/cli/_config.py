"""``watchkeeper check config FILE``: validate a settings file as ``init()`` would."""

from __future__ import annotations

import argparse
from typing import Any

from ..config import load_settings

__all__ = ["register"]


def register(commands: Any) -> None:
    check = commands.add_parser("check", help="validate configuration files")
    what = check.add_subparsers(dest="what", metavar="WHAT", required=True)
    config = what.add_parser("config", help="validate a watchkeeper YAML settings file")
    config.add_argument("file", help="path to the YAML file")
    config.add_argument(
        "--no-env", action="store_true", help="ignore WATCHKEEPER_* environment variables"
    )
    config.set_defaults(func=_check_config)


def _check_config(args: argparse.Namespace) -> int:
    environ: dict[str, str] | None = {} if args.no_env else None
    settings = load_settings(args.file, environ=environ)
    print(f"{args.file}: OK (service {settings.service.name!r}, "
          f"environment {settings.service.environment!r})")
    return 0
