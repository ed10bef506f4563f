"""``python -m careshed`` runs the command line (same as the ``careshed`` command)."""
import sys

from .cli import main

sys.exit(main())
