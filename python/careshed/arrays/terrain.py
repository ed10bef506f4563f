"""Walking on terrain: travel time over a friction grid and a DEM, uphill slower than downhill.

Two pieces over the core (``core/include/careshed/terrain.hpp`` has the formulas, their sources and the
integer-tick arithmetic; docs/travel-modes.md explains them):

* :func:`read_elevation` — a DEM (GeoTIFF, SRTM ``.hgt``/``.hgt.zip``, VRT, ...; one file, several tiles, or a
  folder of tiles mosaicked through a VRT) resampled onto the analysis grid (bilinear), metres, NaN = no data;
* :func:`travel_time_terrain` — the multi-source nearest search with direction-dependent move costs:

  - ``model="tobler"`` (default): Tobler's hiking function as a slope factor on the friction,
    ``time = F * exp(3.5 * (|S + 0.05| - 0.05))`` (1 on the flat: the result then equals
    :func:`careshed.arrays.travel_time_grid` exactly);
  - ``model="rwalk"``: GRASS r.walk's ``a*L + b*dz`` (uphill) / ``c*dz`` (moderate downhill) / ``d*dz`` (steep
    downhill) ``+ lambda * F``, coefficients in ``rwalk={"a": .., "b": .., "c": .., "d": .., "slope_factor": ..,
    "lambda": ..}`` (r.walk's defaults when left out);

  F is the r.cost friction term of the move, S its slope dz / L in the traveller's direction.
  ``direction="toward"`` (default): the time of a cell is the trip cell -> nearest source (patients travel to
  care); ``"away"``: source -> cell.

Cells without elevation (DEM nodata, outside the DEM) are impassable; a ``RuntimeWarning`` says how many
passable cells that removes. Water is whatever the friction makes impassable (e.g. a land mask).
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .. import _core
from ..errors import InputError
from ..memory import current as current_max_memory
from ..progress import current as current_progress
from .travel_time import prepare_search

__all__ = ["TERRAIN_MODELS", "DIRECTIONS", "RWALK_DEFAULTS", "terrain_options", "dem_paths", "read_elevation",
           "terrain_reach_lists",
           "travel_time_terrain"]

TERRAIN_MODELS = ("tobler", "rwalk")
DIRECTIONS = ("toward", "away")
#: GRASS r.walk's default coefficients (walk_coeff=0.72,6.0,1.9998,-1.9998, slope_factor=-0.2125, lambda=1).
RWALK_DEFAULTS = {"a": 0.72, "b": 6.0, "c": 1.9998, "d": -1.9998, "slope_factor": -0.2125, "lambda": 1.0}
_DEM_SUFFIXES = (".tif", ".tiff", ".hgt", ".hgt.zip", ".vrt", ".dem", ".asc", ".img")


def terrain_options(model="tobler", rwalk=None, direction="toward", *, what="terrain"):
    """Checked ``(model, rwalk tuple (a, b, c, d, slope_factor, lambda), toward: bool)``; InputError naming the
    wrong value and the choices otherwise (`what` prefixes the message)."""
    if model not in TERRAIN_MODELS:
        raise InputError(f"{what}: model {model!r} is not one of {', '.join(TERRAIN_MODELS)} (Tobler's hiking "
                         "function, or GRASS r.walk's formula)")
    if direction not in DIRECTIONS:
        raise InputError(f"{what}: direction {direction!r} is not one of {', '.join(DIRECTIONS)} ('toward': patients "
                         "travel to the facilities; 'away': from them)")
    coeffs = dict(RWALK_DEFAULTS)
    if rwalk is not None:
        if model != "rwalk":
            raise InputError(f"{what}: rwalk coefficients are given but the model is {model!r}; add model='rwalk'")
        if not isinstance(rwalk, Mapping):
            raise InputError(f"{what}: rwalk must be a dict with some of {', '.join(RWALK_DEFAULTS)}; got {rwalk!r}")
        unknown = sorted(set(rwalk) - set(RWALK_DEFAULTS))
        if unknown:
            raise InputError(f"{what}: unknown rwalk coefficient(s) {', '.join(map(str, unknown))}; the coefficients "
                             f"are {', '.join(RWALK_DEFAULTS)}")
        for k, v in rwalk.items():
            try:
                coeffs[k] = float(v)
            except (TypeError, ValueError):
                raise InputError(f"{what}: rwalk coefficient {k} = {v!r} must be a number") from None
    return model, tuple(coeffs[k] for k in RWALK_DEFAULTS), direction == "toward"


def dem_paths(dem) -> list[str]:
    """The DEM files of `dem`: one path, a list of paths (tiles), or a folder (its rasters, sorted by name:
    ``.tif``, ``.hgt``, ``.hgt.zip``, ``.vrt`` ...). InputError when a folder holds none or a file is missing."""
    if isinstance(dem, (str, os.PathLike)):
        p = Path(dem)
        if p.is_dir():
            found = sorted(str(q) for q in p.iterdir() if q.name.lower().endswith(_DEM_SUFFIXES))
            if not found:
                raise InputError(f"dem: the folder {os.fspath(dem)} holds no elevation raster (looked for "
                                 f"{', '.join(_DEM_SUFFIXES)})")
            return found
        items = [p]
    else:
        try:
            items = [Path(q) for q in dem]
        except TypeError:
            raise InputError(f"dem: give a raster path, a list of tile paths or a folder of tiles; got {dem!r}") from None
        if not items:
            raise InputError("dem: the list of DEM tiles is empty")
    for q in items:
        if not q.exists():
            raise InputError(f"dem: {os.fspath(q)} does not exist")
    return [str(q) for q in items]


def read_elevation(dem, grid, resampling: str = "bilinear"):
    """The DEM `dem` (see :func:`dem_paths`) on `grid` (a :class:`careshed.Grid`): ``(elevation, report)`` with
    elevation float32 (H, W) metres, NaN where the DEM has no data, and report a dict (sources, valid_cells,
    min_m, max_m). Tiles are mosaicked through an in-memory VRT before the warp (seamless interpolation)."""
    paths = dem_paths(dem)
    return _core._read_elevation(paths, grid, str(resampling), progress=current_progress())


def _elevation(elevation, shape) -> np.ndarray:
    z = np.asarray(elevation)
    if z.shape != tuple(shape):
        raise InputError(f"elevation must have the friction's shape {tuple(shape)}; got {z.shape}")
    if z.dtype.kind not in "iuf":
        raise InputError(f"elevation must be numbers (metres, NaN = no data); got dtype {z.dtype}")
    return np.ascontiguousarray(z, dtype=np.float32)


def terrain_reach_lists(friction, elevation, sources, *, max_seconds, cell_size, neighbours=8,
                        start_offsets_seconds=None, model="tobler", rwalk=None, direction="toward"):
    """For each source searched alone on terrain, every cell reached within ``max_seconds`` (inclusive): the CSR
    arrays ``(offsets, cells, seconds)`` of :func:`careshed.arrays.travel_time_grid_reach_lists` (flat cell ids
    ascending, uint32; float32 seconds with the source's start offset), for the per-facility analyses (access,
    optimize) on a Study with a DEM. One bounded :func:`travel_time_terrain` per source, one after the other (the
    search itself uses the threads): its cost grows with the number of sources times the cells within reach."""
    if max_seconds is None or not np.isfinite(float(max_seconds)):
        raise InputError("max_seconds: per-source terrain searches need a finite cut-off (seconds)")
    src = np.asarray(sources).reshape(-1, 2)
    offs = (np.zeros(len(src)) if start_offsets_seconds is None
            else np.asarray(start_offsets_seconds, dtype=np.float64).reshape(-1))
    if offs.shape[0] != len(src):
        raise InputError(f"start_offsets_seconds: {offs.shape[0]} values for {len(src)} sources")
    offsets = np.zeros(len(src) + 1, dtype=np.uint64)
    cells, seconds = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # cells without elevation: said once by the caller
        for j in range(len(src)):
            t, _ = travel_time_terrain(friction, elevation, src[j:j + 1], cell_size=cell_size, neighbours=neighbours,
                                       max_seconds=float(max_seconds), start_offsets_seconds=offs[j:j + 1],
                                       model=model, rwalk=rwalk, direction=direction)
            flat = np.flatnonzero(np.isfinite(t.ravel())).astype(np.uint32)
            cells.append(flat)
            seconds.append(t.ravel()[flat].astype(np.float32))
            offsets[j + 1] = offsets[j] + flat.size
    return (offsets, np.concatenate(cells) if cells else np.zeros(0, np.uint32),
            np.concatenate(seconds) if seconds else np.zeros(0, np.float32))


def travel_time_terrain(friction, elevation, sources, *, cell_size, neighbours=8, max_seconds=None,
                        start_offsets_seconds=None, model="tobler", rwalk=None, direction="toward"):
    """Seconds to (``direction="toward"``) or from (``"away"``) the nearest source, and its index, per cell, with
    uphill and downhill moves costed differently (see the module docstring).

    Same arguments and outputs as :func:`careshed.arrays.travel_time_grid`, plus `elevation` ((H, W) metres,
    NaN = no data; float32 is used without a copy), `model`, `rwalk` and `direction`.
    """
    f, s, dx, dy, row_dx, nb, t, o = prepare_search(friction, sources, cell_size, neighbours, max_seconds,
                                                    start_offsets_seconds)
    z = _elevation(elevation, f.shape)
    mdl, coeffs, toward = terrain_options(model, rwalk, direction, what="travel_time_terrain")
    lost = int(np.count_nonzero(np.isfinite(f) & np.isnan(z)))
    if lost:
        warnings.warn(f"{lost} passable cell(s) have no elevation (DEM nodata, or outside the DEM) and are treated as "
                      "impassable; give a DEM covering the whole grid", RuntimeWarning, stacklevel=2)
    buf, _stats = _core._raster_travel_time_terrain(f, z, s, dx, dy, row_dx, nb, t, o, model=mdl, rwalk=coeffs,
                                                    toward_sources=toward, progress=current_progress(),
                                                    max_memory_bytes=current_max_memory())
    return buf[..., 1].view(np.float32), buf[..., 0]
