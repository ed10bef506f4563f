"""Reading the caller's fields: ids, numbers, names — checked, with errors naming the source, field and row.

Every analysis reads zone and facility tables through these functions, so "zone 330802, row 3 of counties.gpkg
is empty" reads the same everywhere.
"""
from __future__ import annotations

import math
import re
from typing import Sequence

import numpy as np
import pandas as pd

from ..constants import NAME_FIELDS
from ..errors import InputError, did_you_mean
from .vector import describe_source

__all__ = ["id_key", "column", "numeric_column", "name_column", "as_list", "unique_ids", "level_slug"]


def id_key(value) -> str | None:
    """Canonical text of a zone id so that 330802, 330802.0 and "330802" match; None for missing."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    text = str(value).strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    if math.isfinite(number) and number.is_integer() and text.lstrip("+-").replace(".", "", 1).isdigit():
        return str(int(number))
    return text


def column(frame: pd.DataFrame, name: str, role: str) -> pd.Series:
    if name not in frame.columns:
        avail = ", ".join(str(c) for c in frame.columns if c != getattr(frame, "_geometry_column_name", None))
        names = [c for c in frame.columns if c != getattr(frame, "_geometry_column_name", None)]
        raise InputError(f"{describe_source(frame)}: no field {name!r} ({role}); available fields: {avail}"
                         f"{did_you_mean(name, names)}")
    return frame[name]


def numeric_column(frame: pd.DataFrame, name: str, role: str, ids: Sequence | None = None,
             allow_null: bool = False) -> tuple[np.ndarray, int]:
    """Field `name` as float64. Non-numeric text, inf and negatives are errors naming the row.

    Returns (values, number of nulls); nulls become 0 when allow_null, else an error.
    """
    col = column(frame, name, role)
    if pd.api.types.is_bool_dtype(col):
        raise InputError(f"{describe_source(frame)}: field {name!r} ({role}) holds true/false values, "
                         "not numbers")
    values = pd.to_numeric(col, errors="coerce").astype("float64").to_numpy(copy=True)
    src = describe_source(frame)
    n_null = 0
    # Vectorised screen; the Python loop only visits the (usually few) NaN / bad entries.
    with np.errstate(invalid="ignore"):
        suspect = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if suspect.size:
        raw = col.to_numpy(dtype=object)
        for i in suspect:
            v, original = values[i], raw[i]
            where = f"row {i + 1}" + (f" (zone {ids[i]!r})" if ids is not None else "")
            if math.isnan(v):
                is_null = original is None or (isinstance(original, float) and math.isnan(original)) or \
                    (isinstance(original, str) and not original.strip())
                if not is_null:
                    raise InputError(f"{src}: field {name!r} ({role}), {where}: {original!r} is not a number; "
                                     "fix the value or leave it empty")
                if not allow_null:
                    raise InputError(f"{src}: field {name!r} ({role}), {where} is empty; every zone needs a "
                                     "value (use 0 if there are none)")
                n_null += 1
                values[i] = 0.0
            else:
                raise InputError(f"{src}: field {name!r} ({role}), {where}: {original!r} is not a finite "
                                 "number >= 0")
    return values, n_null


def name_column(frame: pd.DataFrame, name_field: str | None) -> pd.Series | None:
    if name_field:
        return column(frame, name_field, "facility name")
    for cand in NAME_FIELDS:
        if cand in frame.columns:
            return frame[cand]
    return None


def as_list(obj) -> list:
    if obj is None:
        return []
    if isinstance(obj, (list, tuple)):
        return list(obj)
    return [obj]


def unique_ids(src, field: str, values, what: str) -> dict[str, int]:
    """``{canonical id: row}`` of an id field (rows from 0); refuses empty and duplicate ids (named from row 1)."""
    seen: dict[str, int] = {}
    for i, v in enumerate(values):
        k = id_key(v)
        if k is None:
            raise InputError(f"{src}: field {field!r} ({what} id), row {i + 1} is empty; every {what} needs an id")
        if k in seen:
            raise InputError(f"{src}: duplicate {what} id {v!r} in field {field!r} (rows {seen[k] + 1} and {i + 1}); "
                             f"{what} ids must be unique")
        seen[k] = i
    return seen


def level_slug(name) -> str:
    """A facility level's name as a column-name part: "township health centre" -> "township_health_centre" (the
    referral tables' ``share_within_<level>``, ``mean_minutes_<level>`` ...)."""
    s = re.sub(r"\W+", "_", str(name).strip().lower()).strip("_")
    return s or "level"
