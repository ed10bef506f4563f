"""Ambulance reach: who is covered within the urban/rural response standard, per county, in one run.

The plan's standard (Quzhou 2021-2025): average ambulance response within 11 minutes in urban areas and
15 minutes in rural ones, 95 % of ambulances leaving within 3 minutes of the call, one ambulance per 30,000
residents. careshed states it the way the planner thinks of it:

    response time = dispatch delay (dispatch_minutes, the same for every station)
                  + turnout (per station, seconds; optional)
                  + travel time over the friction surface (nearest station, GRASS r.cost rule)

and a person is COVERED when the response time of their cell is <= the threshold of their cell's class
(inclusive). People are counted on the grid, never in isochrone polygons (those are for display).

Two ways in:

* :class:`Study` prepares everything that does not depend on the stations — the analysis grid, the zones on
  it, the population per cell, the urban/rural class per cell and the friction surface — once; then
  ``study.reach(stations, ...)`` answers for any set of stations in well under a second. Scenarios ("what if
  a new station opens here?", "the one-hour circle to top-tier hospitals") are further ``reach`` calls.
* :func:`reach` does both in one call.

Both return a :class:`Reach`: ``.table`` (per zone + region), ``.stations``, ``.curve``, ``.seconds`` /
``.nearest`` / ``.population`` / ``.cell_class`` arrays on ``.grid``, and ``.to_geopackage()``,
``.to_geotiff()``, ``.to_csv()``, ``.plot()``. See docs/reach.md.

The pieces come from the rest of careshed: grids and friction surfaces (careshed.raster / friction), zones,
population grids and urban/rural classes (careshed.zonal), the multi-source search
(careshed.raster_travel_time), coverage by zone, the ambulance check and isochrone polygons (the C++
coverage module). This module only wires them together, checks the inputs and shapes the outputs.
"""
from __future__ import annotations

import math
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from . import _core
from .density import _as_list, _field, _key, _numeric, write_table
from .errors import CRSError, InputError
from .io import describe_source, load, points_xy
from .raster import Grid, make_grid, write_geotiff

__all__ = ["Study", "Reach", "reach", "DEFAULT_THRESHOLDS_MIN", "RESIDENTS_PER_VEHICLE", "UnplacedStationsWarning"]

#: The Quzhou plan's standard: mean response within 11 minutes (urban) and 15 minutes (rural).
DEFAULT_THRESHOLDS_MIN = {"urban": 11.0, "rural": 15.0}
#: One ambulance per 30,000 residents (the plan's standard, and China's national one).
RESIDENTS_PER_VEHICLE = 30000.0
_NAME_FIELDS = ("name", "NAME", "Name", "name_en", "facility", "title")
_ID_FIELDS = ("id", "ID", "station_id", "fid", "osm_id")
NO_CLASS = 255


class UnplacedStationsWarning(UserWarning):
    """Some stations lie outside the grid or on impassable cells beyond the snapping distance and were left
    out (only with ``unplaced="skip"``; the default refuses them with an InputError)."""


# ---- small helpers ------------------------------------------------------------------------------

def _unique_keys(src, field: str, values, what: str) -> dict[str, int]:
    """``{canonical id: row}`` of an id field (rows from 0); refuses empty and duplicate ids (named from row 1)."""
    seen: dict[str, int] = {}
    for i, v in enumerate(values):
        k = _key(v)
        if k is None:
            raise InputError(f"{src}: field {field!r} ({what} id), row {i + 1} is empty; every {what} needs an id")
        if k in seen:
            raise InputError(f"{src}: duplicate {what} id {v!r} in field {field!r} (rows {seen[k] + 1} and {i + 1}); "
                             f"{what} ids must be unique")
        seen[k] = i
    return seen


def _point_columns(st, study, st_zone, rr, cc, moved, status) -> dict:
    """The leading columns of a station / facility table: name (if any), zone id (None outside every zone),
    x, y, row, col, placement status and snapped distance in metres."""
    cols: dict[str, Any] = {}
    if st.names is not None:
        cols["name"] = st.names
    cols["zone"] = np.array([study.ids[z] if z >= 0 else None for z in st_zone], dtype=object)  # ids stay ids
    cols["x"] = st.x
    cols["y"] = st.y
    cols["row"] = rr
    cols["col"] = cc
    cols["status"] = status
    cols["snapped_m"] = moved
    return cols


def _modelled_notes(modelled) -> list[str]:
    """``modelled=`` (str, list or {input: how}) as note lines starting with "MODELLED"."""
    if not modelled:
        return []
    if isinstance(modelled, str):
        return [f"MODELLED input: {modelled}"]
    if isinstance(modelled, Mapping):
        return [f"MODELLED {k}: {v}" for k, v in modelled.items()]
    return [f"MODELLED {k}: this input is modelled, not measured" for k in modelled]


def _thresholds(thresholds_min, class_names: list[str] | None) -> dict[str, float]:
    """{class name: minutes} in class-index order, checked (positive, finite)."""
    if thresholds_min is None:
        thresholds_min = dict(DEFAULT_THRESHOLDS_MIN)
    if isinstance(thresholds_min, (int, float, np.integer, np.floating)) and not isinstance(thresholds_min, bool):
        names = class_names or ["all"]
        thresholds_min = {n: float(thresholds_min) for n in names}
    if not isinstance(thresholds_min, Mapping) or not thresholds_min:
        raise InputError("thresholds_min: expected minutes per class, e.g. {'urban': 11, 'rural': 15}, or one "
                         f"number for every class; got {thresholds_min!r}")
    out = {}
    for name, value in thresholds_min.items():
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise InputError(f"thresholds_min: the threshold of class {name!r} must be a number of minutes, "
                             f"got {value!r}") from None
        if not math.isfinite(v) or v <= 0:
            raise InputError(f"thresholds_min: the threshold of class {name!r} is {value!r}; thresholds must be "
                             "positive numbers of minutes")
        out[str(name)] = v
    if class_names is not None:
        missing = [c for c in class_names if c not in out]
        if missing:
            raise InputError(f"thresholds_min: class {missing[0]!r} of the urban/rural classes has no threshold; "
                             f"give one for every class ({', '.join(class_names)}), e.g. "
                             f"thresholds_min={{{', '.join(repr(c) + ': 15' for c in class_names)}}}")
        out = {c: out[c] for c in class_names}  # class-index order; extra names are an error:
        extra = [c for c in thresholds_min if str(c) not in class_names]
        if extra:
            raise InputError(f"thresholds_min: class {extra[0]!r} is not one of the study's classes "
                             f"({', '.join(class_names)})")
    return out


def _atomic(path: Path, write) -> Path:
    """Run write(tmp_path) and rename the result onto path (nothing half-written is ever left)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


# ---- classes ------------------------------------------------------------------------------------

_CLASS_SPEC_HELP = ("classes: expected None (one class), 'density' (GHSL-like density clusters), or a dict: "
                    "{'polygons': path_or_gdf, 'inside': 'urban', 'outside': 'rural'} / "
                    "{'polygons': ..., 'field': 'class', 'outside': 'rural'}, "
                    "{'raster': path, 'codes': {30: 'urban', 13: 'rural', ...}, 'other': None}, "
                    "{'raster': path, 'breaks': [0.5], 'names': ['rural', 'urban']}, "
                    "{'density_per_km2': 300, 'min_people': 5000, 'dense': 'urban', 'other': 'rural'}, "
                    "{'zone_field': 'FIELD'}, or a uint8 array on the grid")


def _class_spec(classes) -> dict | None:
    if classes is None:
        return None
    if isinstance(classes, str):
        if classes == "density":
            return {"density_per_km2": 300.0}
        raise InputError(_CLASS_SPEC_HELP + f"; got {classes!r}")
    if isinstance(classes, np.ndarray):
        return {"array": classes}
    if not isinstance(classes, Mapping):
        raise InputError(_CLASS_SPEC_HELP + f"; got {type(classes).__name__}")
    spec = dict(classes)
    kinds = [k for k in ("polygons", "raster", "density_per_km2", "zone_field", "array") if k in spec]
    if len(kinds) != 1:
        raise InputError(_CLASS_SPEC_HELP + f"; got keys {sorted(spec)}")
    return spec


def _class_names_of(spec: dict | None, zones_frame, thresholds_min) -> list[str] | None:
    """The class names (index order) a spec produces, before any grid work: the thresholds' order when the
    thresholds name the classes, else the names the spec mentions."""
    if spec is None:
        return None
    if isinstance(thresholds_min, Mapping) and thresholds_min:
        return [str(k) for k in thresholds_min]
    names: list[str] = []

    def add(n):
        if n is not None and str(n) not in names:
            names.append(str(n))
    if "polygons" in spec:
        add(spec.get("inside", "urban") if "field" not in spec else None)
        add(spec.get("outside", "rural"))
    elif "raster" in spec:
        if "codes" in spec:
            for v in spec["codes"].values():
                add(v)
            add(spec.get("other"))
        else:
            for n in spec.get("names", []):
                add(n)
    elif "density_per_km2" in spec:
        add(spec.get("dense", "urban"))
        add(spec.get("other", "rural"))
    return names or None


# ---- stations -----------------------------------------------------------------------------------

@dataclass
class _Stations:
    frame: Any
    ids: list
    names: list | None
    x: np.ndarray          # in the grid CRS
    y: np.ndarray
    turnout_s: np.ndarray
    vehicles: np.ndarray | None
    source: str
    notes: list = field(default_factory=list)


def _read_stations(stations, grid: Grid, *, station_id, name_field, turnout_seconds, vehicles, layer, x, y,
                   crs) -> _Stations:
    frame = load(stations, what="stations", layer=layer, crs=crs, x=x, y=y, table_ok=False)
    src = describe_source(frame)
    n = len(frame)
    if n == 0:
        raise InputError(f"{src}: no stations")
    geom_name = getattr(frame, "_geometry_column_name", None)
    if not geom_name or geom_name not in frame.columns:
        raise InputError(f"{src}: the stations have no point geometry; give a point layer, or a CSV with "
                         "x=/y= (lon/lat) fields and crs=")
    if frame.crs is None:
        raise CRSError(f"{src}: the stations have no CRS; pass crs='EPSG:4326' (or the right one)")
    if station_id is None:
        station_id = next((f for f in _ID_FIELDS if f in frame.columns), None)
    if station_id is not None:
        ids = list(_unique_keys(src, station_id, _field(frame, station_id, "station id").tolist(), "station"))
    else:
        ids = [str(i + 1) for i in range(n)]
    names = None
    if name_field is not None:
        names = [None if v is None else str(v) for v in _field(frame, name_field, "station name").tolist()]
    else:
        cand = next((f for f in _NAME_FIELDS if f in frame.columns), None)
        if cand is not None:
            names = [None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
                     for v in frame[cand].tolist()]
    px, py_, kind = points_xy(frame.geometry)
    notes = []
    if (kind == 1).any():
        i = int(np.flatnonzero(kind == 1)[0])
        raise InputError(f"{src}: station {ids[i]!r} (row {i + 1}) has no geometry; give every station a point")
    if (kind == 2).any():
        idx = np.flatnonzero(kind == 2)
        for i in idx:
            pt = frame.geometry.iloc[int(i)].representative_point()
            px[i], py_[i] = pt.x, pt.y
        notes.append(f"{len(idx)} station(s) given as areas are placed at a point inside them "
                     f"(representative point): {', '.join(ids[int(i)] for i in idx[:10])}")
    gx, gy = _core.transform_xy(np.ascontiguousarray(px), np.ascontiguousarray(py_), frame.crs.to_wkt(), grid.crs)
    gx, gy = np.asarray(gx, dtype=np.float64), np.asarray(gy, dtype=np.float64)
    if isinstance(turnout_seconds, str):
        turn, _ = _numeric(frame, turnout_seconds, "turnout seconds", ids=ids, allow_null=True)
    else:
        t = 0.0 if turnout_seconds is None else float(turnout_seconds)
        if not math.isfinite(t) or t < 0:
            raise InputError(f"turnout_seconds: {turnout_seconds!r} must be a number of seconds >= 0")
        turn = np.full(n, t)
    veh = None
    if isinstance(vehicles, str):
        veh, _ = _numeric(frame, vehicles, "vehicles", ids=ids, allow_null=True)
    elif vehicles is not None:
        v = float(vehicles)
        if not math.isfinite(v) or v < 0:
            raise InputError(f"vehicles: {vehicles!r} must be a number >= 0")
        veh = np.full(n, v)
    return _Stations(frame, ids, names, gx, gy, turn, veh, src, notes)


def _place(st: _Stations, grid: Grid, passable: np.ndarray, snap_max_m: float):
    """(row, col, snapped distance m, status) per station. A station on a passable cell stays there; else it
    moves to the passable cell whose centre is nearest its point, within snap_max_m (ties: lowest row-major
    cell). Status: "on grid", "snapped", "outside grid", "impassable"."""
    rows, cols = grid.shape
    dx, dy = grid.cell_size
    r0, c0 = grid.rowcol(st.x, st.y)
    n = len(st.ids)
    out_r = np.full(n, -1, dtype=np.int64)
    out_c = np.full(n, -1, dtype=np.int64)
    moved = np.full(n, np.nan)
    status = []
    reach_r = int(math.ceil(snap_max_m / dy)) + 1
    reach_c = int(math.ceil(snap_max_m / dx)) + 1
    for i in range(n):
        r, c = int(r0[i]), int(c0[i])
        inside = 0 <= r < rows and 0 <= c < cols
        if inside and passable[r, c]:
            out_r[i], out_c[i], moved[i] = r, c, 0.0
            status.append("on grid")
            continue
        ra, rb = max(r - reach_r, 0), min(r + reach_r + 1, rows)
        ca, cb = max(c - reach_c, 0), min(c + reach_c + 1, cols)
        if ra < rb and ca < cb:
            win = passable[ra:rb, ca:cb]
            rr, cc = np.nonzero(win)
            if rr.size:
                cx, cy = grid.xy(rr + ra, cc + ca)
                d = np.hypot(cx - st.x[i], cy - st.y[i])
                ok = d <= snap_max_m
                if ok.any():
                    j = np.flatnonzero(ok)[np.argmin(d[ok])]   # nonzero is row-major: first min = lowest cell
                    out_r[i], out_c[i], moved[i] = rr[j] + ra, cc[j] + ca, float(d[j])
                    status.append("snapped")
                    continue
        status.append("impassable" if inside else "outside grid")
    return out_r, out_c, moved, status


def _snap_distance(grid: Grid, snap_max_m, unplaced) -> float:
    """Check ``unplaced`` ('error' or 'skip'); the snapping distance in metres (default max(500 m, 2 cells))."""
    if unplaced not in ("error", "skip"):
        raise InputError(f"unplaced: {unplaced!r}; use 'error' (refuse) or 'skip' (leave out with a warning)")
    dx, dy = grid.cell_size
    snap = max(500.0, 2.0 * max(dx, dy)) if snap_max_m is None else float(snap_max_m)
    if not math.isfinite(snap) or snap < 0:
        raise InputError(f"snap_max_m: {snap_max_m!r} must be a distance in metres >= 0")
    return snap


def _place_all(st: _Stations, grid: Grid, passable: np.ndarray, snap: float, unplaced: str, *, what: str, one: str,
               stacklevel: int):
    """:func:`_place` with the rules for points that cannot be placed: they stop the run (unplaced='error') or are
    left out with an :class:`UnplacedStationsWarning` and a note (unplaced='skip'); at least one must be placed.
    ``what`` names the points in counts ("station(s)"), ``one`` in "no <one> could be placed"; ``stacklevel`` is
    the warning's, counted from here. Returns (row, col, moved m, status, used point indices, notes: the
    reader's notes then the placement notes)."""
    rr, cc, moved, status = _place(st, grid, passable, snap)
    bad = [i for i, s in enumerate(status) if s not in ("on grid", "snapped")]
    notes = list(st.notes)
    if bad:
        detail = ", ".join(f"{st.ids[i]!r} ({status[i]})" for i in bad[:10])
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        msg = (f"{st.source}: {len(bad)} {what} are outside the grid or on impassable cells with no passable "
               f"cell within {snap:g} m: {detail}{more}")
        if unplaced == "error":
            raise InputError(msg + ". Move them, raise snap_max_m, or pass unplaced='skip' to leave them out")
        warnings.warn(msg + "; they are left out", UnplacedStationsWarning, stacklevel=stacklevel)
        notes.append(msg + "; left out")
    snapped = [i for i, s in enumerate(status) if s == "snapped"]
    if snapped:
        notes.append(f"{len(snapped)} {what} moved to the nearest passable cell (within {snap:g} m): "
                     + ", ".join(f"{st.ids[i]!r} {moved[i]:.0f} m" for i in snapped[:10])
                     + (" ..." if len(snapped) > 10 else ""))
    bad_set = set(bad)
    used = np.array([i for i in range(len(st.ids)) if i not in bad_set], dtype=np.int64)
    if used.size == 0:
        raise InputError(f"{st.source}: no {one} could be placed on the grid")
    return rr, cc, moved, status, used, notes


# ---- the study ----------------------------------------------------------------------------------

class Study:
    """Everything a reach analysis needs that does not depend on the stations, prepared once.

    Parameters
    ----------
    zones : path, OGR connection string or GeoDataFrame
        The zones (counties) as polygons with an id field (and a population field when people are spread
        from zone totals). Any CRS.
    zone_id : str
        Field with a unique id per zone; it becomes the index of the result tables.
    population : str, optional
        Field of `zones` with the resident population per zone. Without `population_raster` these totals
        are spread over the zone's cells: uniformly, or by `class_shares` (each class's share of the zone's
        people spread uniformly over the zone's cells of that class). With `population_raster` too, the
        raster is the spreading weight and every zone is reconciled to its total.
    population_raster : path, optional
        People per cell (WorldPop, GHS-POP; any GDAL format and CRS): warped onto the grid with totals
        preserved; nodata ignored; negative values refused (InputError naming the pixel).
    class_shares : dict, optional
        ``{class name: zone field or number}``: the share of each zone's people living in cells of that class
        (e.g. the GHSL urban share). Needs `classes` that do not themselves depend on the population.
    classes : see below, optional
        The urban/rural (or any) class of every cell; its names are the keys of `thresholds_min`:

        * ``None`` — one class for every cell;
        * ``"density"`` or ``{"density_per_km2": 300, "min_people": 5000, "connectivity": 8,
          "dense": "urban", "other": "rural"}`` — cells of connected clusters at least that dense holding at
          least that many people (GHSL urban-cluster rule by default);
        * ``{"polygons": path_or_gdf, "inside": "urban", "outside": "rural"}`` — e.g. urban-area boundaries
          (cell centre inside any polygon), or ``{"polygons": ..., "field": "class", "outside": "rural"}``;
        * ``{"raster": path, "codes": {30: "urban", 23: "urban", 13: "rural", ...}, "other": None}`` (e.g. GHSL
          SMOD; codes not listed get `other`) or ``{"raster": path, "breaks": [0.5], "names": ["rural",
          "urban"]}`` (built-up fraction);
        * ``{"zone_field": "kind"}`` — each zone's class name from a field of the zones;
        * a uint8 array of class indices on the grid (``NO_CLASS`` = 255 = none).
    friction : careshed.FrictionSurface or path, optional
        The travel model. A :class:`careshed.FrictionSurface` brings its own grid (the analysis then runs on
        it: `cell_size_m`, `crs` and `margin_m` are ignored). A path is a friction raster in `friction_unit`.
    speed_raster : path, optional
        Speeds in km/h (any GDAL raster and CRS).
    travel : dict, optional
        Arguments of :func:`careshed.friction_surface` to build the surface on the study's grid, e.g.
        ``{"roads": "roads.gpkg", "road_profile": "ambulance", "background_speed_kmh": 20}``.
    cell_size_m : float
        Cell size of the analysis grid in metres (default 100).
    crs : str, optional
        Metric CRS of the analysis. Default: the zones' CRS when projected, else the WGS 84 / UTM zone of their
        centre. Outputs are written in it.
    margin_m : float
        Extra ground around the zones' extent, in metres, that travel may cross (default 0).
    counting : "centre" or "fraction"
        How cells count in zones: cell centre in polygon (default), or exact area fractions of the cells a
        boundary cuts.
    keep : list of str, optional
        Zone fields copied into the tables (e.g. ``["name"]``).
    modelled : str, list or dict, optional
        Marks modelled inputs (``{"population": "spread from census totals by GHSL shares"}``): the notes,
        CSV header, GeoPackage and map title say "MODELLED".
    notes : str or list, optional
        Further notes to carry on every result.
    region_label : str
        Index label of the whole-region row (default "region").
    zones_layer, friction_unit, population_band : optional
        Layer of the zones source; unit of a friction raster ("s/m", "min/m", ...); band of the population raster.
    thresholds_min : dict or number, optional
        The default thresholds of :meth:`reach` (minutes per class); their keys also name the classes.
        Default: the plan's ``{"urban": 11, "rural": 15}`` with classes, else give them to :meth:`reach`.

    Raises
    ------
    careshed.InputError (ValueError), careshed.CRSError (ValueError), careshed.DataIOError (OSError).
    """

    def __init__(self, zones, *, zone_id, population=None, population_raster=None, population_band=1,
                 class_shares=None, classes=None, friction=None, friction_unit="s/m", speed_raster=None,
                 travel=None, cell_size_m=100.0, crs=None, margin_m=0.0, counting="centre", keep=None,
                 modelled=None, notes=None, region_label="region", zones_layer=None, thresholds_min=None):
        from .friction import FrictionSurface, friction_surface
        from .zonal import population_grid, rasterize_zones

        self.timings: dict[str, float] = {}
        t0 = time.perf_counter()
        self.notes: list[str] = _modelled_notes(modelled)
        self._modelled = bool(self.notes)
        self.region_label = str(region_label)
        self.zone_id = zone_id

        # -- zones ------------------------------------------------------------------------------
        frame = load(zones, what="zones", layer=zones_layer, table_ok=False)
        self.source = describe_source(frame)
        geom_name = getattr(frame, "_geometry_column_name", None)
        if not geom_name or geom_name not in frame.columns:
            raise InputError(f"{self.source}: the zones have no polygons; reach needs zone polygons")
        if frame.crs is None:
            raise CRSError(f"{self.source}: the zones have no CRS; read them with crs='EPSG:4326' (or the right "
                           "one), or gdf.set_crs(...)")
        ids = _field(frame, zone_id, "zone id").tolist()
        seen = _unique_keys(self.source, zone_id, ids, "zone")
        if str(region_label) in seen:
            raise InputError(f"region_label {region_label!r} is also a zone id; choose another region_label")
        self.ids = ids
        self.keep = [keep] if isinstance(keep, str) else list(keep or [])
        for k in self.keep:
            _field(frame, k, "kept column")
        for i, g in enumerate(frame.geometry):
            if g is None or g.is_empty:
                raise InputError(f"{self.source}: zone {ids[i]!r} (row {i + 1}) has no geometry")
            if g.geom_type not in ("Polygon", "MultiPolygon"):
                raise InputError(f"{self.source}: zone {ids[i]!r} (row {i + 1}) is a {g.geom_type}; zones must be "
                                 "polygons")

        # -- grid -------------------------------------------------------------------------------
        if isinstance(friction, FrictionSurface):
            grid = friction.grid
            if grid.is_geographic:
                raise CRSError("friction: the FrictionSurface's grid is in longitude/latitude; build it on a metric "
                               "grid (careshed.make_grid)")
        else:
            if crs is None:
                if frame.crs.is_projected:
                    crs = frame.crs.to_wkt()
                else:
                    lon0, lat0, lon1, lat1 = frame.to_crs("EPSG:4326").total_bounds
                    crs = f"EPSG:{_core.utm_epsg_for((lon0 + lon1) / 2, (lat0 + lat1) / 2)}"
            cell = float(cell_size_m)
            if not math.isfinite(cell) or cell <= 0:
                raise InputError(f"cell_size_m: {cell_size_m!r} must be a positive number of metres")
            metric = frame.to_crs(crs)
            if metric.crs.is_geographic:
                raise CRSError(f"crs: {crs!r} is a longitude/latitude CRS; reach runs in a metric CRS (e.g. a UTM "
                               "zone), or leave crs=None to pick the UTM zone of the zones' centre")
            x0, y0, x1, y1 = metric.total_bounds
            m = float(margin_m)
            grid = make_grid((x0 - m, y0 - m, x1 + m, y1 + m), cell, crs)
        self.grid = grid
        self.zones = frame.to_crs(grid.crs)
        self.zones.attrs.update(frame.attrs)
        self.frame = frame
        self.timings["grid"] = time.perf_counter() - t0

        # -- zones on the grid --------------------------------------------------------------------
        t = time.perf_counter()
        from shapely import wkb as shapely_wkb
        problems = _core.check_polygons([shapely_wkb.dumps(g) for g in self.zones.geometry])
        if problems:
            detail = "; ".join(f"zone {ids[j]!r} (row {j + 1}): {reason}" for j, reason in problems[:5])
            raise InputError(f"{self.source}: {len(problems)} invalid polygon(s): {detail}. Repair them first, e.g. "
                             "`ogr2ogr -makevalid fixed.gpkg input.gpkg`")
        if counting not in ("centre", "fraction"):
            raise InputError(f"counting: {counting!r}; use 'centre' (cell centre in zone) or 'fraction' (exact "
                             "area fractions)")
        self.counting = counting
        self.zone_raster = rasterize_zones(self.zones, grid, counting, zone_id=zone_id)
        self.timings["zones"] = time.perf_counter() - t

        # -- friction ---------------------------------------------------------------------------
        t = time.perf_counter()
        given = [friction is not None, speed_raster is not None, travel is not None]
        if sum(given) != 1:
            raise InputError("give exactly one travel model: friction= (a careshed.FrictionSurface or a friction "
                             "raster), speed_raster= (km/h) or travel= (arguments of careshed.friction_surface)")
        if isinstance(friction, FrictionSurface):
            fs = friction
        elif friction is not None:
            fs = friction_surface(grid, friction_raster=friction, friction_unit=friction_unit)
        elif speed_raster is not None:
            fs = friction_surface(grid, speed_raster=speed_raster)
        else:
            if not isinstance(travel, Mapping):
                raise InputError("travel: expected a dict of careshed.friction_surface arguments, e.g. "
                                 "{'roads': 'roads.gpkg', 'background_speed_kmh': 20}")
            fs = friction_surface(grid, **dict(travel))
        self.friction = fs
        self.notes += [f"travel: {n}" for n in fs.notes]
        self.timings["friction"] = time.perf_counter() - t

        # -- classes that do not need the population ----------------------------------------------
        spec = _class_spec(classes)
        self._class_spec = spec
        self.class_names = _class_names_of(spec, frame, thresholds_min) if spec is not None else None
        # The study's default thresholds for reach() (checked now, so a bad value fails early).
        self.thresholds_min = _thresholds(thresholds_min, self.class_names) if thresholds_min is not None else None
        t = time.perf_counter()
        cell_class = None
        if spec is not None and "density_per_km2" not in spec:
            cell_class = self._classes(spec)
        self.timings["classes"] = time.perf_counter() - t

        # -- population ---------------------------------------------------------------------------
        t = time.perf_counter()
        if population is None and population_raster is None:
            raise InputError("give the people: population= (a zone field with residents per zone) and/or "
                             "population_raster= (people per cell)")
        self.population_field = population
        totals = None
        if population is not None:
            totals, _ = _numeric(frame, population, "population", ids=ids)
        if population_raster is not None and totals is None:
            pg = population_grid(grid, raster=population_raster, band=int(population_band))
            self.population_report = pg.report
            rep = pg.report
            self.notes.append(f"population: {os.fspath(population_raster)} warped onto the grid, totals preserved "
                              f"({rep.result_total:,.0f} people on the grid; source {rep.source_total_in_grid:,.0f} "
                              f"within it, relative difference {rep.relative_difference:.1e})")
            if class_shares is not None:
                raise InputError("class_shares: only used to spread zone totals (population=FIELD); a "
                                 "population raster already says where people live")
        else:
            weights = None
            if population_raster is not None:
                _core.check_population_raster(os.fspath(population_raster), int(population_band))
                from .raster import read_raster
                weights, _ = read_raster(population_raster, grid, "sum", band=int(population_band))
                self.notes.append(f"population: zone totals ({population}) spread over cells in proportion to "
                                  f"{os.fspath(population_raster)}")
            cls_grid, codes_shares = None, None
            if class_shares is not None:
                if cell_class is None:
                    raise InputError("class_shares: needs classes= that do not depend on the population (polygons, "
                                     "a class raster, a zone field or an array); the density rule is computed "
                                     "from the spread population itself")
                shares = self._shares(class_shares, frame, ids)
                cls_grid = np.where(cell_class == NO_CLASS, -1, cell_class.astype(np.int32))
                codes_shares = shares
                self.notes.append("population: zone totals (" + str(population) + ") spread by class shares ("
                                  + ", ".join(f"{c}: {v if isinstance(v, str) else f'{float(v):g}'}"
                                              for c, v in class_shares.items())
                                  + "), uniformly within each class")
            elif weights is None:
                self.notes.append(f"population: zone totals ({population}) spread uniformly over each zone's cells")
            pg = population_grid(grid, zones=self.zone_raster, totals=totals, weights=weights, class_grid=cls_grid,
                                 class_shares=codes_shares)
            self.notes += [f"population: {n}" for n in pg.notes]
            self.population_report = None
        self.population = pg.people
        self.population_totals = totals
        self.timings["population"] = time.perf_counter() - t

        # -- classes from the population ---------------------------------------------------------
        if spec is not None and "density_per_km2" in spec:
            t = time.perf_counter()
            cell_class = self._classes(spec)
            self.timings["classes"] += time.perf_counter() - t
        if cell_class is not None:
            self._check_unclassified(cell_class)
        self.cell_class = cell_class
        self.notes += [str(n) for n in _as_list(notes)]

    # -- helpers of __init__ -------------------------------------------------------------------

    def _index_of(self, name, what: str) -> int:
        names = self.class_names
        if names is None:
            raise InputError(f"classes: {what} names class {name!r}, but the classes have no names; give "
                             "thresholds_min={name: minutes, ...} to name them")
        if str(name) not in names:
            raise InputError(f"classes: class {name!r} ({what}) has no threshold; thresholds are given for "
                             f"{', '.join(names)} — add thresholds_min={{{name!r}: minutes, ...}}")
        return names.index(str(name))

    def _classes(self, spec: dict) -> np.ndarray:
        from .zonal import rasterize_zones, urban_rural

        grid = self.grid
        if "array" in spec:
            a = np.asarray(spec["array"])
            if a.shape != grid.shape:
                raise InputError(f"classes: the array has shape {a.shape}, the grid {grid.shape}")
            a = np.ascontiguousarray(a, dtype=np.uint8)
            n = len(self.class_names or ["all"])
            bad = np.unique(a[(a != NO_CLASS) & (a >= n)])
            if bad.size:
                raise InputError(f"classes: class index {int(bad[0])} in the array has no threshold (classes "
                                 f"0..{n - 1}: {', '.join(self.class_names or ['all'])})")
            self.notes.append("classes: given as an array on the grid")
            return a
        if "polygons" in spec:
            polys = load(spec["polygons"], what="class polygons", layer=spec.get("layer"), table_ok=False)
            if polys.crs is None:
                raise CRSError(f"{describe_source(polys)}: the class polygons have no CRS")
            zr = rasterize_zones(polys, grid, "centre")
            outside = self._index_of(spec.get("outside", "rural"), "outside the polygons")
            if "field" in spec:
                values = _field(polys, spec["field"], "class name").tolist()
                per_poly = np.array([self._index_of(v, f"polygon field {spec['field']!r}") for v in values],
                                    dtype=np.uint8)
            else:
                inside = self._index_of(spec.get("inside", "urban"), "inside the polygons")
                per_poly = np.full(zr.n_zones, inside, dtype=np.uint8)
            z = zr.zone
            out = np.full(grid.shape, outside, dtype=np.uint8)
            hit = z >= 0
            out[hit] = per_poly[z[hit]]
            self.notes.append(f"classes: cells whose centre lies in {describe_source(polys)} are "
                              + ("classed by its field " + repr(spec["field"]) if "field" in spec else
                                 repr(spec.get("inside", "urban")))
                              + f", the others {spec.get('outside', 'rural')!r}")
            return out
        if "raster" in spec:
            if "codes" in spec:
                codes = {float(k): self._index_of(v, f"raster code {k}") for k, v in spec["codes"].items()}
                other = spec.get("other")
                unlisted = NO_CLASS if other is None else self._index_of(other, "codes not listed")
                out = urban_rural(grid, raster=spec["raster"], band=int(spec.get("band", 1)), codes=codes,
                                  unlisted=unlisted)
            elif "breaks" in spec:
                names = spec.get("names")
                if not names or len(names) != len(spec["breaks"]) + 1:
                    raise InputError("classes: with 'breaks', give 'names' — one class name per interval "
                                     "(len(breaks) + 1), lowest first")
                idx = np.array([self._index_of(nm, "breaks") for nm in names], dtype=np.uint8)
                raw = urban_rural(grid, raster=spec["raster"], band=int(spec.get("band", 1)), breaks=spec["breaks"])
                out = np.where(raw == NO_CLASS, NO_CLASS, idx[np.minimum(raw, len(idx) - 1)]).astype(np.uint8)
            else:
                raise InputError("classes: with 'raster', give 'codes' {value: class name} or 'breaks' + 'names'")
            self.notes.append(f"classes: from raster {os.fspath(spec['raster'])}")
            return out
        if "zone_field" in spec:
            values = _field(self.frame, spec["zone_field"], "zone class").tolist()
            zc = [self._index_of(v, f"zone field {spec['zone_field']!r}") for v in values]
            self.notes.append(f"classes: each zone's class from its field {spec['zone_field']!r}")
            return urban_rural(grid, zones=self.zone_raster, zone_classes=zc)
        # density rule (needs the population)
        d = float(spec.get("density_per_km2", 300.0))
        p = float(spec.get("min_people", 5000.0))
        conn = int(spec.get("connectivity", 8))
        dense = self._index_of(spec.get("dense", "urban"), "dense clusters")
        other = self._index_of(spec.get("other", "rural"), "outside dense clusters")
        raw = urban_rural(grid, population=self.population, rules=[(d, p, conn)])
        out = np.where(raw == NO_CLASS, NO_CLASS, np.where(raw >= 1, dense, other)).astype(np.uint8)
        self.notes.append(f"classes: {spec.get('dense', 'urban')!r} = cells of {conn}-connected clusters of cells "
                          f">= {d:g} people/km² holding >= {p:g} people (GHSL-like rule on the population grid), "
                          f"else {spec.get('other', 'rural')!r}")
        return out

    def _shares(self, class_shares, frame, ids) -> dict:
        if not isinstance(class_shares, Mapping) or not class_shares:
            raise InputError("class_shares: expected {class name: zone field or number}, e.g. "
                             "{'urban': 'urban_share', 'rural': 'rural_share'}")
        out = {}
        for name, src in class_shares.items():
            idx = self._index_of(name, "class_shares")
            if isinstance(src, str):
                v, _ = _numeric(frame, src, f"share of class {name!r}", ids=ids)
            else:
                v = np.full(len(ids), float(src))
            if np.any(v > 1.0 + 1e-9):
                i = int(np.flatnonzero(v > 1.0 + 1e-9)[0])
                raise InputError(f"class_shares: the share of class {name!r} in zone {ids[i]!r} is {v[i]:g}; shares "
                                 "are fractions 0..1")
            out[idx] = v
        return out

    def _check_unclassified(self, cell_class: np.ndarray) -> None:
        z = self.zone_raster.zone
        pop = self.population
        with np.errstate(invalid="ignore"):
            mask = (cell_class == NO_CLASS) & (z != -1) & (pop > 0)
        if mask.any():
            people = float(np.nansum(pop[mask]))
            raise InputError(f"classes: {int(mask.sum())} populated cells in the zones ({people:,.0f} people) have no "
                             "class (a raster code not listed, or nodata); map every code to a class, or give "
                             "'other': '<class>' for the rest")

    # -- public ---------------------------------------------------------------------------------

    @property
    def modelled(self) -> bool:
        """True when any input of the study is marked modelled."""
        return self._modelled

    def __repr__(self) -> str:
        lines = [f"Study({len(self.ids)} zones, {self.grid!r}, {np.nansum(self.population):,.0f} people, "
                 f"classes {self.class_names or ['all']})"]
        lines += [f"  - {n}" for n in self.notes]
        return "\n".join(lines)

    def reach(self, stations, *, thresholds_min=None, dispatch_minutes=0.0, turnout_seconds=None, vehicles=None,
              station_id=None, name_field=None, layer=None, x=None, y=None, crs=None, snap_max_m=None,
              unplaced="error", residents_per_vehicle=RESIDENTS_PER_VEHICLE, curve_max_minutes=60,
              max_minutes=None, neighbours=8, label="stations", modelled=None, notes=None) -> "Reach":
        """Response time from `stations` and who is covered, per zone and for the region.

        Parameters
        ----------
        stations : path, OGR connection string, GeoDataFrame, or CSV with `x`/`y` (+ `crs`)
            Ambulance stations (or any facilities) as points, any CRS.
        thresholds_min : dict or number
            Minutes per class, e.g. ``{"urban": 11, "rural": 15}``, or one number for every class (``60`` for the
            one-hour circle). Inclusive: a cell at exactly T minutes is covered. Default: the study's
            `thresholds_min`, else the Quzhou plan's ``{"urban": 11, "rural": 15}``.
        dispatch_minutes : float
            Delay between the call and the ambulance leaving, the same for every station (e.g. 3 for "95 % leave
            within 3 minutes", taken at its bound). Added to every response time.
        turnout_seconds : str or number, optional
            Per-station extra delay in SECONDS (a field of `stations`, or one number). Added like dispatch.
        vehicles : str or number, optional
            Ambulances per station (a field, or one number) for the count check: one per
            `residents_per_vehicle` residents, per zone (stations counted in the zone they stand in) and per
            station (residents it is nearest to).
        station_id, name_field : str, optional
            Fields naming the stations (default a field called id / name, else the row number).
        layer, x, y, crs : optional
            How to read `stations` (layer; lon/lat fields and CRS of a CSV).
        snap_max_m : float, optional
            A station outside the grid or on an impassable cell moves to the nearest passable cell centre within
            this distance (default: 500 m or 2 cells, whichever is larger); the move is reported. Beyond it the
            station is refused (`unplaced="error"`, the default: InputError naming the stations) or left out
            with an :class:`UnplacedStationsWarning` (`unplaced="skip"`).
        residents_per_vehicle : float
            Default 30,000.
        curve_max_minutes : int
            The coverage curve runs from 0 to this many minutes (default 60).
        max_minutes : float, optional
            Stop the search beyond this response time (faster on big grids); farther cells count as
            unreachable. Default: no limit.
        neighbours : 8 or 16
            Moves of the raster search (16 adds knight's moves, as GRASS r.cost -k).
        label : str
            What the stations are ("ambulance stations", "top-tier hospitals"), for titles and notes.
        modelled, notes : optional
            As for :class:`Study`, for this call's inputs (e.g. modelled station positions).
        """
        t_all = time.perf_counter()
        timings = {}
        if thresholds_min is None:
            thresholds_min = self.thresholds_min
        if thresholds_min is None and self.class_names is None:
            raise InputError("thresholds_min: this study has one class for every cell; give one threshold in "
                             "minutes, e.g. thresholds_min=15 (or give the Study urban/rural classes=)")
        thresholds = _thresholds(thresholds_min, self.class_names)
        names = list(thresholds)
        if self.class_names is None and len(names) != 1:
            raise InputError(f"thresholds_min: {len(names)} classes ({', '.join(names)}) but the study has no "
                             "urban/rural classes; give classes= to the Study, or one threshold")
        dispatch = float(dispatch_minutes)
        if not math.isfinite(dispatch) or dispatch < 0:
            raise InputError(f"dispatch_minutes: {dispatch_minutes!r} must be a number of minutes >= 0")
        grid = self.grid
        snap = _snap_distance(grid, snap_max_m, unplaced)

        t = time.perf_counter()
        st = _read_stations(stations, grid, station_id=station_id, name_field=name_field,
                            turnout_seconds=turnout_seconds, vehicles=vehicles, layer=layer, x=x, y=y, crs=crs)
        fric = self.friction.seconds_per_metre
        rr, cc, moved, status, used, run_notes = _place_all(st, grid, np.isfinite(fric), snap, unplaced,
                                                            what="station(s)", one="station", stacklevel=3)
        timings["stations"] = time.perf_counter() - t

        # -- search: one pass from all stations, offsets = dispatch + turnout ---------------------
        t = time.perf_counter()
        offsets = dispatch * 60.0 + st.turnout_s[used]
        sources = np.ascontiguousarray(np.column_stack([rr[used], cc[used]]), dtype=np.int64)
        max_s = None if max_minutes is None else float(max_minutes) * 60.0
        seconds, nearest_used = _travel_time(fric, sources, grid.cell_size, offsets, max_s, int(neighbours))
        # nearest_used indexes `used`; map to the input station index (-1 stays -1).
        timings["search"] = time.perf_counter() - t

        # -- coverage ---------------------------------------------------------------------------
        t = time.perf_counter()
        from .coverage import coverage_by_zone
        cov = coverage_by_zone(seconds, nearest_used, self.population, self.zone_raster,
                               [thresholds[c] for c in names], self.cell_class, int(curve_max_minutes),
                               zone_ids=list(self.ids), class_names=names,
                               station_ids=[st.ids[i] for i in used], n_stations=int(used.size),
                               region_label=self.region_label)
        timings["coverage"] = time.perf_counter() - t

        t = time.perf_counter()
        result = Reach._build(self, st, used, rr, cc, moved, status, seconds, nearest_used, cov, thresholds,
                              dispatch, residents_per_vehicle, label, curve_max_minutes,
                              _modelled_notes(modelled) + run_notes + [str(n) for n in _as_list(notes)],
                              bool(modelled))
        timings["tables"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - t_all
        result.timings = timings
        return result


# ---- the search (careshed.raster_travel_time) ---------------------------------------------------

def _travel_time(friction, sources, cell_size, offsets_s, max_seconds, neighbours):
    """(seconds float32 (H, W), nearest int32 (H, W)) from careshed.raster_travel_time."""
    from . import raster_travel_time
    kw = {"cell_size": tuple(float(v) for v in cell_size), "neighbours": neighbours,
          "source_offsets": np.ascontiguousarray(offsets_s, dtype=np.float64)}
    if max_seconds is not None:
        kw["max_seconds"] = float(max_seconds)
    seconds, nearest = raster_travel_time(friction, sources, **kw)
    return (np.ascontiguousarray(seconds, dtype=np.float32), np.ascontiguousarray(nearest, dtype=np.int32))


# ---- the result -------------------------------------------------------------------------------

class Reach:
    """The result of :meth:`Study.reach` / :func:`reach`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per zone (index = zone id) and a last row for the region: `population`; per class C
        ``population_C``, ``covered_C``, ``covered_share_C``; ``covered``, ``uncovered``, ``unreachable``,
        ``covered_share``, ``mean_minutes`` (population-weighted, reached people only), ``p90_minutes`` (90 %
        of the people are reached within it; inf when more than 10 % are unreachable), ``stations``
        (stations standing in the zone), and with vehicles: ``vehicles``, ``vehicles_needed`` (one per
        30,000 residents), ``vehicles_shortfall``.
    stations : pandas.DataFrame
        One row per station given (index = station id): name, zone, x/y (grid CRS), row/col, status
        (on grid / snapped / outside grid / impassable), snapped_m, offset_minutes (dispatch + turnout),
        population_nearest (people whose nearest station it is), population_covered (… and within their
        class threshold), and with vehicles: vehicles, vehicles_needed, vehicles_shortfall.
    curve : pandas.DataFrame
        Covered share (0..1) of each zone (columns; the region last) within 0..curve_max_minutes minutes
        (index "minutes"), whatever the class.
    seconds, nearest, population, cell_class : numpy arrays of shape ``grid.shape``
        Response seconds (float32, inf unreachable), index of the nearest station in ``stations`` (int32, -1
        unreachable), people per cell, class index per cell (uint8, 255 none; None with one class).
    grid : careshed.Grid — geotransform and CRS of the arrays. ``transform`` is the GDAL geotransform.
    thresholds_min, class_names, dispatch_minutes, notes, modelled, timings.
    """

    table: pd.DataFrame
    stations: pd.DataFrame
    curve: pd.DataFrame

    @classmethod
    def _build(cls, study: Study, st: _Stations, used, rr, cc, moved, status, seconds, nearest_used, cov,
               thresholds, dispatch, residents_per_vehicle, label, curve_max_minutes, run_notes, run_modelled):
        self = cls.__new__(cls)
        self.study = study
        self.grid = study.grid
        self.label = label
        self.thresholds_min = dict(thresholds)
        self.class_names = list(thresholds)
        self.dispatch_minutes = dispatch
        self.residents_per_vehicle = float(residents_per_vehicle)
        self.seconds = seconds
        # nearest as an index into the full station table (stations left out never appear).
        self.nearest = np.where(nearest_used >= 0, used.astype(np.int32)[np.maximum(nearest_used, 0)], -1) \
            .astype(np.int32) if used.size != len(st.ids) else nearest_used
        self.population = study.population
        self.cell_class = study.cell_class
        self.bin_seconds = float(cov.bin_seconds)
        self.modelled = study.modelled or run_modelled
        thr_text = ", ".join(f"{c} {m:g} min" for c, m in thresholds.items())
        self.notes = list(study.notes) + list(run_notes) + [
            f"response time = dispatch {dispatch:g} min + station turnout + travel; covered = response <= the "
            f"threshold of the cell's class ({thr_text}; inclusive)",
            f"p90_minutes is exact to {self.bin_seconds:g} s (histogram bins; never below the exact percentile)",
        ]
        self._isochrones = {}

        # -- zone table --------------------------------------------------------------------------
        z = cov.zones
        zone_index = pd.Index(list(study.ids) + [study.region_label], name=study.zone_id)
        cols: dict[str, Any] = {}
        for k in study.keep:
            cols[k] = list(study.frame[k].tolist()) + [None]
        cols["population"] = z["population"].to_numpy()
        names = self.class_names
        if len(names) > 1:
            for c in names:
                for col in (f"population_{c}", f"covered_{c}", f"covered_share_{c}"):
                    cols[col] = z[col].to_numpy()
        for col in ("covered", "uncovered", "unreachable", "covered_share"):
            cols[col] = z[col].to_numpy()
        cols["mean_minutes"] = z["mean_response_min"].to_numpy()
        cols["p90_minutes"] = z["p90_response_min"].to_numpy()

        # stations per zone: the zone their (snapped) cell... no: the zone their POINT stands in.
        from shapely import wkb as shapely_wkb
        zone_wkb = [shapely_wkb.dumps(g) for g in study.zones.geometry]
        st_zone = np.asarray(_core.assign_points_to_zones(zone_wkb, np.ascontiguousarray(st.x),
                                                          np.ascontiguousarray(st.y)), dtype=np.int64)
        n_z = len(study.ids)
        counts = np.bincount(st_zone[st_zone >= 0], minlength=n_z).astype(np.int64)
        cols["stations"] = np.append(counts, counts.sum())
        if st.vehicles is not None:
            from .coverage import ambulance_check
            veh = np.zeros(n_z)
            ok = st_zone >= 0
            np.add.at(veh, st_zone[ok], st.vehicles[ok])
            pop_all = z["population"].to_numpy(dtype=np.float64)
            check = ambulance_check(np.append(pop_all[:-1], pop_all[-1]), np.append(veh, veh.sum()),
                                    float(residents_per_vehicle))
            cols["vehicles"] = check["vehicles"].to_numpy()
            cols["vehicles_needed"] = check["needed"].to_numpy()
            cols["vehicles_shortfall"] = check["shortfall"].to_numpy()
            outside = int((~ok).sum())
            if outside:
                self.notes.append(f"{outside} station(s) stand in no zone: their vehicles count in no zone's check")
        self.table = pd.DataFrame(cols, index=zone_index)
        self.table.attrs["notes"] = self.notes
        self.table.attrs["thresholds_min"] = dict(thresholds)

        # -- station table ------------------------------------------------------------------------
        n_st = len(st.ids)
        pop_near = np.full(n_st, np.nan)
        pop_cov = np.full(n_st, np.nan)
        pop_near[used] = cov.stations["population"].to_numpy()
        pop_cov[used] = cov.stations["covered_population"].to_numpy()
        scols = _point_columns(st, study, st_zone, rr, cc, moved, status)
        scols["offset_minutes"] = dispatch + st.turnout_s / 60.0
        scols["population_nearest"] = pop_near
        scols["population_covered"] = pop_cov
        if st.vehicles is not None:
            scols["vehicles"] = st.vehicles
            need = np.where(np.isfinite(pop_near), np.ceil(np.nan_to_num(pop_near) / residents_per_vehicle), np.nan)
            scols["vehicles_needed"] = need
            scols["vehicles_shortfall"] = np.where(np.isfinite(need), np.maximum(0.0, need - np.floor(st.vehicles)),
                                                   np.nan)
        self.stations = pd.DataFrame(scols, index=pd.Index(st.ids, name="station"))
        self._station_frame = st.frame

        # -- curve ---------------------------------------------------------------------------------
        self.curve = cov.curve.copy()
        self.curve.index.name = "minutes"
        self.curve.columns = zone_index
        return self

    # -- properties ----------------------------------------------------------------------------

    @property
    def minutes(self) -> np.ndarray:
        """Response time in minutes (float32, inf unreachable)."""
        return self.seconds / np.float32(60.0)

    @property
    def transform(self) -> tuple:
        """GDAL geotransform of the arrays."""
        return self.grid.transform

    @property
    def covered(self) -> np.ndarray:
        """Boolean per cell: response time <= the threshold of the cell's class."""
        thr = np.array([self.thresholds_min[c] * 60.0 for c in self.class_names], dtype=np.float64)
        if self.cell_class is None:
            return self.seconds <= thr[0]
        cls = np.where(self.cell_class == NO_CLASS, 0, self.cell_class)
        return self.seconds <= thr[cls]

    def _headline(self) -> str:
        r = self.table.iloc[-1]
        thr = ", ".join(f"{c} {m:g} min" for c, m in self.thresholds_min.items())
        head = "MODELLED — " if self.modelled else ""
        return (f"{head}Reach of {len(self.stations)} {self.label} ({thr}, dispatch {self.dispatch_minutes:g} min): "
                f"{r['covered']:,.0f} of {r['population']:,.0f} people covered ({r['covered_share']:.1%}), mean "
                f"{r['mean_minutes']:.1f} min, p90 {r['p90_minutes']:.1f} min")

    def __repr__(self) -> str:
        return f"{self._headline()}\n{self.table.to_string()}"

    def _repr_html_(self) -> str:
        """Jupyter: the headline, the zone table and the MODELLED notes."""
        import html
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes if n.startswith("MODELLED"))
        return (f"<p><b>{html.escape(self._headline())}</b></p>"
                + self.table.to_html(float_format=lambda v: f"{v:,.2f}")
                + (f"<ul>{notes}</ul>" if notes else ""))

    # -- isochrones ----------------------------------------------------------------------------

    def isochrones(self, minutes=None, *, cumulative=True):
        """Isochrone polygons (display only; people are counted on the grid) as a GeoDataFrame in the grid CRS
        (:func:`careshed.isochrones`): one valid MultiPolygon per band with ``band``, ``from_min``, ``to_min``,
        ``label``, ``cells``, ``area_m2``, ``area_km2``. `minutes`: default the thresholds. `cumulative` bands
        contain every cell up to their time (nested); otherwise rings that tile."""
        if minutes is None:
            minutes = sorted(set(self.thresholds_min.values()))
        minutes = [float(m) for m in _as_list(minutes)]
        key = (tuple(minutes), bool(cumulative))
        if key not in self._isochrones:
            from .coverage import isochrones
            t = time.perf_counter()
            frame = isochrones(self.seconds, self.grid, minutes, cumulative=bool(cumulative))
            frame["area_km2"] = frame["area_m2"] / 1e6
            self._isochrones[key] = frame
            if hasattr(self, "timings"):
                self.timings["isochrones"] = self.timings.get("isochrones", 0.0) + time.perf_counter() - t
        return self._isochrones[key]

    # -- outputs -------------------------------------------------------------------------------

    def _zones_layer(self):
        z = self.study.zones.copy()
        numbers = self.table.iloc[:-1].drop(columns=[k for k in self.study.keep if k in self.table.columns])
        keep = [k for k in self.study.keep if k in z.columns]
        layer = z[[self.study.zone_id] + [k for k in keep if k != self.study.zone_id] + [z.geometry.name]].copy()
        for col in numbers.columns:
            layer[col] = numbers[col].to_numpy()
        return layer

    def station_points(self):
        """The stations as a GeoDataFrame (points in the grid CRS) with the station table's columns."""
        import geopandas as gpd
        from shapely.geometry import Point

        frame = self.stations.reset_index()
        return gpd.GeoDataFrame(frame, geometry=[Point(x, y) for x, y in zip(frame["x"], frame["y"])],
                                crs=self.grid.crs)

    def to_csv(self, path) -> Path:
        """The zone table as CSV (notes as leading ``# `` lines), atomically."""
        return write_table(self.table, path)

    def to_geopackage(self, path, *, isochrone_minutes=None, crs=None) -> Path:
        """One GeoPackage (written to a temporary name, then renamed) with layers: ``zones`` (polygons + the
        zone table), ``region`` (the region row), ``stations`` (points + the station table), ``isochrones``
        (display polygons at the thresholds, cumulative), ``curve`` (covered share by minute) and ``notes``.

        `crs`: CRS of the layers — None (default) the analysis grid's metric CRS (the GeoTIFFs' too), ``"zones"``
        the zones' own CRS (e.g. lon/lat), or any CRS string."""
        from .io import write_layers

        region = self.table.iloc[[-1]].reset_index()
        region[self.study.zone_id] = region[self.study.zone_id].astype(str)
        curve = self.curve.copy()
        curve.columns = [f"share_{c}" for c in curve.columns]
        curve = curve.reset_index()
        notes = pd.DataFrame({"note": self.notes or ["(none)"]})
        iso = self.isochrones(isochrone_minutes).copy()
        iso["note"] = "display only: people are counted on the grid" + (" — MODELLED inputs" if self.modelled else "")
        stations = self.station_points()
        stations["status"] = stations["status"].astype(str)
        for c in ("zone", "name"):
            if c in stations.columns:
                stations[c] = stations[c].astype(object)
        zones = self._zones_layer()
        if crs is not None:
            target = self.study.frame.crs if crs == "zones" else crs
            zones, stations, iso = zones.to_crs(target), stations.to_crs(target), iso.to_crs(target)
        write_layers(path, {"zones": zones, "region": region, "stations": stations,
                            "isochrones": iso, "curve": curve, "notes": notes})
        return Path(path)

    def to_geotiff(self, target=".", *, prefix="reach") -> dict:
        """Cloud-Optimised GeoTIFFs (temporary name, then renamed) of the response minutes (float32, NaN =
        unreachable), the nearest station (int32 index into ``stations``, -1 = none; the station ids are in
        the file's metadata), the people per cell and, with classes, the class per cell. `target` is a folder
        (files ``<prefix>_minutes.tif`` ...) or a dict {"minutes": path, "nearest": path, ...}. Returns the
        paths written."""
        if isinstance(target, Mapping):
            paths = {k: Path(v) for k, v in target.items()}
        else:
            folder = Path(target)
            folder.mkdir(parents=True, exist_ok=True)
            paths = {"minutes": folder / f"{prefix}_minutes.tif", "nearest": folder / f"{prefix}_nearest.tif",
                     "population": folder / f"{prefix}_population.tif"}
            if self.cell_class is not None:
                paths["class"] = folder / f"{prefix}_class.tif"
        unknown = set(paths) - {"minutes", "nearest", "population", "class"}
        if unknown:
            raise InputError(f"to_geotiff: unknown output {sorted(unknown)[0]!r}; use minutes, nearest, population, "
                             "class")
        meta = {f"CARESHED_NOTE_{i:02d}": n.replace("\n", " ") for i, n in enumerate(self.notes)}
        if self.modelled:
            meta["CARESHED_MODELLED"] = "yes: some inputs are MODELLED (see the notes)"
        out = {}
        if "minutes" in paths:
            m = self.minutes.astype(np.float32)
            m = np.where(np.isfinite(m), m, np.float32(np.nan)).astype(np.float32)
            out["minutes"] = Path(write_geotiff(paths["minutes"], m, self.grid,
                                                metadata={"UNITS": "minutes (response: dispatch + turnout + travel)",
                                                          **meta}))
        if "nearest" in paths:
            ids = "|".join(str(i) for i in self.stations.index)
            out["nearest"] = Path(write_geotiff(paths["nearest"], self.nearest.astype(np.int32), self.grid, nodata=-1,
                                                metadata={"VALUES": "index of the nearest station, -1 none",
                                                          "STATION_IDS": ids[:30000], **meta}))
        if "population" in paths:
            out["population"] = Path(write_geotiff(paths["population"], self.population, self.grid,
                                                   metadata={"UNITS": "people per cell", **meta}))
        if "class" in paths:
            if self.cell_class is None:
                raise InputError("to_geotiff: this study has one class for every cell; there is no class raster")
            out["class"] = Path(write_geotiff(paths["class"], self.cell_class, self.grid, nodata=NO_CLASS,
                                              metadata={"CLASSES": "|".join(f"{i}={c}" for i, c in
                                                                            enumerate(self.class_names)), **meta}))
        return out

    def save(self, folder, *, prefix="reach", draw_map=True) -> list:
        """Every output into `folder`: ``PREFIX.csv`` (zone table), ``PREFIX_stations.csv``, ``PREFIX_curve.csv``
        (notes as leading ``# `` lines), ``PREFIX.gpkg``, ``PREFIX.png`` (unless ``draw_map=False``) and the
        GeoTIFFs of :meth:`to_geotiff`. Each file is written under a temporary name and renamed. Returns the
        paths written."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = [self.to_csv(folder / f"{prefix}.csv")]
        written.append(write_table(self.stations, folder / f"{prefix}_stations.csv", notes=self.notes))
        written.append(write_table(self.curve, folder / f"{prefix}_curve.csv", notes=self.notes))
        written.append(self.to_geopackage(folder / f"{prefix}.gpkg"))
        if draw_map:
            self.plot(folder / f"{prefix}.png")
            written.append(folder / f"{prefix}.png")
        written += list(self.to_geotiff(folder, prefix=prefix).values())
        return written

    def plot(self, path=None, *, title=None, zone_label=None, dpi=120):
        """A map: zones, stations, populated cells shaded covered / beyond the threshold / unreachable, legend,
        scale bar, north arrow; the title says MODELLED when any input is. Returns the matplotlib Figure;
        with `path`, also writes a PNG (temporary name, then renamed). `zone_label`: zone field to label zones
        with (default the first kept field)."""
        from .mapping import plot_reach
        return plot_reach(self, path, title=title, zone_label=zone_label, dpi=dpi)


# ---- one call -----------------------------------------------------------------------------------

_STUDY_ARGS = ("zone_id", "population", "population_raster", "population_band", "class_shares", "classes",
               "friction", "friction_unit", "speed_raster", "travel", "cell_size_m", "crs", "margin_m", "counting",
               "keep", "region_label", "zones_layer")


def reach(zones, stations, *, zone_id, thresholds_min=None, modelled=None, notes=None, **kwargs) -> Reach:
    """Ambulance reach in one call: :class:`Study` (zones, population, classes, travel model) then
    :meth:`Study.reach` (stations, thresholds, delays). Every keyword of both is accepted; see their docs.

    Example (the modelled Quzhou example; every output says MODELLED)::

        r = careshed.reach("data/quzhou/counties.geojson", "data/quzhou/county_seats.csv",
                           zone_id="adcode", population="pop_census2020",
                           x="lon", y="lat", crs="EPSG:4326", station_id="county_adcode",
                           travel={"roads": "data/quzhou/roads_modelled.geojson",
                                   "road_profile": {"trunk": 60}, "background_speed_kmh": 25},
                           classes={"polygons": "data/quzhou/urban_cores_modelled.geojson"},
                           thresholds_min={"urban": 11, "rural": 15}, dispatch_minutes=3,
                           modelled="population spread by modelled urban cores; modelled roads")
        r.table; r.plot("reach.png"); r.to_geopackage("reach.gpkg")
    """
    study_kw = {k: kwargs.pop(k) for k in list(kwargs) if k in _STUDY_ARGS}
    study = Study(zones, zone_id=zone_id, modelled=modelled, notes=notes, thresholds_min=thresholds_min, **study_kw)
    return study.reach(stations, thresholds_min=thresholds_min, **kwargs)
