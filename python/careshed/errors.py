"""careshed exceptions.

Every class derives from :class:`CareshedError` *and* the matching builtin, so ``except ValueError``
and ``except OSError`` keep working. C++ exceptions from the core are translated to these classes.
"""


class CareshedError(Exception):
    """Base class of every careshed error."""


class InputError(CareshedError, ValueError):
    """A value given by the caller, or read from the caller's data, is not acceptable."""


class CRSError(InputError):
    """A coordinate reference system is missing, unusable or inconsistent with the coordinates."""


class DataIOError(CareshedError, OSError):
    """A file, layer or data source could not be opened, read or written."""


__all__ = ["CareshedError", "InputError", "CRSError", "DataIOError"]
