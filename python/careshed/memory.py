"""How much memory a run may use: ``--max-memory 8G`` on the command line, ``max_memory="8G"`` in Python.

The compiled core estimates a run's peak memory before it allocates (careshed/memory.hpp: from the grid, the number
of facilities, the cut-off and the analysis) and refuses a run that would not fit the available memory or the
caller's limit with :class:`careshed.errors.MemoryLimitError` (a ``MemoryError``) giving the estimate and what to
change (cell size, cut-off, tiles). This module holds the caller's limit for the duration of a run, the way
careshed.progress holds the progress reporter: the io/arrays tiers pass ``max_memory_bytes=current()`` to the core.
"""
from __future__ import annotations

import contextlib
import math
import re
from contextvars import ContextVar
from typing import Iterator

from .errors import UsageError, keyword

__all__ = ["parse_size", "current", "limiting"]

_LIMIT: ContextVar[int] = ContextVar("careshed_max_memory", default=0)
_UNITS = {"": 1, "B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_size(size) -> int:
    """Bytes of ``8G``, ``500M``, ``1.5GB``, ``64GiB``, ``1048576`` (binary units: 1K = 1024 bytes). None -> 0 (no
    limit of the caller's; the available memory still counts)."""
    if size is None:
        return 0
    if isinstance(size, (int, float)) and not isinstance(size, bool):
        number, unit = float(size), ""
    else:
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMgGtT]?)(?:i?[bB])?\s*", str(size))
        if not m:
            raise UsageError(f"{keyword('max_memory', size)}: expected a size such as 8G, 500M or 1.5GB")
        number, unit = float(m.group(1)), m.group(2).upper()
    value = number * _UNITS[unit]
    if not math.isfinite(value) or value < 1:
        raise UsageError(f"{keyword('max_memory', size)}: give a positive size such as 8G or 500M")
    return int(value)


def current() -> int:
    """The caller's memory limit in bytes for the run in progress (0: none)."""
    return _LIMIT.get()


@contextlib.contextmanager
def limiting(size) -> Iterator[int]:
    """Within the block, the core refuses runs estimated above `size` (see :func:`parse_size`)."""
    token = _LIMIT.set(parse_size(size))
    try:
        yield _LIMIT.get()
    finally:
        _LIMIT.reset(token)
