"""The ``careshed`` command line: the parser built from every subcommand module, and the entry point.

Each subcommand is one module of this package exporting ``COMMAND`` (careshed.cli.common.Subcommand: name, help,
epilog, ``add_arguments(parser)``, ``run(args) -> exit status``); :data:`SUBCOMMANDS` lists them in the order
``careshed --help`` shows. A new subcommand is a new module plus one line here.

Every way a run can end is handled here, once (docs/errors.md lists the messages):

* exit 0 — done; 1 — a problem in the data or the files (``careshed: error: ...``); 2 — a problem in the command
  itself (unknown or contradicting options, impossible values); 3 — a bug in careshed (a short "please report"
  message; ``--debug`` shows the traceback); 130 — interrupted by Ctrl-C (``careshed: interrupted``).
* Errors never print a Python traceback (unless ``--debug``); warnings print as ``careshed: warning: ...``.
* Runs longer than ~2 s show a progress bar on stderr (not when stderr is not a terminal, nor with ``--quiet``);
  Ctrl-C stops the run within about a second (the core polls for it), removes the run's staged outputs and exits 130.
* While a subcommand runs, careshed's advice names command-line flags (``--crs EPSG:4326``), not Python keywords
  (careshed.errors.keyword; the flag table is built from the subcommand's own options).
"""
from __future__ import annotations

import argparse
import sys
import warnings

from ..constants import VERSION
from ..errors import CareshedError, UsageError, speaking
from ..memory import limiting
from ..progress import ProgressBar, reporting
from . import (access, access_table, catchments, demo, density, optimize, outreach, reach, referral, report,
               round_trip)
from .common import (EXIT_BUG, EXIT_DATA, EXIT_INTERRUPTED, EXIT_USAGE, add_run_arguments, check_outputs,
                     cli_speaker, os_error_text)

__all__ = ["main", "build_parser", "SUBCOMMANDS"]

#: name -> careshed.cli.common.Subcommand, in the order of ``careshed --help``.
SUBCOMMANDS = {c.name: c for c in (density.COMMAND, reach.COMMAND, catchments.COMMAND, access.COMMAND,
                                   access_table.COMMAND, optimize.COMMAND, referral.COMMAND, round_trip.COMMAND,
                                   outreach.COMMAND, report.COMMAND,
                                   demo.COMMAND)}

EXIT_STATUS_HELP = """exit status: 0 done, 1 a problem in the data or files, 2 a problem in the command (options),
3 a bug in careshed (please report it), 130 interrupted (Ctrl-C; no partial output is left)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="careshed",
        description="careshed — who can reach care, how fast, and is there enough of it where people live.",
        epilog="Run 'careshed <command> --help' for a command's options and examples.\n\n" + EXIT_STATUS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"careshed {VERSION}")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in SUBCOMMANDS.items():
        sp = subs.add_parser(name, help=command.help, description=command.help,
                             epilog=command.epilog.rstrip() + "\n\n" + EXIT_STATUS_HELP,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
        command.add_arguments(sp)
        add_run_arguments(sp)
        sp.set_defaults(_run=command.run, _speaker=cli_speaker(sp))
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"careshed: warning: {message}", file=sys.stderr)


def _error(text: str) -> None:
    print(f"careshed: error: {text}", file=sys.stderr)


def main(argv=None) -> int:
    """Entry point of the ``careshed`` command; returns the exit status (module docstring)."""
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if not getattr(args, "_run", None):
        parser.print_help()
        return EXIT_USAGE
    debug = bool(getattr(args, "debug", False))
    previous = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        bar = None if getattr(args, "quiet", False) else ProgressBar(delay=2.0)   # hidden when not a terminal
        with speaking(args._speaker), reporting(bar), limiting(getattr(args, "max_memory", None)):
            check_outputs(args)
            return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("careshed: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except UsageError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except CareshedError as exc:
        _error(str(exc))
        return EXIT_DATA
    except MemoryError as exc:
        if debug:
            raise
        text = str(exc)
        _error(text if text and "bad_alloc" not in text else
               "out of memory; make the run smaller (a larger --cell-size, a smaller --max-minutes, fewer facilities "
               "or a smaller area)")
        return EXIT_DATA
    except OSError as exc:
        if debug:
            raise
        _error(os_error_text(exc))
        return EXIT_DATA
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a bug, reported without a traceback
        if debug:
            raise
        print(f"careshed: internal error: {type(exc).__name__}: {exc}\n"
              "careshed: this is a bug in careshed, not in your data; please report it with the command you ran "
              "(run it again with --debug to see where it happened)", file=sys.stderr)
        return EXIT_BUG
    finally:
        warnings.showwarning = previous
