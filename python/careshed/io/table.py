"""Result tables as CSV with their notes (the one CSV writer of careshed)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .atomic import atomic_path

__all__ = ["write_table"]


def write_table(frame: pd.DataFrame, path, *, index=True, notes=None) -> Path:
    """Write a result table as CSV with its notes as leading ``# `` comment lines, atomically. The notes are
    `notes` when given (the frame is not changed), else ``frame.attrs["notes"]``.

    Read it back with ``pandas.read_csv(path, comment="#", index_col=0)``.
    """
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as f:
        for note in (frame.attrs.get("notes", []) if notes is None else notes) or []:
            f.write("# " + str(note).replace("\n", " ") + "\n")
        frame.to_csv(f, index=index)
    return Path(path)
