"""Nearest-facility catchments and capacity-aware coverage — array-level functions.

* :func:`catchments` — every cell belongs to the facility it reaches first by TRAVEL TIME (the ``nearest``
  grid of :func:`careshed.arrays.travel_time_grid`; ties to the lowest facility index, unreachable cells to none).
  Per facility: catchment population, cells, area (km², per-row cell areas on lon/lat grids), resources per
  1000 residents of the catchment, population-weighted mean and 90th-percentile minutes (the p90 of
  :func:`careshed.coverage_by_zone`, computed by the same code), and display polygons on request.
* :func:`capacity_coverage` — the WHO AccessMod "geographic coverage" analysis: facilities in a chosen order each
  absorb the REMAINING population in one-minute bands of travel time from them until their capacity is used up or
  ``max_minutes`` is reached (inclusive: a cell at exactly 60 min 0 s is coverable with ``max_minutes=60``); the
  last band is taken fractionally (every cell of it gives the same share of its remaining people).

The exact rules are in ``core/include/careshed/catchment.hpp`` / ``capacity.hpp`` and ``docs/catchments.md``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from .. import _core
from ..progress import current as current_progress
from ..errors import InputError, renamed_keyword
from ..io.vector import from_wkb
from .travel_time import prepare_search
from .zonal import zone_arrays

__all__ = ["CatchmentTable", "catchments", "CapacityCoverage", "capacity_coverage"]


class CatchmentTable(pd.DataFrame):
    """The per-facility table of :func:`catchments` (a pandas DataFrame) with two extra attributes:

    * ``polygons`` — a GeoDataFrame (facility, cells, area_km2, geometry in the grid CRS) when
      ``polygons=True`` was asked, else ``None``;
    * ``totals`` — dict: ``total_population``, ``reached_population``, ``unreached_population`` (people in
      cells no facility reaches), ``bin_seconds`` (resolution of the p90 column).
    """

    _metadata = ["polygons", "totals"]

    @property
    def _constructor(self):
        return CatchmentTable


def _grid_2d(a, what: str, dtype=None) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 2:
        raise InputError(f"{what}: expected a 2-D (rows, cols) array, got shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=dtype)


def _population(population, shape) -> np.ndarray:
    pop = np.asarray(population)
    if pop.shape != shape:
        raise InputError(f"population: expected shape {shape} like the travel-time grid, got {pop.shape}")
    if pop.dtype == np.float32:
        return np.ascontiguousarray(pop)
    if pop.dtype.kind not in "iuf":
        raise InputError(f"population: expected numbers of people per cell, got dtype {pop.dtype}")
    return np.ascontiguousarray(pop, dtype=np.float64)


def _row_areas_km2(grid, shape):
    if grid is None:
        return None
    if tuple(grid.shape) != tuple(shape):
        raise InputError(f"grid: its shape is {grid.shape}, but the arrays have shape {tuple(shape)}")
    return np.ascontiguousarray(np.asarray(grid.row_cell_widths_m()) * np.asarray(grid.row_cell_heights_m()) / 1e6)


def _resources(resources, facilities, n: int):
    """{name: (n,) float64} from a dict of arrays, or column names of ``facilities``."""
    if resources is None:
        return {}
    if isinstance(resources, str):
        resources = [resources]
    if isinstance(resources, Mapping):
        items = list(resources.items())
    else:
        if facilities is None or not hasattr(facilities, "columns"):
            raise InputError("resources: give a dict {name: values per facility}, or column names together with "
                             "a facilities DataFrame")
        missing = [c for c in resources if c not in facilities.columns]
        if missing:
            raise InputError(f"resources: no column(s) {missing} in facilities; it has {list(facilities.columns)}")
        items = [(c, facilities[c]) for c in resources]
    out = {}
    for name, values in items:
        v = np.asarray(values, dtype=np.float64).ravel()
        if v.shape != (n,):
            raise InputError(f"resources[{name!r}]: expected one value per facility ({n}), got {v.shape[0]}")
        bad = np.flatnonzero(~(np.isfinite(v) & (v >= 0)))
        if bad.size:
            raise InputError(f"resources[{name!r}]: facility {int(bad[0])} has {v[bad[0]]}; give finite values >= 0")
        out[str(name)] = v
    return out


def catchments(seconds, nearest, population, grid=None, facilities=None, resources=None, *, n_facilities=None,
               polygons: bool = False, eight_connected: bool = False, simplify: bool = False) -> CatchmentTable:
    """Nearest-facility catchments on the travel-time field.

    Parameters
    ----------
    seconds, nearest : (H, W) float32 seconds and int32 facility index from :func:`careshed.arrays.travel_time_grid`
        (``inf`` / ``-1`` where unreachable). Use the two outputs of ONE search.
    population : (H, W) people per cell (NaN = no data, counted as 0; negative → InputError).
    grid : the :class:`careshed.Grid` of the arrays: needed for ``area_km2`` (per-row cell areas on lon/lat grids)
        and for polygons. Without it ``area_km2`` is NaN.
    facilities : optional DataFrame/GeoDataFrame with one row per facility (in source order): its index labels
        the rows, and ``resources`` may name its columns.
    resources : dict ``{name: values per facility}`` or column name(s) of ``facilities``: each gives a column
        ``<name>`` and ``<name>_per_1000`` = resource per 1000 residents of the catchment (NaN when nobody lives
        in the catchment).
    n_facilities : number of facilities (default: ``len(facilities)``, else ``nearest.max() + 1``); facilities
        that are nobody's nearest still get a row (population 0).
    polygons : also dissolve the nearest grid into one valid MultiPolygon per facility (display only), as the
        ``.polygons`` GeoDataFrame. eight_connected / simplify: as :func:`careshed.isochrones`.

    Returns
    -------
    CatchmentTable : columns ``facility`` (0..n-1), ``population``, ``cells``, ``area_km2``, ``mean_minutes``,
        ``p90_minutes`` (upper edge of the 1-s bin reaching 90 % of the catchment's people, in minutes; NaN for
        empty catchments), the resource columns; ``.totals`` and ``.polygons`` (see :class:`CatchmentTable`).
    """
    secs = _grid_2d(seconds, "seconds", np.float32)
    near = _grid_2d(nearest, "nearest")
    if near.shape != secs.shape:
        raise InputError(f"nearest: expected shape {secs.shape} like seconds, got {near.shape}")
    if near.dtype.kind not in "iu":
        raise InputError(f"nearest: expected integer facility indices (-1 = unreachable), got dtype {near.dtype}")
    near = near.astype(np.int32, copy=False)
    pop = _population(population, secs.shape)
    if n_facilities is None:
        n_facilities = len(facilities) if facilities is not None else int(near.max()) + 1 if near.size else 0
    n = int(n_facilities)
    if n < 1:
        raise InputError("n_facilities: no facility (nearest is -1 everywhere); give n_facilities or facilities")
    if near.size and int(near.max()) >= n:
        raise InputError(f"nearest holds facility index {int(near.max())} but there are only {n} facilities")
    res = _resources(resources, facilities, n)
    res_matrix = np.ascontiguousarray(np.column_stack(list(res.values()))) if res else None
    areas = _row_areas_km2(grid, secs.shape)
    r = _core.catchment_stats(secs, near, pop, n, areas, res_matrix, progress=current_progress())
    cols = {
        "facility": np.arange(n),
        "population": r["population"],
        "cells": r["cells"],
        "area_km2": r["area_km2"],
        "mean_minutes": r["mean_seconds"] / 60.0,
        "p90_minutes": r["p90_seconds"] / 60.0,
    }
    for k, (name, values) in enumerate(res.items()):
        cols[name] = values
        cols[f"{name}_per_1000"] = r["resources_per_1000"][:, k]
    index = facilities.index if facilities is not None and hasattr(facilities, "index") else None
    table = CatchmentTable(cols, index=index)
    table.totals = {k: float(r[k]) for k in
                    ("total_population", "reached_population", "unreached_population", "bin_seconds")}
    table.polygons = None
    if polygons:
        if grid is None:
            raise InputError("polygons=True needs the grid (careshed.Grid) of the arrays")
        import geopandas as gpd

        polys = _core.catchment_polygons(near, grid, n, bool(eight_connected), bool(simplify),
                                         progress=current_progress())
        cell_km2 = areas  # per-row areas: polygon areas in km² from the cells, valid on any CRS
        table.polygons = gpd.GeoDataFrame(
            {"facility": [p["facility"] for p in polys],
             "cells": [p["cells"] for p in polys],
             "area_km2": r["area_km2"] if cell_km2 is not None else np.full(n, np.nan)},
            geometry=from_wkb([p["wkb"] for p in polys]), crs=grid.crs or None, index=index)
    return table


@dataclass
class CapacityCoverage:
    """What :func:`capacity_coverage` returns.

    Attributes:
        facilities: one row per facility (facility index order): ``facility``, ``rank`` (processing position,
            0 = first), ``capacity``, ``reachable_population`` (initial people within max_minutes, facility alone),
            ``order_population`` (people within order_minutes, for ``order="population"``), ``covered``,
            ``capacity_used``, ``capacity_remaining``, ``exhausted`` (bool), ``exhausted_minutes`` (upper edge of
            the band in which the capacity ran out, or max_minutes when it did not), ``cells_reached``.
        uncovered: (H, W) float64 people left uncovered per cell (NaN where population is NaN).
        population: the (H, W) population the analysis ran on.
        zones: per-zone table (``zone``, ``population``, ``covered``, ``covered_share``) or None.
        processing_order: facility indices in the order they were processed.
        total_population, total_covered: people on the grid and covered by all facilities.
        pairs: (facility, cell) pairs searched (memory 8 bytes each).
        max_minutes, band_minutes: the rules used.
    """

    facilities: pd.DataFrame
    uncovered: np.ndarray
    population: np.ndarray
    zones: pd.DataFrame | None
    processing_order: np.ndarray
    total_population: float
    total_covered: float
    pairs: int
    max_minutes: float
    band_minutes: float
    notes: list = field(default_factory=list)

    @property
    def covered(self) -> np.ndarray:
        """(H, W) people covered per cell: population − uncovered (NaN where population is NaN)."""
        return self.population - self.uncovered

    @property
    def covered_share(self) -> float:
        return self.total_covered / self.total_population if self.total_population > 0 else math.nan

    def __repr__(self) -> str:
        return (f"CapacityCoverage({len(self.facilities)} facilities, {self.total_covered:,.0f} of "
                f"{self.total_population:,.0f} people covered within {self.max_minutes:g} min, "
                f"bands of {self.band_minutes:g} min, {self.pairs:,} pairs)")


def _order_args(order, n: int, order_descending: bool):
    if isinstance(order, str):
        if order not in ("index", "population"):
            raise InputError(f"order must be 'index', 'population' or one value per facility; got {order!r}")
        return order, None
    key = np.asarray(order, dtype=np.float64).ravel()
    if key.shape != (n,):
        raise InputError(f"order: expected one value per facility ({n}), got {key.shape[0]}")
    if np.isnan(key).any():
        raise InputError(f"order: facility {int(np.flatnonzero(np.isnan(key))[0])} has NaN; give a number for each")
    # Stable: equal keys keep the lowest facility index first.
    perm = np.argsort(-key if order_descending else key, kind="stable").astype(np.int32)
    return "given", np.ascontiguousarray(perm)


def capacity_coverage(friction, sources, population, capacity, *, max_minutes, cell_size=None,
                      band_minutes: float = 1.0, order="index", order_descending: bool = True,
                      order_minutes: float | None = None, zones=None, zone_ids=None, neighbours: int = 8,
                      start_offsets_minutes=None, facilities=None, offsets_minutes=None) -> CapacityCoverage:
    """Capacity-aware coverage (AccessMod "geographic coverage").

    Parameters
    ----------
    friction : a :class:`careshed.FrictionSurface` or a 2-D array of seconds per metre (NaN impassable; then give
        ``cell_size``).
    sources : (n, 2) integer (row, col) cells of the facilities.
    population : (H, W) people per cell (NaN = no data).
    capacity : (n,) people each facility can serve (e.g. beds × patients per bed); ``inf`` = no limit.
    max_minutes : maximum travel time, INCLUSIVE (a cell at exactly max_minutes is coverable).
    cell_size : (dx, dy) metres (dx may be a per-row array for lon/lat grids); taken from a FrictionSurface.
    band_minutes : width of the time bands (default 1 minute): band k holds times in ((k-1)·b, k·b] (band 0: time
        0); 0 = one band per distinct time. The last band is taken fractionally.
    order : ``"index"`` (facility order), ``"population"`` (descending initial population within
        ``order_minutes``, default max_minutes, ties to the lowest index) or one value per facility (a field, e.g.
        a priority or beds), processed descending (``order_descending=False``: ascending), ties lowest index.
    zones : optional :class:`careshed.ZoneRaster` or (H, W) zone-index array (-1 = none) for the per-zone covered
        share; ``zone_ids`` labels them.
    start_offsets_minutes : optional (n,) start offset per facility (dispatch + turnout), minutes
        (``offsets_minutes=`` is its former name, deprecated).
    facilities : optional DataFrame, one row per facility: its index labels the facility table.
    """
    if hasattr(friction, "seconds_per_metre"):
        if cell_size is None:
            grid = friction.grid
            cell_size = ((np.asarray(grid.row_cell_widths_m()), float(np.mean(grid.row_cell_heights_m())))
                         if grid.is_geographic else friction.cell_size)
        friction = friction.seconds_per_metre
    if cell_size is None:
        raise InputError("cell_size: give (dx, dy) in metres when friction is a plain array")
    if np.isscalar(cell_size):
        cell_size = (float(cell_size), float(cell_size))
    try:
        max_minutes = float(max_minutes)
        band_minutes = float(band_minutes)
    except (TypeError, ValueError):
        raise InputError("max_minutes and band_minutes must be numbers of minutes") from None
    if not (math.isfinite(max_minutes) and max_minutes >= 0):
        raise InputError(f"max_minutes must be finite and >= 0; got {max_minutes}")
    if not (math.isfinite(band_minutes) and band_minutes >= 0):
        raise InputError(f"band_minutes must be finite and >= 0 (0 = one band per distinct time); got {band_minutes}")
    start_offsets_minutes = renamed_keyword(start_offsets_minutes, offsets_minutes, "start_offsets_minutes",
                                            "offsets_minutes", "capacity_coverage")
    offsets_s = (None if start_offsets_minutes is None
                 else np.asarray(start_offsets_minutes, dtype=np.float64) * 60.0)
    f, s, dx, dy, row_dx, nb, t, o = prepare_search(friction, sources, cell_size, neighbours, max_minutes * 60.0, offsets_s,
                                               required_cutoff=True)
    n = s.shape[0]
    if n < 1:
        raise InputError("sources: give at least one facility")
    cap = np.ascontiguousarray(np.asarray(capacity, dtype=np.float64).ravel())
    if cap.shape != (n,):
        raise InputError(f"capacity: expected one value per facility ({n}), got {cap.shape[0]}")
    bad = np.flatnonzero(~(cap >= 0))
    if bad.size:
        raise InputError(f"capacity of facility {int(bad[0])} is {cap[bad[0]]}; give people >= 0 (inf = no limit)")
    pop = _population(population, f.shape)
    order_by, perm = _order_args(order, n, order_descending)
    order_s = math.nan
    if order_minutes is not None:
        order_s = float(order_minutes) * 60.0
        if not (math.isfinite(order_s) and order_s >= 0):
            raise InputError(f"order_minutes must be finite and >= 0; got {order_minutes}")
    zone_args = {}
    n_zones = 0
    if zones is not None:
        zone, sc, sz, sf, nz = zone_arrays(zones, f.shape)
        if zone_ids is None and getattr(zones, "ids", None) is not None:
            zone_ids = list(zones.ids)
        n_zones = nz if nz is not None else (int(zone.max()) + 1 if zone.size and zone.max() >= 0 else 0)
        if zone_ids is not None:
            zone_ids = list(zone_ids)
            n_zones = max(n_zones, len(zone_ids))
        if n_zones < 1:
            raise InputError("zones: no zone index >= 0 in the zone grid")
        zone_args = dict(zone=zone, split_cell=sc, split_zone=sz, split_fraction=sf, n_zones=n_zones)
    r = _core.capacity_coverage(f, dx, dy, row_dx, s, pop, cap, t, band_minutes * 60.0, order_by, perm, order_s, nb,
                                o, **zone_args, progress=current_progress())
    index = facilities.index if facilities is not None and hasattr(facilities, "index") else None
    table = pd.DataFrame({
        "facility": np.arange(n),
        "rank": r["rank"],
        "capacity": cap,
        "reachable_population": r["reachable_population"],
        "order_population": r["order_population"],
        "covered": r["covered"],
        "capacity_used": r["capacity_used"],
        "capacity_remaining": r["capacity_remaining"],
        "exhausted": r["exhausted"].astype(bool),
        "exhausted_minutes": r["exhausted_seconds"] / 60.0,
        "cells_reached": r["cells_reached"],
    }, index=index)
    zone_table = None
    if zones is not None:
        zone_table = pd.DataFrame({
            "zone": zone_ids if zone_ids is not None else np.arange(n_zones),
            "population": r["zone_population"],
            "covered": r["zone_covered"],
            "covered_share": r["zone_covered_share"],
        })
    return CapacityCoverage(table, r["uncovered"], pop, zone_table, r["processing_order"],
                            float(r["total_population"]), float(r["total_covered"]), int(r["pairs"]), max_minutes,
                            band_minutes)
