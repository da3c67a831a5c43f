"""Command line: python -m core.cli <command>. Exit 0 on success, 1 with one line on stderr on error.

One module per command group (setup, banks, scoring, operations, analytics), each adding its
sub-commands with ``register``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from core.cli import (
    analytics,
    banks,
    invitations,
    mappings,
    notify,
    operations,
    reports,
    scoring,
    setup,
    sheets,
    tokens,
)
from core.config import Settings, load_settings
from core.errors import SecureSphereError
from core.logs import configure_logging

GROUPS = (
    setup,
    banks,
    sheets,
    scoring,
    operations,
    analytics,
    reports,
    notify,
    tokens,
    invitations,
    mappings,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per operation."""
    parser = argparse.ArgumentParser(prog="python -m core.cli", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; errors become a one-line message and exit code 1."""
    os.umask(0o077)  # every file the CLI writes (database, backups, keys) is the owner's only
    args = build_parser().parse_args(argv)
    configure_logging(level="WARNING")  # one JSON line per warning or error on stderr
    handler: Callable[[Settings, argparse.Namespace], int] = args.handler
    try:
        return handler(load_settings(), args)
    except SecureSphereError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a CLI user gets one line, not a traceback
        print(
            f"error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            file=sys.stderr,
        )
        return 1
