"""The one way careshed writes files: nothing half-written is ever left where an output belongs.

* :func:`atomic_path` — one file: the writer writes a temporary file next to the destination, which is renamed
  over it only when the writer returned without an error.
* :class:`OutputSet` — several files that belong together (a result's CSV, GeoPackage, GeoTIFFs, map): they
  are staged in a hidden temporary folder inside the destination folder and renamed into place together by
  :meth:`OutputSet.commit`; if anything fails first, the stage is removed and no output of the set appears.
  (Each rename is atomic; a crash between two renames of one commit can leave the first ones — the renames
  are the last, fast step, after every file was written completely.)

The C++ writers (GeoPackage, GeoTIFF) write exactly the path they are given; careshed hands them a staged
path, so they need no atomic logic of their own beyond their own temporary-file discipline.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterator

from ..errors import DataIOError, UsageError, keyword

__all__ = ["atomic_path", "write_atomically", "OutputSet", "check_output_folder", "check_file_name"]


def check_file_name(name: str, what: str = "prefix") -> str:
    """Refuse an output file name (or prefix) that is not a plain name inside the output folder ('../x', 'a/b')."""
    text = str(name)
    if not text or text in (".", "..") or "/" in text or os.sep in text or Path(text).name != text:
        raise UsageError(f"{keyword(what, text)}: give a plain file name, without a folder (no '/'); the folder is "
                         f"{keyword('folder')}")
    return text


def check_output_folder(folder) -> Path:
    """Refuse, before any work, an output folder careshed could not write: a file in its place, or a folder (or
    the nearest existing parent of a folder still to be made) that is not writable. Creates nothing."""
    folder = Path(folder)
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        what = "is a file" if probe == folder else f"cannot be made: {probe} is a file"
        raise DataIOError(f"{folder}: {what}, not a folder; write the outputs into a folder ({keyword('folder')}; "
                          "it is created if missing)")
    if not os.access(probe, os.W_OK | os.X_OK):
        where = "" if probe == folder else f" (in {probe})"
        raise DataIOError(f"{folder}: cannot write here{where}: permission denied; choose another "
                          f"{keyword('folder')} or fix the folder's permissions")
    return folder


@contextlib.contextmanager
def atomic_path(path) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it onto `path` when the block ends without an error,
    remove it otherwise."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_atomically(path, write: Callable[[Path], object]) -> Path:
    """Run ``write(tmp_path)`` and rename the result onto `path` (see :func:`atomic_path`). Returns `path`."""
    with atomic_path(path) as tmp:
        write(tmp)
    return Path(path)


class OutputSet:
    """Files written together into `folder`, all or none.

    >>> with OutputSet("results") as out:          # doctest: +SKIP
    ...     table.to_csv(out.path("reach.csv"))
    ...     write_geotiff(out.path("reach_minutes.tif"), minutes, grid)
    >>> out.written                                 # the final paths, after the block  # doctest: +SKIP

    :meth:`path` returns where to write a file now (inside the stage); :attr:`stage` is the staging folder itself,
    for writers that take a folder. The final paths appear only at :meth:`commit` (called by the ``with`` block when
    it ends without an error; an error — also Ctrl-C — calls :meth:`abort`).
    """

    def __init__(self, folder):
        self.folder = check_output_folder(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._stage = Path(tempfile.mkdtemp(prefix=".careshed-stage-", dir=self.folder))
        except OSError as exc:
            raise DataIOError(f"{self.folder}: cannot write the outputs here ({exc.strerror or exc}); choose "
                              f"another {keyword('folder')}") from exc
        self._names: list[str] = []
        self.written: list[Path] = []

    def path(self, name: str) -> Path:
        """The staged path for the output file `name` (a file name inside `folder`)."""
        check_file_name(name)
        if name not in self._names:
            self._names.append(name)
        return self._stage / name

    @property
    def stage(self) -> Path:
        """The staging folder: a file written as ``stage / name`` appears as ``folder / name`` at :meth:`commit`."""
        return self._stage

    def commit(self) -> list[Path]:
        """Rename every staged file into `folder`; returns the final paths (files named with :meth:`path` in that
        order, then the others in the order they were written)."""
        others = sorted((p for p in self._stage.iterdir() if p.is_file() and p.name not in self._names
                         and not p.name.startswith(".")), key=lambda p: (p.stat().st_mtime_ns, p.name))
        final = []
        for name in self._names + [p.name for p in others]:
            staged = self._stage / name
            if staged.exists():
                os.replace(staged, self.folder / name)
                final.append(self.folder / name)
        shutil.rmtree(self._stage, ignore_errors=True)
        self.written = final
        return final

    def abort(self) -> None:
        """Remove the stage: none of the set's files appears."""
        shutil.rmtree(self._stage, ignore_errors=True)

    def __enter__(self) -> "OutputSet":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.commit()
        else:
            self.abort()
        return False
