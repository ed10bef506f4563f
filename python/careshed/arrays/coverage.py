"""Coverage by zone, the ambulance count check and isochrone polygons — array-level functions.

These work on arrays that are already on one analysis grid: response seconds and nearest station (from
:func:`careshed.arrays.travel_time_grid` with the stations' dispatch + turnout as source offsets, so the seconds ARE
response times), people per cell, zones per cell (a :class:`careshed.zonal.ZoneRaster` or a plain zone-index
array) and optionally a class per cell (urban/rural...). :func:`careshed.reach` builds the whole study on them.

Definitions (all population-weighted; see ``core/include/careshed/coverage.hpp`` and docs/coverage.md):

* **covered**: response time <= the threshold of the cell's class — thresholds are INCLUSIVE.
* **uncovered** = population − covered (reachable but too late, plus unreachable); **unreachable**: no time.
* **mean response**: over the people who are reached at all (the unreachable are in ``unreachable``).
* **p90 response**: the smallest t with population(time <= t) >= 90 % of the zone's population, counting
  unreachable people as +inf — so it is ``inf`` when more than 10 % are unreachable. Computed with 1-second bins
  (``bin_seconds``): never below the exact value and less than one bin above it.
* **curve**: covered share at every whole minute m = 0..curve_max_minutes (time <= 60·m s), whatever the class.
* A cell cut by zone boundaries (area-fraction rule) gives population × fraction to each of its zones; cells in
  no zone count nowhere (also not in the station table). The region row is the sum of the zones.
"""
from __future__ import annotations

from typing import Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd

from .. import _core
from ..progress import current as current_progress
from ..constants import NO_CLASS, RESIDENTS_PER_VEHICLE
from ..errors import InputError
from ..io.vector import from_wkb
from .zonal import zone_arrays

__all__ = ["CoverageTables", "coverage_by_zone", "ambulance_check", "isochrones"]

class CoverageTables(NamedTuple):
    """What :func:`coverage_by_zone` returns (a named tuple: ``zones, stations, curve, bin_seconds = ...``).

    Attributes:
        zones: one row per zone, then the region row; see :func:`coverage_by_zone` for the columns.
        stations: one row per station: ``station``, ``population`` (people whose nearest station it is),
            ``covered_population`` (of those, within their cell's threshold), ``covered_share``.
        curve: covered share (0..1) by minute: index ``minute`` 0..curve_max_minutes, one column per zone
            label and the region last.
        bin_seconds: accuracy of the p90 columns (histogram bin width in seconds, normally 1).
    """

    zones: pd.DataFrame
    stations: pd.DataFrame
    curve: pd.DataFrame
    bin_seconds: float


def _thresholds_s(thresholds_min) -> list[float]:
    """Minutes per class index (a number = one class; a sequence indexed by class; a dict {class: minutes}
    whose keys are 0..C-1) → seconds per class."""
    if isinstance(thresholds_min, Mapping):
        try:
            keys = sorted(int(k) for k in thresholds_min)
        except (TypeError, ValueError) as exc:
            raise InputError(f"thresholds_min: dict keys must be class indices (0, 1, ...), got "
                             f"{list(thresholds_min)!r}") from exc
        if keys != list(range(len(keys))):
            missing = sorted(set(range(max(keys) + 1)) - set(keys)) if keys else [0]
            raise InputError(f"thresholds_min: give a threshold for every class 0..{max(keys) if keys else 0}; "
                             f"missing class(es) {missing}")
        values = [thresholds_min[k] if k in thresholds_min else thresholds_min[str(k)] for k in keys]
    elif np.isscalar(thresholds_min):
        values = [thresholds_min]
    else:
        values = list(thresholds_min)
    if not values:
        raise InputError("thresholds_min: give at least one threshold in minutes (e.g. 15, or [11, 15] for "
                         "urban/rural)")
    out = []
    for c, v in enumerate(values):
        try:
            m = float(v)
        except (TypeError, ValueError) as exc:
            raise InputError(f"thresholds_min: the threshold of class {c} is not a number: {v!r}") from exc
        if not (m > 0 and np.isfinite(m)):
            raise InputError(f"thresholds_min: the threshold of class {c} must be a positive number of minutes, "
                             f"got {v!r}")
        out.append(m * 60.0)
    return out


def _names(names, n: int, what: str, default_prefix: str) -> list:
    if names is None:
        return [f"{default_prefix}{i}" if default_prefix else i for i in range(n)]
    if isinstance(names, Mapping):
        names = [names.get(i, f"{default_prefix}{i}") for i in range(n)]
    names = list(names)
    if len(names) != n:
        raise InputError(f"{what}: expected {n} names, got {len(names)}")
    return names


def coverage_by_zone(seconds, nearest, population, zones, thresholds_min, classes=None,
                     curve_max_minutes: int = 60, *, zone_ids: Sequence | None = None,
                     class_names: Sequence | Mapping | None = None, station_ids: Sequence | None = None,
                     n_stations: int | None = None, region_label="region") -> CoverageTables:
    """Who is covered, per zone and for the region, in one pass over the grid.

    Args:
        seconds: response seconds per cell, shape (H, W) (float32 as :func:`careshed.arrays.travel_time_grid` gives;
            other dtypes are converted), ``inf`` = unreachable. NaN or negative → InputError.
        nearest: index of the station each time comes from, int (H, W), -1 exactly where ``seconds`` is inf; or
            ``None`` (no station table).
        population: people per cell (H, W), float32 or float64; NaN = no data (0 people); negative → InputError.
        zones: a :class:`careshed.zonal.ZoneRaster` (from ``careshed.rasterize_zones``, either rule), a dict with
            ``zone``/``split_cell``/``split_zone``/``split_fraction``(/``n_zones``), or an int array (H, W) of zone
            indices (-1 = in no zone).
        thresholds_min: response-time standard in MINUTES per class: one number for every cell, a sequence
            indexed by class (``[11, 15]``: class 0 urban 11 min, class 1 rural 15 min), or a dict
            ``{0: 11, 1: 15}``.
        classes: class index per cell, uint8 (H, W); 255 = no class (uses class 0); ``None``: all class 0.
            A populated cell whose class has no threshold → InputError naming the class.
        curve_max_minutes: the curve covers minutes 0..curve_max_minutes inclusive.
        zone_ids: labels of the zones (default: the ZoneRaster's ``ids`` or 0..n-1); also fixes n_zones.
        class_names: names used in column suffixes (sequence or {index: name}); default ``class0``, ``class1``...
        station_ids: labels of the stations (default 0..n-1); also fixes n_stations.
        n_stations: size of the station table (default: ``len(station_ids)`` or ``nearest.max() + 1``).
        region_label: label of the region row / curve column.

    Returns:
        :class:`CoverageTables` ``(zones, stations, curve, bin_seconds)``. ``zones`` columns: ``zone``,
        ``population``, ``covered``, ``covered_share``, ``uncovered``, ``unreachable``, ``mean_response_s``,
        ``mean_response_min`` (reached people only), ``p90_response_s``, ``p90_response_min`` (inf: > 10 %
        unreachable), then per class ``population_<name>``, ``covered_<name>``, ``covered_share_<name>``. Shares
        are fractions (0..1); NaN where a zone (or class) has no people. The last row is the region.
    """
    seconds = np.ascontiguousarray(seconds, dtype=np.float32)
    if seconds.ndim != 2:
        raise InputError(f"seconds: expected a 2-D (rows, cols) array, got shape {seconds.shape}")
    shape = seconds.shape
    zone, split_cell, split_zone, split_fraction, n_zones = zone_arrays(zones, shape)
    if zone_ids is None and getattr(zones, "ids", None) is not None:
        zone_ids = list(zones.ids)
    if n_zones is None:
        if zone_ids is not None:
            n_zones = len(zone_ids)
        else:
            hi = int(zone.max()) if zone.size else -1
            if split_zone.size:
                hi = max(hi, int(split_zone.max()))
            n_zones = max(hi + 1, 1)
    if zone_ids is not None and len(zone_ids) != n_zones:
        raise InputError(f"zone_ids: expected {n_zones} labels (one per zone), got {len(zone_ids)}")
    thr_s = _thresholds_s(thresholds_min)
    pop = np.asarray(population)
    if pop.shape != shape:
        raise InputError(f"population: expected shape {shape} like seconds, got {pop.shape}")
    if pop.dtype != np.float32:
        pop = pop.astype(np.float64, copy=False)
    pop = np.ascontiguousarray(pop)
    if nearest is not None:
        nearest = np.asarray(nearest)
        if nearest.shape != shape:
            raise InputError(f"nearest: expected shape {shape} like seconds, got {nearest.shape}")
        nearest = np.ascontiguousarray(nearest, dtype=np.int32)
        if n_stations is None:
            n_stations = len(station_ids) if station_ids is not None else (int(nearest.max()) + 1 if nearest.size
                                                                          else 0)
        n_stations = max(int(n_stations), 0)
    else:
        n_stations = 0
    if station_ids is not None and len(station_ids) != n_stations:
        raise InputError(f"station_ids: expected {n_stations} labels, got {len(station_ids)}")
    if classes is not None:
        classes = np.asarray(classes)
        if classes.shape != shape:
            raise InputError(f"classes: expected shape {shape} like seconds, got {classes.shape}")
        if classes.dtype != np.uint8:
            if not np.issubdtype(classes.dtype, np.integer) or classes.size and (classes.min() < 0 or
                                                                                classes.max() > NO_CLASS):
                raise InputError("classes: expected class indices 0..254 (255 = no class) as integers")
            classes = classes.astype(np.uint8)
        classes = np.ascontiguousarray(classes)

    r = _core.coverage_by_zone(seconds, nearest, pop, zone, split_cell, split_zone, split_fraction, int(n_zones),
                               thr_s, classes, int(n_stations), int(curve_max_minutes), progress=current_progress())

    labels = list(zone_ids) if zone_ids is not None else list(range(n_zones))
    labels.append(region_label)
    cnames = _names(class_names, len(thr_s), "class_names", "class")
    table = {
        "zone": labels,
        "population": r["population"],
        "covered": r["covered"],
        "covered_share": r["covered_share"],
        "uncovered": r["uncovered"],
        "unreachable": r["unreachable"],
        "mean_response_s": r["mean_seconds"],
        "mean_response_min": r["mean_seconds"] / 60.0,
        "p90_response_s": r["p90_seconds"],
        "p90_response_min": r["p90_seconds"] / 60.0,
    }
    for j, c in enumerate(cnames):
        table[f"population_{c}"] = r["population_by_class"][:, j]
        table[f"covered_{c}"] = r["covered_by_class"][:, j]
        table[f"covered_share_{c}"] = r["covered_share_by_class"][:, j]
    zones_df = pd.DataFrame(table)

    sp, sc = r["station_population"], r["station_covered_population"]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(sp > 0, sc / np.where(sp > 0, sp, 1.0), np.nan)
    stations_df = pd.DataFrame({
        "station": list(station_ids) if station_ids is not None else np.arange(n_stations),
        "population": sp,
        "covered_population": sc,
        "covered_share": share,
    })
    curve_df = pd.DataFrame(r["curve"].T, index=pd.RangeIndex(int(curve_max_minutes) + 1, name="minute"),
                            columns=labels)
    return CoverageTables(zones_df, stations_df, curve_df, float(r["bin_seconds"]))


def ambulance_check(zone_population, zone_vehicles, residents_per_vehicle: float = RESIDENTS_PER_VEHICLE, *,
                    zone_ids: Sequence | None = None) -> pd.DataFrame:
    """Vehicles per zone against one per ``residents_per_vehicle`` residents (the plan: 30,000).

    Args:
        zone_population: people per zone (e.g. ``tables.zones.population`` without the region row).
        zone_vehicles: vehicles per zone (e.g. ``np.bincount(station_zone, weights=vehicles)``).
        residents_per_vehicle: residents one vehicle serves (> 0).
        zone_ids: labels (default 0..n-1).

    Returns:
        DataFrame ``zone``, ``population``, ``vehicles``, ``needed`` = ceil(population / residents_per_vehicle),
        ``shortfall`` = max(0, needed − vehicles) (whole vehicles).
    """
    pop = np.ascontiguousarray(zone_population, dtype=np.float64).ravel()
    veh = np.ascontiguousarray(zone_vehicles, dtype=np.float64).ravel()
    r = _core.ambulance_check(pop, veh, float(residents_per_vehicle))
    ids = list(zone_ids) if zone_ids is not None else list(range(len(pop)))
    if len(ids) != len(pop):
        raise InputError(f"zone_ids: expected {len(pop)} labels, got {len(ids)}")
    return pd.DataFrame({"zone": ids, "population": pop, "vehicles": veh, "needed": r["needed"],
                         "shortfall": r["shortfall"]})


def isochrones(seconds, grid, thresholds_min, *, cumulative: bool = False, eight_connected: bool = False,
               simplify: bool = False):
    """Isochrone polygons for DISPLAY (people are counted on the grid, never in these polygons).

    Args:
        seconds: response seconds (H, W) on ``grid`` (inf = unreachable).
        grid: the :class:`careshed.Grid` of ``seconds``.
        thresholds_min: increasing minutes, e.g. ``[11, 15, 30]``.
        cumulative: ``False`` (default): rings that tile — band k holds T(k-1) < t <= Tk (band 1 from 0);
            ``True``: nested bands t <= Tk.
        eight_connected: join cells touching only at a corner.
        simplify: simplify outlines by half a cell (topology-preserving); areas then differ slightly from
            ``cells`` × cell area.

    Returns:
        GeoDataFrame in the grid's CRS, one row per threshold: ``band`` (1..n), ``from_min``, ``to_min``,
        ``label``, ``cells``, ``area_m2`` (CRS units², m² on a metric grid), ``geometry`` (valid MultiPolygon,
        holes kept; empty when no cell is in the band).
    """
    import geopandas as gpd

    seconds = np.ascontiguousarray(seconds, dtype=np.float32)
    if np.isscalar(thresholds_min):
        thresholds_min = [thresholds_min]
    bands = _core.isochrone_polygons(seconds, grid, [float(t) for t in thresholds_min], cumulative=bool(cumulative),
                                     eight_connected=bool(eight_connected), simplify=bool(simplify),
                                     progress=current_progress())
    lo = [b["from_minutes"] for b in bands]
    hi = [b["to_minutes"] for b in bands]
    label = [f"<= {h:g} min" if cumulative else f"{a:g}-{h:g} min" for a, h in zip(lo, hi)]
    crs = getattr(grid, "crs", None) if not isinstance(grid, tuple) else grid[3]
    return gpd.GeoDataFrame({
        "band": np.arange(1, len(bands) + 1),
        "from_min": lo,
        "to_min": hi,
        "label": label,
        "cells": np.array([b["cells"] for b in bands], dtype=np.int64),
        "area_m2": np.array([b["area"] for b in bands], dtype=np.float64),
    }, geometry=from_wkb([b["wkb"] for b in bands]), crs=crs or None)
