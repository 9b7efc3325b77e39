"""The ``onegrid`` command line.

Each command group lives in its own module with a ``register(subparsers)`` function that adds
its parser(s) and sets ``func``; ``main`` only wires them together and turns OneGrid errors
into a one-line message and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

import psycopg

from geodata.db import describe_busy
from geodata.errors import OneGridError

COMMAND_MODULES = ["app.cli.db", "app.cli.serve", "app.cli.demo", "app.cli.data", "app.cli.apikey", "app.cli.cases",
                   "app.cli.snapshot",
                   "app.cli.plan", "app.cli.grids"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="onegrid", description="OneGrid grid management and command map")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # command group not installed in this build
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except OneGridError as exc:
        print(f"onegrid: {exc.message}", file=sys.stderr)
        return 2
    except psycopg.errors.LockNotAvailable:  # once for every command: the lock_timeout of geodata.db.connect
        print(f"onegrid: {describe_busy()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("onegrid: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
