"""careshed exceptions, and how their advice names the user's parameters.

Every class derives from :class:`CareshedError` *and* the matching builtin, so ``except ValueError``
and ``except OSError`` keep working. C++ exceptions from the core are translated to these classes.

Advice speaks the interface the user is in. A message never spells a parameter itself; it calls
:func:`keyword` with the Python keyword's name (``keyword("snap_max_m")``, ``keyword("crs", "EPSG:4326")``),
which renders ``snap_max_m`` / ``crs='EPSG:4326'`` in Python, and ``--snap-max-m`` / ``--crs EPSG:4326`` while
the command line runs (it installs its table of flags with :func:`speaking`). docs/errors.md lists the messages.
"""
from __future__ import annotations

import contextlib
import difflib
import functools
import warnings
from contextvars import ContextVar
from typing import Callable, Iterable, Iterator


class CareshedError(Exception):
    """Base class of every careshed error."""


class InputError(CareshedError, ValueError):
    """A value given by the caller, or read from the caller's data, is not acceptable."""


class UsageError(InputError):
    """The call itself is wrong: a parameter's value is impossible, or parameters are missing or contradict each
    other (the command line exits with status 2 for these, 1 for problems in the data)."""


class CRSError(InputError):
    """A coordinate reference system is missing, unusable or inconsistent with the coordinates."""


class DataIOError(CareshedError, OSError):
    """A file, layer or data source could not be opened, read or written."""


class MemoryLimitError(CareshedError, MemoryError):
    """A run would need more memory than is available or allowed; refused before allocating (the message
    gives the estimate, the limit and what to change). Also raised when an allocation fails anyway."""


class SolverError(CareshedError, RuntimeError):
    """A solve could not give its answer because the solver's child process (CBC / CLP) died in both attempts and
    nothing could stand in for it (e.g. the capacitated heuristics found no feasible set, or a set the caller asked
    to score could not be scored). Neither the input's fault nor IO: the message says how the process died and what
    to change (free memory if it was killed for lack of it; the constraints, so that no solver is needed)."""


# ---- speaking the interface the user is in --------------------------------------------------------------

class _NoValue:
    def __repr__(self) -> str:
        return "<no value>"


NO_VALUE = _NoValue()

#: A speaker renders (keyword name, value or NO_VALUE) in the words of an interface; None: not in that interface.
Speaker = Callable[[str, object], "str | None"]
_SPEAKER: ContextVar[Speaker | None] = ContextVar("careshed_speaker", default=None)


def python_keyword(name: str, value=NO_VALUE) -> str:
    """``name`` or ``name=value`` as written in a Python call."""
    return name if value is NO_VALUE else f"{name}={value!r}"


def keyword(name: str, value=NO_VALUE) -> str:
    """How the user sets careshed's parameter `name` (its Python keyword) in the interface in use: ``crs='EPSG:4326'``
    in Python, ``--crs EPSG:4326`` on the command line (see :func:`speaking`)."""
    speaker = _SPEAKER.get()
    text = speaker(name, value) if speaker is not None else None
    return text if text is not None else python_keyword(name, value)


def speaking_cli() -> bool:
    """True while an interface other than Python (the command line) renders :func:`keyword`."""
    return _SPEAKER.get() is not None


@contextlib.contextmanager
def speaking(speaker: Speaker) -> Iterator[None]:
    """Within the block, :func:`keyword` renders parameters with `speaker` (the command line's flag table)."""
    token = _SPEAKER.set(speaker)
    try:
        yield
    finally:
        _SPEAKER.reset(token)


def did_you_mean(name: str, choices: Iterable) -> str:
    """`` — did you mean 'pop_2020'?`` for the closest of `choices` to a misspelled `name` (difflib), else ``""``."""
    names = [str(c) for c in choices]
    by_case = {c.lower(): c for c in names}
    close = difflib.get_close_matches(str(name).lower(), list(by_case), n=3, cutoff=0.6)
    if not close:
        return ""
    return " — did you mean " + " or ".join(repr(by_case[c]) for c in close) + "?"


def deprecated_alias(function: Callable, old_name: str) -> Callable:
    """`function` under its former name `old_name`: same arguments and result, plus a DeprecationWarning naming the
    new name (kept for one release, see docs/architecture.md's vocabulary)."""
    @functools.wraps(function)
    def alias(*args, **kwargs):
        warnings.warn(f"{old_name} is deprecated; use {function.__name__}", DeprecationWarning, stacklevel=2)
        return function(*args, **kwargs)
    alias.__name__ = alias.__qualname__ = old_name
    alias.__doc__ = f"Deprecated (one release): former name of :func:`{function.__name__}`."
    return alias


def renamed_keyword(value, old_value, new: str, old: str, where: str, stacklevel: int = 3):
    """The value of keyword `new`, or of its former name `old` (with a DeprecationWarning pointing at the caller of
    `where` when `where` calls this directly); both at once is a TypeError."""
    if old_value is None:
        return value
    if value is not None:
        raise TypeError(f"{where}: give {new}= only ({old}= is its former name)")
    warnings.warn(f"{where}: {old}= is deprecated; use {new}=", DeprecationWarning, stacklevel=stacklevel)
    return old_value


__all__ = ["CareshedError", "InputError", "UsageError", "CRSError", "DataIOError", "MemoryLimitError", "SolverError",
           "keyword", "python_keyword", "speaking", "speaking_cli", "did_you_mean", "NO_VALUE", "deprecated_alias",
           "renamed_keyword"]
