"""``python -m careshed`` runs the command line (same as the ``careshed`` command)."""
import sys

try:
    from .cli import main
except KeyboardInterrupt:        # Ctrl-C while the libraries load: no traceback, the status of an interrupted run
    print("careshed: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
