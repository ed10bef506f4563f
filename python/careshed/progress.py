"""Progress of long computations: who is told, and how (a bar on the command line, tqdm.auto in Jupyter).

The compiled core reports progress of its long calls (``progress=(fraction, phase)`` callables, polled with
Ctrl-C every 50 ms: bindings/run_watch.hpp). careshed passes the *current reporter* to every such call
(``progress=current()`` in the io and arrays tiers), so an analysis does not thread a callback through its
layers: whoever wants progress installs a reporter around the run with :func:`reporting` —

* the command line: a tqdm bar on stderr, shown once a run has lasted ~2 s, never when stderr is not a terminal
  or with ``--quiet`` (careshed/cli/main.py);
* Python: ``progress=True`` on a Study method (tqdm.auto: a widget in Jupyter), or any callable
  ``f(fraction, phase)``; default none.

Ctrl-C (KeyboardInterrupt, Jupyter's interrupt) stops a running core call within about 50 ms plus one chunk of
work, whether or not a reporter is installed.
"""
from __future__ import annotations

import contextlib
import sys
from contextvars import ContextVar
from typing import Callable, Iterator

__all__ = ["current", "reporting", "ProgressBar", "as_reporter"]

Reporter = Callable[[float, str], None]
_REPORTER: ContextVar[Reporter | None] = ContextVar("careshed_progress", default=None)


def current() -> Reporter | None:
    """The reporter to pass as ``progress=`` to the compiled core (None: nobody is listening)."""
    return _REPORTER.get()


@contextlib.contextmanager
def reporting(reporter: Reporter | None) -> Iterator[Reporter | None]:
    """Within the block, long core calls report to `reporter` (``reporter(fraction, phase)``); None: silence.
    A :class:`ProgressBar` is closed when the block ends."""
    token = _REPORTER.set(reporter)
    try:
        yield reporter
    finally:
        _REPORTER.reset(token)
        close = getattr(reporter, "close", None)
        if close is not None:
            close()


class ProgressBar:
    """A reporter drawing one tqdm bar (0–100 % of the current phase, the phase as its label).

    ``delay`` seconds pass before it appears (short runs stay silent); ``notebook=True`` uses tqdm.auto (a widget
    in Jupyter); ``disable=None`` hides it when the output stream is not a terminal (tqdm's rule)."""

    def __init__(self, *, delay: float = 2.0, notebook: bool = False, disable: bool | None = None, file=None):
        if notebook:
            from tqdm.auto import tqdm
        else:
            from tqdm import tqdm
        self._bar = tqdm(total=100, delay=delay, disable=disable, file=file or sys.stderr, leave=False,
                         unit="%", bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}")
        self._phase = None

    def __call__(self, fraction: float, phase: str) -> None:
        if phase != self._phase:
            self._phase = phase
            self._bar.set_description_str(phase or "careshed", refresh=False)
        self._bar.n = max(0, min(100, int(round(float(fraction) * 100))))
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()


def as_reporter(progress) -> Reporter | None:
    """``progress=`` of the Python API: False/None (none), True (a notebook-friendly bar), or a callable."""
    if progress is None or progress is False:
        return None
    if progress is True:
        return ProgressBar(delay=0.0, notebook=True)
    if callable(progress):
        return progress
    raise TypeError(f"progress={progress!r}: give True (a progress bar), False, or a callable f(fraction, phase)")
