"""One PROJ database for both halves of careshed.

The C++ core uses the PROJ library that GDAL links, which knows its data folder (``/usr/share/proj`` on
Debian, compiled into the library). pyproj, imported by geopandas, looks elsewhere: ``PROJ_DATA``, its own
wheel folder, ``sys.prefix/share/proj`` and the folder of a ``proj`` program on ``PATH``. In a virtual
environment over Debian's Python none of these exist unless some unrelated package (``proj-bin``) happens
to be installed, and pyproj then warns "Valid PROJ data directory not found" and fails on EPSG codes.

:func:`configure_pyproj` points pyproj at the folder the core uses, so CRS handling works in any
environment with no ``PROJ_DATA`` set and no ``proj`` program. A folder the user chose (``PROJ_DATA`` or
``PROJ_LIB``) always wins.
"""
from __future__ import annotations

import os
import sys

from . import _core


def configure_pyproj() -> str:
    """Make pyproj use the PROJ data folder of careshed's core; return that folder ("" if none is known).

    Called once when ``careshed`` is imported. Before pyproj is imported this only sets ``PROJ_DATA`` in
    this process's environment (inherited by subprocesses), which pyproj reads when it starts; when pyproj
    was imported first (e.g. ``import geopandas`` before ``import careshed``) and found no data folder, it
    is told the folder with :func:`pyproj.datadir.set_data_dir`.
    """
    if os.environ.get("PROJ_DATA") or os.environ.get("PROJ_LIB"):
        return os.environ.get("PROJ_DATA") or os.environ["PROJ_LIB"]
    folder = _core.proj_data_dir()
    if not folder:
        return ""
    if "pyproj" not in sys.modules:
        os.environ["PROJ_DATA"] = folder
        return folder
    from pyproj import datadir  # already imported: this costs nothing
    try:
        datadir.get_data_dir()
    except Exception:  # pyproj.exceptions.DataDirError: pyproj found no folder of its own
        datadir.set_data_dir(folder)
    return folder


__all__ = ["configure_pyproj"]
