"""The ``careshed`` command line (one module per subcommand; see careshed/cli/main.py)."""
from .main import SUBCOMMANDS, build_parser, main

__all__ = ["main", "build_parser", "SUBCOMMANDS"]
