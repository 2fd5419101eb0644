"""Entry point: builds the argument parser from each command module's ``register``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .._version import __version__
from ..exceptions import WatchkeeperError

__all__ = ["main"]

# Each module defines ``register(subparsers)`` and sets ``func`` on its parsers; ``func``
# takes the parsed namespace and returns the exit code.
COMMAND_MODULES = [
    "watchkeeper.cli._config",
    "watchkeeper.cli._demo",
    "watchkeeper.cli._export",
    "watchkeeper.cli._notify",
    "watchkeeper.cli._promql",
    "watchkeeper.cli._rules",
    "watchkeeper.cli._security",
]


# Optional dependencies a command may need, and the extra that brings each in.
_EXTRAS = {"numpy": "hub", "starlette": "hub", "uvicorn": "demo", "fastapi": "demo",
           "redis": "redis", "re2": "re2", "drain3": "patterns"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="watchkeeper", description="Production observability for Python services."
    )
    parser.add_argument("--version", action="version", version=f"watchkeeper {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args))
    except WatchkeeperError as exc:
        print(f"watchkeeper: error: {exc}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as exc:
        extra = _EXTRAS.get((exc.name or "").partition(".")[0])
        if extra is None:
            raise
        print(f"watchkeeper: error: this command needs {exc.name}: "
              f"pip install 'watchkeeper[{extra}]'", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
