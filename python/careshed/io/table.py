"""Result tables as CSV that Excel and QGIS open as they are (the one CSV writer of careshed).

* No comment lines: the first line is the header, every other line a row. The notes (MODELLED inputs, methods)
  go to a sidecar text file next to the CSV, ``NAME.notes.txt`` for ``NAME.csv`` (and, for results, into the
  GeoPackage's metadata and its ``notes`` layer).
* UTF-8; ``excel=True`` (the CLI's ``--excel``) starts the file with the UTF-8 byte-order mark so Excel reads
  Chinese and accented names correctly when the file is double-clicked.
* People as whole numbers where they are counts (population, covered, unreachable, ... columns: rounded to the
  nearest person; shares, rates and minutes keep their decimals) and ranks as integers (empty where there is none).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .atomic import atomic_path, write_atomically

__all__ = ["write_table", "notes_path", "people_columns", "csv_ready", "ROUNDING_NOTE"]

#: Words of a column name that make it a count of people ...
_PEOPLE_WORDS = {"population", "people", "covered", "uncovered", "unreachable", "gained", "served", "reached"}
#: ... unless it also has one of these (then it is a share, a rate or a time).
_NOT_COUNT_WORDS = {"share", "per", "minutes", "minute", "rate", "mean", "median", "p90", "ratio", "score", "offset",
                    "target", "pct", "percent", "fraction", "gini", "seconds", "m", "km"}
#: The sidecar line saying the people columns are rounded (written when a table has any).
ROUNDING_NOTE = ("people counts are rounded to whole people in this CSV (computed with fractions of people per "
                 "cell); rounded rows can differ from the rounded total by a few people")


def notes_path(path) -> Path:
    """The notes sidecar of a CSV: ``NAME.notes.txt`` next to ``NAME.csv``."""
    p = Path(path)
    return p.with_name((p.stem if p.suffix.lower() == ".csv" else p.name) + ".notes.txt")


def _words(name) -> set:
    return set(re.split(r"[^a-z0-9]+", str(name).lower())) - {""}


def people_columns(frame: pd.DataFrame) -> list:
    """The numeric columns of `frame` that count people (by name: population, covered, unreachable, ...; not
    shares, rates or minutes)."""
    out = []
    for c in frame.columns:
        w = _words(c)
        if w & _PEOPLE_WORDS and not w & _NOT_COUNT_WORDS and pd.api.types.is_numeric_dtype(frame[c]) \
                and not pd.api.types.is_bool_dtype(frame[c]):
            out.append(c)
    return out


def _rank_columns(frame: pd.DataFrame) -> list:
    return [c for c in frame.columns if ("rank" in _words(c)) and pd.api.types.is_numeric_dtype(frame[c])
            and not pd.api.types.is_bool_dtype(frame[c])]


def _whole(values: pd.Series) -> pd.Series:
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    finite = np.isfinite(v)
    out = pd.array(np.where(finite, np.round(v), 0).astype(np.int64), dtype="Int64")
    out[~finite] = pd.NA
    return pd.Series(out, index=values.index, name=values.name)


def csv_ready(frame: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """A copy of `frame` with people counts rounded to whole numbers and ranks as integers (nullable: empty
    where missing); and whether any people column was rounded."""
    people, ranks = people_columns(frame), _rank_columns(frame)
    if not people and not ranks:
        return frame, False
    out = frame.copy()
    rounded = False
    for c in people:
        col = out[c]
        if pd.api.types.is_float_dtype(col):
            v = col.to_numpy(dtype=np.float64)
            rounded = rounded or bool(np.any(np.isfinite(v) & (v != np.round(v))))
        out[c] = _whole(col)
    for c in ranks:
        out[c] = _whole(out[c])
    out.attrs = dict(frame.attrs)
    return out, rounded


def write_table(frame: pd.DataFrame, path, *, index=True, notes=None, excel: bool = False) -> Path:
    """Write a result table as CSV (no comment lines; people as whole numbers, ranks as integers), atomically;
    its notes — `notes` when given (the frame is not changed), else ``frame.attrs["notes"]`` — into the sidecar
    ``NAME.notes.txt`` (one note a line; not written when there are no notes). `excel`: start the CSV with the
    UTF-8 byte-order mark (Excel then reads it as UTF-8).

    Read it back with ``pandas.read_csv(path, index_col=0)`` (``encoding="utf-8-sig"`` reads both kinds).
    """
    table, rounded = csv_ready(frame)
    lines = [str(n).replace("\n", " ") for n in ((frame.attrs.get("notes", []) if notes is None else notes) or [])]
    if rounded:
        lines.append(ROUNDING_NOTE)
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8-sig" if excel else "utf-8", newline="") as f:
            table.to_csv(f, index=index)
        if lines:
            write_atomically(notes_path(path), lambda t: Path(t).write_text(
                "\n".join(lines) + "\n", encoding="utf-8-sig" if excel else "utf-8"))
    return Path(path)
