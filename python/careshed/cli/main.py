"""The ``careshed`` command line: the parser built from every subcommand module, and the entry point.

Each subcommand is one module of this package exporting ``COMMAND`` (careshed.cli.common.Subcommand: name, help,
epilog, ``add_arguments(parser)``, ``run(args) -> exit status``); :data:`SUBCOMMANDS` lists them in the order
``careshed --help`` shows. A new subcommand is a new module plus one line here.

Errors that careshed raises on purpose (bad input, missing files) are printed as
``careshed: error: <message>`` with exit status 2 and no traceback; warnings as ``careshed: warning: ...``.
"""
from __future__ import annotations

import argparse
import sys
import warnings

from ..constants import VERSION
from ..errors import CareshedError
from . import access, access_table, catchments, demo, density, reach

__all__ = ["main", "build_parser", "SUBCOMMANDS"]

#: name -> careshed.cli.common.Subcommand, in the order of ``careshed --help``.
SUBCOMMANDS = {c.name: c for c in (density.COMMAND, reach.COMMAND, catchments.COMMAND, access.COMMAND,
                                   access_table.COMMAND, demo.COMMAND)}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="careshed",
        description="careshed — who can reach care, how fast, and is there enough of it where people live.",
        epilog="Run 'careshed <command> --help' for a command's options and examples.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"careshed {VERSION}")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in SUBCOMMANDS.items():
        sp = subs.add_parser(name, help=command.help, description=command.help, epilog=command.epilog,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
        command.add_arguments(sp)
        sp.set_defaults(_run=command.run)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"careshed: warning: {message}", file=sys.stderr)


def main(argv=None) -> int:
    """Entry point of the ``careshed`` command; returns the exit status (0 ok, 2 error)."""
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    previous = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        return int(args._run(args) or 0)
    except CareshedError as exc:
        print(f"careshed: error: {exc}", file=sys.stderr)
        return 2
    finally:
        warnings.showwarning = previous
