"""Zones on the analysis grid, zonal sums, population grids and urban/rural classes.

Counting rules (see docs/population.md):

* ``rule="centre"`` — a cell belongs to the zone covering its centre (a centre on a shared boundary goes to
  the lowest zone index, as careshed's point-in-polygon (``_core.assign_points_to_zones``) decides for points);
* ``rule="fraction"`` — a cell counts in each zone by the exact share of its area inside it (as exactextract
  does): cells cut by a boundary are "split" (``zone == -2``) and listed with their fractions.

Everything is numpy in, numpy out, on a :class:`careshed.Grid`: arrays of shape ``grid.shape`` (rows, cols),
row 0 at the top. The C++ core does the work with the GIL released.

Example::

    grid = careshed.make_grid(counties.total_bounds, 100.0)     # UTM, 100 m cells
    zones = careshed.rasterize_zones(counties, grid, rule="fraction")
    pop = careshed.population_grid(grid, zones=zones, totals=counties["pop_census2020"])
    careshed.zonal_sum(pop.people, zones)                      # == the census totals
    cls = careshed.urban_rural(grid, population=pop.people)    # 0 rural, 1 urban cluster, 2 urban centre
"""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import _core
from ..progress import current as current_progress
from ..errors import CRSError, InputError
from ..constants import NO_CLASS
from ..io.raster import Grid, ReadReport, as_grid, read_raster
from ..io.vector import load, to_wkb

__all__ = ["ZoneRaster", "PopulationGrid", "rasterize_zones", "zone_arrays", "outside_as_zone", "zonal_sum",
           "population_grid",
           "urban_rural", "GHSL_RULES", "NO_CLASS", "check_population_raster"]

log = logging.getLogger("careshed")

#: GHSL Degree of Urbanisation stage-I rules, lowest class first: (min people per km², min cluster people,
#: connectivity). Class 1 = urban cluster (300 /km², 5 000 people, 8-connected), class 2 = urban centre
#: (1 500 /km², 50 000 people, 4-connected), class 0 = rural.
GHSL_RULES = ((300.0, 5000.0, 8), (1500.0, 50000.0, 4))


@dataclass(frozen=True)
class ZoneRaster:
    """Zones rasterised onto a grid (the arrays of the issue-4 contract).

    Attributes:
        zone: int32 ``grid.shape``: the zone index with weight 1, -1 = in no zone, -2 = split cell.
        split_cell, split_zone, split_fraction: one entry per (split cell, zone): flat cell id
            (``row * width + col``), zone index, fraction of the cell's area in that zone. Sorted by
            (cell, zone); empty for ``rule="centre"``.
        n_zones: number of zones (input order = zone index).
        rule: ``"centre"`` or ``"fraction"``.
        grid: the :class:`careshed.Grid`.
        ids: zone ids (from ``zone_id`` or the frame's index) when known, else ``None``.
        frame: the zones' frame when rasterised from a GeoDataFrame (``None`` otherwise).
    """

    zone: np.ndarray
    split_cell: np.ndarray
    split_zone: np.ndarray
    split_fraction: np.ndarray
    n_zones: int
    rule: str
    grid: Grid
    ids: list | None = None
    #: the zones' (Geo)DataFrame when rasterised from one, so fields can be named later (totals="pop")
    frame: object = field(default=None, repr=False, compare=False)

    def arrays(self) -> tuple:
        """(zone, split_cell, split_zone, split_fraction, n_zones) — the positional arguments the ``_core``
        functions take (``_core.zonal_sum(values, *zones.arrays())``)."""
        return (self.zone, self.split_cell, self.split_zone, self.split_fraction, self.n_zones)

    def cell_counts(self) -> np.ndarray:
        """Cells per zone (split cells by their fractions)."""
        return zonal_sum(np.ones(self.zone.shape), self)

    def __repr__(self) -> str:
        return (f"ZoneRaster({self.n_zones} zones on {self.zone.shape[1]} x {self.zone.shape[0]} cells, "
                f"rule={self.rule!r}, {len(self.split_cell)} split entries)")


@dataclass
class PopulationGrid:
    """People per cell on a grid.

    Attributes:
        people: float64 ``grid.shape``, people per cell; NaN = no data (raster cells no source covered).
        grid: the :class:`careshed.Grid`.
        source: ``"raster"`` or ``"zones"``.
        zones: the :class:`ZoneRaster` used when spread from zone totals.
        totals: the zone totals (float64) when spread from zones.
        report: a :class:`careshed.ReadReport` when read from a raster (source total, result total).
        notes: fall-backs taken (also logged on the ``careshed`` logger).
    """

    people: np.ndarray
    grid: Grid
    source: str
    zones: ZoneRaster | None = None
    totals: np.ndarray | None = None
    report: ReadReport | None = None
    notes: list = field(default_factory=list)

    @property
    def total(self) -> float:
        """Sum of people over valid cells."""
        return float(np.nansum(self.people))

    def zone_sums(self, zones: ZoneRaster | None = None) -> np.ndarray:
        """People per zone (by ``zones``, default the zones the grid was spread from)."""
        zones = zones if zones is not None else self.zones
        if zones is None:
            raise InputError("zone_sums: give the zones (careshed.rasterize_zones)")
        return zonal_sum(self.people, zones)

    def __repr__(self) -> str:
        return f"PopulationGrid({self.total:,.0f} people on {self.grid!r}, from {self.source})"


# ---- zones ------------------------------------------------------------------------------------------------

def _zone_wkb(zones, grid: Grid, *, layer=None, zone_id=None):
    """(list of WKB in the grid's CRS, ids or None, the frame or None)."""
    frame = None
    if isinstance(zones, (str, os.PathLike)):
        zones = load(zones, what="zones", layer=layer, table_ok=False)
    try:
        import geopandas as gpd
    except ImportError:  # pragma: no cover
        gpd = None
    if gpd is not None and isinstance(zones, (gpd.GeoDataFrame, gpd.GeoSeries)):
        frame = zones
        if zones.crs is None:
            raise CRSError("zones: the GeoDataFrame has no CRS; set one (gdf.set_crs('EPSG:4326'))")
        geoms = zones.geometry if isinstance(zones, gpd.GeoDataFrame) else zones
        geoms = geoms.to_crs(grid.crs)
        wkb = to_wkb(geoms, missing=None)
        if zone_id is not None:
            if zone_id not in getattr(zones, "columns", ()):
                raise InputError(f"zones: no field {zone_id!r}; fields: {', '.join(map(str, zones.columns))}")
            ids = list(zones[zone_id])
        else:
            ids = list(zones.index)
        return wkb, ids, frame
    # A sequence of WKB bytes or shapely geometries, already in the grid's CRS.
    try:
        return to_wkb(zones, missing=None), None, None
    except InputError:
        raise InputError("zones: expected a GeoDataFrame, a path, or a sequence of WKB bytes / shapely polygons")


def rasterize_zones(zones, grid: Grid, rule: str = "centre", *, zone_id: str | None = None,
                    layer: str | None = None) -> ZoneRaster:
    """Rasterise zone polygons onto ``grid``.

    Args:
        zones: a GeoDataFrame/GeoSeries (reprojected to the grid's CRS), a vector file path, or a sequence of
            WKB bytes / shapely (Multi)Polygons already in the grid's CRS. Row order = zone index.
        grid: the :class:`careshed.Grid`.
        rule: ``"centre"`` (cell centre in polygon; boundary → lowest index) or ``"fraction"`` (exact area
            fractions for the cells a boundary cuts).
        zone_id: field holding zone ids (kept in ``ZoneRaster.ids``); default the frame's index.

    Raises:
        InputError: invalid / empty / non-polygon zone (named by index), rotated grid, unknown rule.
    """
    grid = as_grid(grid)
    wkb, ids, frame = _zone_wkb(zones, grid, layer=layer, zone_id=zone_id)
    r = _core.rasterize_zones(wkb, grid, str(rule), progress=current_progress())
    return ZoneRaster(r["zone"], r["split_cell"], r["split_zone"], r["split_fraction"], int(r["n_zones"]),
                      r["rule"], grid, ids, frame if hasattr(frame, "columns") else None)


def _check_zones(zones) -> ZoneRaster:
    if not isinstance(zones, ZoneRaster):
        raise InputError(f"zones: expected a careshed.ZoneRaster (from careshed.rasterize_zones), got "
                         f"{type(zones).__name__}")
    return zones


def zone_arrays(zones, shape: tuple) -> tuple:
    """Normalise any accepted form of zones to the arrays the ``_core`` zone functions take.

    ``zones`` is a :class:`ZoneRaster`, an object or mapping with ``zone`` (and optionally ``split_cell``,
    ``split_zone``, ``split_fraction``, ``n_zones``), or a plain integer array of zone indices (-1 = no zone).
    ``shape`` is the (rows, cols) the zone grid must have (that of the seconds / friction grid).

    Returns ``(zone, split_cell, split_zone, split_fraction, n_zones)``: zone int32 C-contiguous ``shape``;
    split_cell int64, split_zone int32, split_fraction float64, all 1-D of equal length and sorted by
    (cell, zone) as the core requires; n_zones an int, or ``None`` when the input does not say.
    Raises :class:`careshed.InputError` for a wrong shape, non-integer zone indices or split arrays of
    different lengths.
    """
    get = None
    if isinstance(zones, Mapping):
        get = zones.get
    elif hasattr(zones, "zone"):
        def get(key, default=None):
            return getattr(zones, key, default)
    if get is not None:
        zone = get("zone")
        if zone is None:
            raise InputError("zones: expected a ZoneRaster (careshed.rasterize_zones), a dict with 'zone' (and "
                             "'split_cell', 'split_zone', 'split_fraction'), or a zone-index array")
        split_cell = get("split_cell", None)
        split_zone = get("split_zone", None)
        split_fraction = get("split_fraction", None)
        n_zones = get("n_zones", None)
    else:
        zone, split_cell, split_zone, split_fraction, n_zones = zones, None, None, None, None
    zone = np.ascontiguousarray(zone)
    if zone.shape != shape:
        raise InputError(f"zones: the zone grid has shape {zone.shape}, expected {shape} like seconds")
    if not np.issubdtype(zone.dtype, np.integer):
        raise InputError(f"zones: zone indices must be integers, got dtype {zone.dtype}")
    zone = zone.astype(np.int32, copy=False)
    split_cell = np.ascontiguousarray(np.zeros(0) if split_cell is None else split_cell, dtype=np.int64).ravel()
    split_zone = np.ascontiguousarray(np.zeros(0) if split_zone is None else split_zone, dtype=np.int32).ravel()
    split_fraction = np.ascontiguousarray(np.zeros(0) if split_fraction is None else split_fraction,
                                          dtype=np.float64).ravel()
    if not (len(split_cell) == len(split_zone) == len(split_fraction)):
        raise InputError(f"zones: split_cell, split_zone and split_fraction differ in length "
                         f"({len(split_cell)}, {len(split_zone)}, {len(split_fraction)})")
    if len(split_cell) > 1:
        order = np.lexsort((split_zone, split_cell))  # the core wants them sorted by (cell, zone)
        if np.any(order != np.arange(len(order))):
            split_cell, split_zone, split_fraction = split_cell[order], split_zone[order], split_fraction[order]
    return zone, split_cell, split_zone, split_fraction, (None if n_zones is None else int(n_zones))


def outside_as_zone(zones, population) -> tuple[dict, float]:
    """The zones plus one more, "outside every zone", holding what no zone holds, and the people in it.

    People living on the grid outside every zone (a coastline drawn inside the population raster's coast, a
    zone layer covering half the area) must be reported, not dropped: give the returned zones to
    :func:`careshed.coverage_by_zone` (or ``_core`` zone functions) and the last zone row counts them.

    Args:
        zones: any form :func:`zone_arrays` accepts (a :class:`ZoneRaster` from either rule).
        population: people per cell, ``zones``' shape; NaN = no people.

    Returns:
        ``(arrays, people_outside)``: a dict with ``zone``, ``split_cell``, ``split_zone``, ``split_fraction``
        and ``n_zones`` = n + 1, where zone index n takes every cell in no zone (weight 1) and, under the
        area-fraction rule, the share of each split cell that no zone covers (1 − the sum of its fractions,
        when > 1e-9); and the people of zone n (float). Zones 0..n-1 are unchanged.
    """
    shape = np.shape(population)
    zone, split_cell, split_zone, split_fraction, n_zones = zone_arrays(zones, shape)
    if n_zones is None:
        n_zones = int(max(zone.max(initial=-1), split_zone.max(initial=-1))) + 1
    people = np.nan_to_num(np.asarray(population, dtype=np.float64), nan=0.0)
    outside = n_zones
    new_zone = np.where(zone == -1, np.int32(outside), zone).astype(np.int32)
    people_outside = float(people[zone == -1].sum())
    if split_cell.size:
        cells, first = np.unique(split_cell, return_index=True)
        covered = np.add.reduceat(split_fraction, first)
        rest = 1.0 - covered
        gap = rest > 1e-9
        if gap.any():
            split_cell = np.concatenate([split_cell, cells[gap]])
            split_zone = np.concatenate([split_zone, np.full(int(gap.sum()), outside, dtype=np.int32)])
            split_fraction = np.concatenate([split_fraction, rest[gap]])
            order = np.lexsort((split_zone, split_cell))
            split_cell, split_zone, split_fraction = split_cell[order], split_zone[order], split_fraction[order]
            people_outside += float((people.ravel()[cells[gap]] * rest[gap]).sum())
    arrays = {"zone": new_zone, "split_cell": np.ascontiguousarray(split_cell, dtype=np.int64),
              "split_zone": np.ascontiguousarray(split_zone, dtype=np.int32),
              "split_fraction": np.ascontiguousarray(split_fraction, dtype=np.float64), "n_zones": n_zones + 1}
    return arrays, people_outside


def zonal_sum(values, zones: ZoneRaster) -> np.ndarray:
    """Per-zone sums of ``values`` (shape ``grid.shape``, float32 or float64; NaN skipped), each cell weighted
    1 or by its area fraction in the zone. Returns float64 of length ``zones.n_zones``."""
    zones = _check_zones(zones)
    v = np.asarray(values)
    if v.dtype != np.float32:
        v = np.ascontiguousarray(v, dtype=np.float64)
    return _core.zonal_sum(v, *zones.arrays())


# ---- population -------------------------------------------------------------------------------------------

def _grid_array(a, grid: Grid, what: str, dtype) -> np.ndarray:
    arr = np.asarray(a)
    if arr.shape != grid.shape:
        raise InputError(f"{what}: expected an array of shape {grid.shape} (the grid), got {arr.shape}")
    return np.ascontiguousarray(arr, dtype=dtype)


def _totals(totals, frame, n_zones: int) -> np.ndarray:
    if isinstance(totals, str):
        if frame is None or totals not in frame.columns:
            raise InputError(f"totals: {totals!r} names a field, but the zones are not a frame with that field")
        totals = frame[totals]
    t = np.asarray(totals, dtype=np.float64).reshape(-1)
    if t.shape[0] != n_zones:
        raise InputError(f"totals: {t.shape[0]} values for {n_zones} zones; give one total per zone, in zone order")
    bad = np.flatnonzero(~np.isfinite(t) | (t < 0))
    if bad.size:
        raise InputError(f"totals: zone {int(bad[0])} has total {t[bad[0]]}; totals must be finite and >= 0")
    return t


def _class_table(class_shares, n_zones: int):
    """(codes int32 (K,), shares float64 (n_zones, K)) from a dict {code: per-zone shares}, a DataFrame
    (columns = class codes, one row per zone, in zone order) or a (codes, matrix) pair."""
    if isinstance(class_shares, pd.DataFrame):
        codes = list(class_shares.columns)
        matrix = class_shares.to_numpy(dtype=np.float64)
    elif isinstance(class_shares, dict):
        codes = list(class_shares.keys())
        matrix = np.column_stack([np.asarray(class_shares[c], dtype=np.float64).reshape(-1) for c in codes])
    elif isinstance(class_shares, (tuple, list)) and len(class_shares) == 2:
        codes, matrix = list(class_shares[0]), np.asarray(class_shares[1], dtype=np.float64)
    else:
        raise InputError("class_shares: expected a dict {class code: per-zone shares}, a DataFrame (columns = "
                         "class codes, one row per zone) or (codes, matrix)")
    try:
        codes = np.asarray([int(c) for c in codes], dtype=np.int32)
    except (TypeError, ValueError) as exc:
        raise InputError(f"class_shares: class codes must be integers, got {codes!r}") from exc
    matrix = np.atleast_2d(matrix)
    if matrix.shape != (n_zones, codes.size):
        raise InputError(f"class_shares: expected {n_zones} rows (zones) x {codes.size} classes, got {matrix.shape}")
    return codes, np.ascontiguousarray(matrix)


def population_grid(grid: Grid, raster=None, *, band: int = 1, zones=None, totals=None, rule: str = "centre",
                    zone_id: str | None = None, weights=None, class_grid=None, class_shares=None,
                    max_iterations: int = 200) -> PopulationGrid:
    """People per cell on ``grid``, from a population raster or from zone totals.

    From a raster (``raster=path``; WorldPop/GHS-POP, any GDAL format and CRS): warped with the sum-preserving
    read, nodata ignored, negative values refused (:class:`careshed.InputError` naming the pixel); cells the
    source does not cover are NaN. ``report`` compares the source total inside the grid with the result.

    From a raster AND zone totals (``raster=`` with ``zones=``/``totals=``): the raster (read as above) is the
    weight and the zone totals the amounts — a WorldPop grid rescaled to census totals.

    From zone totals (``zones=`` a :class:`ZoneRaster`, or polygons rasterised here with ``rule``;
    ``totals=`` one number per zone, or the name of a field of the zones frame): each zone's people are
    spread over its cells —

    * uniformly (default);
    * by ``weights`` (array of ``grid.shape`` or a raster path read with "average"; >= 0, NaN = 0);
    * by ``class_grid`` (integer array or raster path read with "nearest"; negative/NaN = none) and
      ``class_shares`` (dict ``{class code: shares per zone}`` or a DataFrame with class-code columns):
      each class's share of the zone is spread over the zone's cells of that class (by ``weights`` if given).
      A share whose class has no cell in the zone is spread over the whole zone (logged note).

    The result always reconciles: ``zonal_sum(people, zones) == totals`` under the zones' counting rule.
    """
    grid = as_grid(grid)
    report = None
    if raster is not None:
        people, rep = _core.population_from_raster(raster, grid, int(band))
        report = ReadReport(**rep)
        if zones is None and totals is None:
            return PopulationGrid(people, grid, "raster", report=report)
        # raster + zone totals: the raster says where, the totals how many (e.g. WorldPop rescaled to a census)
        if weights is not None:
            raise InputError("population_grid: with raster= and zone totals, the raster is the weight; "
                             "do not give weights= as well")
        weights = people
    if zones is None or totals is None:
        raise InputError("population_grid: give raster=<population raster>, or zones=... and totals=...")
    if not isinstance(zones, ZoneRaster):
        if isinstance(zones, (str, os.PathLike)):
            zones = load(zones, what="zones", table_ok=False)
        zones = rasterize_zones(zones, grid, rule, zone_id=zone_id)
    frame = zones.frame
    if zones.zone.shape != grid.shape:
        raise InputError(f"population_grid: the zones were rasterised on a grid of shape {zones.zone.shape}, "
                         f"not {grid.shape}")
    t = _totals(totals, frame, zones.n_zones)
    w = None
    if weights is not None:
        if isinstance(weights, (str, os.PathLike)):
            weights, _ = read_raster(weights, grid, "average")
        w = _grid_array(weights, grid, "weights", np.float64)
    cls, codes, shares = None, [], None
    if class_grid is not None or class_shares is not None:
        if class_grid is None or class_shares is None:
            raise InputError("population_grid: class_grid and class_shares go together")
        if isinstance(class_grid, (str, os.PathLike)):
            class_grid, _ = read_raster(class_grid, grid, "nearest")
        cg = np.asarray(class_grid)
        if cg.dtype.kind == "f":
            cg = np.where(np.isfinite(cg), cg, -1)
        cls = _grid_array(cg, grid, "class_grid", np.int32)
        codes, shares = _class_table(class_shares, zones.n_zones)
        codes = codes.tolist()
    res = _core.spread_zone_totals(*zones.arrays(), zones.rule, t, w, cls, codes, shares, int(max_iterations))
    for note in res["notes"]:
        log.info("population_grid: %s", note)
    return PopulationGrid(res["people"], grid, "zones" if report is None else "raster+zones", zones=zones, totals=t,
                          report=report, notes=list(res["notes"]))


# ---- urban / rural ----------------------------------------------------------------------------------------

def urban_rural(grid: Grid, *, raster=None, band: int = 1, codes: dict | None = None, unlisted: int = NO_CLASS,
                breaks=None, values=None, population=None, rules=GHSL_RULES, zones: ZoneRaster | None = None,
                zone_classes=None):
    """A class per cell (uint8 ``grid.shape``; 255 = no class) for per-class response-time thresholds.

    Exactly one source:

    * ``raster=`` path (or ``values=`` an array on the grid) with ``codes={raster value: class}`` (values not
      listed → ``unlisted``) or ``breaks=[b1, b2, ...]`` (class = number of breaks <= value). Rasters are read
      with "nearest" when ``codes`` are given, "average" with ``breaks``. E.g. GHSL SMOD:
      ``codes={30: 1, 23: 1, 22: 1, 21: 1, 13: 0, 12: 0, 11: 0, 10: NO_CLASS}``; a built-up fraction:
      ``breaks=[0.5]``.
    * ``population=`` people per cell (array or :class:`PopulationGrid`) with density ``rules`` — a sequence of
      ``(min people per km², min cluster people, connectivity 4|8)``, lowest class first; a cell's class is
      1 + the highest rule whose connected dense cluster (total >= min people) contains it, 0 otherwise,
      255 where population is NaN. Default :data:`GHSL_RULES` (1 urban cluster, 2 urban centre, 0 rural).
      Thresholds are inclusive.
    * ``zones=`` a :class:`ZoneRaster` with ``zone_classes`` (one class per zone, e.g. from an attribute);
      split cells take the class of the zone holding most of them.
    """
    grid = as_grid(grid)
    given = [raster is not None or values is not None, population is not None, zones is not None]
    if sum(given) != 1:
        raise InputError("urban_rural: give exactly one of raster=/values=, population=, zones=")
    if given[0]:
        if (codes is None) == (breaks is None):
            raise InputError("urban_rural: with a raster, give either codes={value: class} or breaks=[...]")
        if raster is not None:
            values, _ = read_raster(raster, grid, "nearest" if codes is not None else "average", band=band)
        v = _grid_array(values, grid, "values", np.float64)
        if codes is not None:
            keys = [float(k) for k in codes.keys()]
            return _core.classes_from_codes(v, keys, [int(c) for c in codes.values()], int(unlisted))
        return _core.classes_from_breaks(v, [float(b) for b in breaks])
    if given[1]:
        if isinstance(population, PopulationGrid):
            population = population.people
        p = _grid_array(population, grid, "population", np.float64)
        rs = [(float(d), float(n), int(c)) for d, n, c in rules]
        classes, clusters = _core.density_classes(p, grid, rs)
        log.info("urban_rural: qualifying clusters per rule: %s", list(clusters))
        return classes
    zones = _check_zones(zones)
    if zone_classes is None:
        raise InputError("urban_rural: zones= needs zone_classes (one class per zone)")
    zc = [int(c) for c in np.asarray(zone_classes).reshape(-1)]
    return _core.classes_from_zones(*zones.arrays(), zc)


def check_population_raster(path, band: int = 1) -> None:
    """Raise :class:`careshed.InputError` naming the first negative valid pixel of a population raster (read in
    C++ block by block; nothing is warped)."""
    _core.check_population_raster(os.fspath(path), int(band))
