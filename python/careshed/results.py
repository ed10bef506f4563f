"""What every analysis result shares: notes (MODELLED marks), GeoPackage layers, GeoTIFF metadata, maps.

The presentation tier below the analyses: an analysis module computes its numbers and builds its result with
these helpers, so every result writes the same kinds of layers and says MODELLED the same way.
"""
from __future__ import annotations

import math
import warnings
from typing import Mapping

import pandas as pd

from .mapping import save_png

__all__ = ["modelled_notes", "points_frame", "zones_layer", "notes_frame", "save_map", "headline_prefix",
           "geotiff_metadata"]


def modelled_notes(modelled) -> list[str]:
    """``modelled=`` (str, list or {input: how}) as note lines starting with "MODELLED"."""
    if not modelled:
        return []
    if isinstance(modelled, str):
        return [f"MODELLED input: {modelled}"]
    if isinstance(modelled, Mapping):
        return [f"MODELLED {k}: {v}" for k, v in modelled.items()]
    return [f"MODELLED {k}: this input is modelled, not measured" for k in modelled]


def points_frame(frame: pd.DataFrame, crs):
    """A facility table (with x/y columns in `crs`) as a GeoDataFrame of points; text columns keep None."""
    import geopandas as gpd
    from shapely.geometry import Point

    f = frame.reset_index()
    for c in f.columns:
        if f[c].dtype == object:
            f[c] = f[c].map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
    return gpd.GeoDataFrame(f, geometry=[Point(x, y) for x, y in zip(f["x"], f["y"])], crs=crs)


def zones_layer(study, table: pd.DataFrame):
    """The study's zone polygons (id, kept fields) with the zone rows of `table` as attributes."""
    z = study.zones
    keep = [k for k in study.keep if k in z.columns and k != study.zone_id]
    layer = z[[study.zone_id] + keep + [z.geometry.name]].copy()
    numbers = table.iloc[:len(study.ids)].drop(columns=[k for k in study.keep if k in table.columns])
    for col in numbers.columns:
        layer[col] = numbers[col].to_numpy()
    return layer


def notes_frame(notes) -> pd.DataFrame:
    """The notes as a one-column table (the GeoPackage's ``notes`` layer)."""
    return pd.DataFrame({"note": list(notes) or ["(none)"]})


def save_map(fig, path) -> None:
    """save_png without one "Glyph ... missing" warning per character when labels use a script the installed
    fonts lack (e.g. Chinese names): those characters are drawn as boxes; use an English name field instead."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from")
        save_png(fig, path)


def headline_prefix(modelled: bool) -> str:
    """What every title and headline starts with: \"MODELLED — \" when an input is modelled."""
    return "MODELLED — " if modelled else ""


def geotiff_metadata(notes, modelled: bool, **items) -> dict:
    """GeoTIFF metadata items: `items`, then the notes (``CARESHED_NOTE_00`` ...) and the MODELLED mark."""
    meta = dict(items)
    meta.update({f"CARESHED_NOTE_{i:02d}": n.replace("\n", " ") for i, n in enumerate(notes)})
    if modelled:
        meta["CARESHED_MODELLED"] = "yes: some inputs are MODELLED (see the notes)"
    return meta
