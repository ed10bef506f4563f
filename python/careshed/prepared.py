"""A study area prepared once: zones, the analysis grid, people per cell, urban/rural classes, the travel model.

:class:`PreparedStudy` does everything an analysis needs that does not depend on the facilities, once; the
analyses (careshed.analyses) then run on it for any set of facilities in well under a second. Users meet it as
:class:`careshed.Study`, which adds one method per analysis (``study.reach(...)``, ``study.catchments(...)``,
...); the split keeps this preparation below the analyses and the methods above them, so imports only go down
(docs/architecture.md).
"""
from __future__ import annotations

import contextlib
import math
import os
import time
import warnings
from typing import Mapping

import numpy as np

from .arrays.friction import FrictionSurface, friction_surface
from .arrays.geometry import check_polygons, metric_crs_for, overlapping_pairs
from .arrays.multimodal import ride_modes, travel_time_multimodal
from .arrays.terrain import read_elevation, terrain_options, terrain_reach_lists, travel_time_terrain
from .arrays.time_of_day import describe_factors, hour_factors
from .arrays.travel_time import nearest_travel_time, travel_time_grid_reach_lists
from .arrays.zonal import (ZoneRaster, check_population_raster, outside_as_zone, population_grid,
                           rasterize_zones, urban_rural)
from .constants import DEFAULT_CELL_SIZE_M, DEFAULT_THRESHOLDS_MIN, NO_CLASS, OUTSIDE_ZONES_LABEL
from .errors import CRSError, InputError, MemoryLimitError, UsageError, keyword
from .io.fields import as_list, column, numeric_column, unique_ids
from .io.raster import make_grid, read_raster
from .io.vector import NO_CRS_ADVICE, describe_source, load
from .results import modelled_notes

__all__ = ["PreparedStudy", "check_thresholds", "thresholds_text"]

# Keys of Study(travel=...) that describe walking on terrain (the rest are friction_surface arguments).
_TERRAIN_KEYS = ("dem", "terrain_model", "rwalk", "terrain_direction")


def check_thresholds(thresholds_min, class_names: list[str] | None) -> dict[str, float]:
    """{class name: minutes} in class-index order, checked (positive, finite)."""
    if thresholds_min is None:
        thresholds_min = dict(DEFAULT_THRESHOLDS_MIN)
    if isinstance(thresholds_min, (int, float, np.integer, np.floating)) and not isinstance(thresholds_min, bool):
        names = class_names or ["all"]
        thresholds_min = {n: float(thresholds_min) for n in names}
    if not isinstance(thresholds_min, Mapping) or not thresholds_min:
        raise UsageError(f"{keyword('thresholds_min')}: expected minutes per class, e.g. "
                         "{'urban': 11, 'rural': 15}, or one number for every class; got "
                         f"{thresholds_min!r}")
    out = {}
    for name, value in thresholds_min.items():
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise UsageError(f"{keyword('thresholds_min')}: the threshold of class {name!r} must be a number of minutes, "
                             f"got {value!r}") from None
        if not math.isfinite(v) or v <= 0:
            raise UsageError(f"{keyword('thresholds_min')}: the threshold of class {name!r} is {value!r}; thresholds must be "
                             "positive numbers of minutes")
        out[str(name)] = v
    if class_names is not None:
        missing = [c for c in class_names if c not in out]
        if missing:
            raise UsageError(f"{keyword('thresholds_min')}: class {missing[0]!r} of the urban/rural classes has no threshold; "
                             f"give one for every class ({', '.join(class_names)}), e.g. "
                             f"thresholds_min={{{', '.join(repr(c) + ': 15' for c in class_names)}}}")
        out = {c: out[c] for c in class_names}  # class-index order; extra names are an error:
        extra = [c for c in thresholds_min if str(c) not in class_names]
        if extra:
            raise UsageError(f"{keyword('thresholds_min')}: class {extra[0]!r} is not one of the study's classes "
                             f"({', '.join(class_names)})")
    return out


def thresholds_text(thresholds: Mapping) -> str:
    """The checked thresholds as the notes state them: "urban 11 min, rural 15 min"."""
    return ", ".join(f"{c} {m:g} min" for c, m in thresholds.items())


@contextlib.contextmanager
def grid_memory(grid):
    """A MemoryError while the grid's arrays are made says how big the grid is and what to change, as careshed's
    MemoryLimitError (a MemoryError); when the error was already one (a refusal with the estimate and the limit, or
    a failed allocation in the core) its text is kept in the message and the error itself as the cause."""
    try:
        yield
    except MemoryError as e:
        kept = f" ({str(e).strip()})" if isinstance(e, MemoryLimitError) and str(e).strip() else ""
        raise MemoryLimitError(
            f"the analysis grid of {grid.width:,} x {grid.height:,} cells ({grid.cell_size[0]:g} m) does not fit in "
            f"memory; use a larger {keyword('cell_size_m')} or a smaller area{kept}") from e


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


class PreparedStudy:
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
        it: `cell_size_m`, `metric_crs` and `margin_m` are ignored). A path is a friction raster in `friction_unit`.
    speed_raster : path, optional
        Speeds in km/h (any GDAL raster and CRS).
    travel : dict, optional
        Arguments of :func:`careshed.friction_surface` to build the surface on the study's grid, e.g.
        ``{"roads": "roads.gpkg", "road_profile": "ambulance", "background_speed_kmh": 20}``. Walking on terrain
        (docs/travel-modes.md): ``"dem"`` (a DEM file, a list of tiles or a folder of tiles, e.g. SRTM ``.hgt.zip``)
        makes uphill slower than downhill, with ``"terrain_model"`` ``"tobler"`` (default) or ``"rwalk"``,
        ``"rwalk"`` (r.walk's coefficients a, b, c, d, slope_factor, lambda) and ``"terrain_direction"``
        ``"toward"`` (default: patients travel to the facilities) or ``"away"``. Cells without elevation become
        impassable. The reach and catchments analyses use it. Time of day: ``"hours"``, road speed factors by
        hour ``{hour: {class: factor}}`` (``"*"`` = every other class) or a CSV (hour,class,factor); then
        ``reach(..., hour=8)`` runs at that hour and ``reach_by_hour`` at every hour (docs/travel-modes.md). Walk
        then ride: ``"modes"`` ``{"road": {"network": "roads.osm.pbf", "board_minutes": 5}, "ferry": {"network":
        "ferry.gpkg", "speed_kmh": 25, "wait_minutes": 60}}`` (careshed.arrays.ride_modes): the friction is then
        the walking surface, and reach, catchments and the round trip search walk + ride in one search (the reach
        result adds the trip mode per cell and the people per zone by mode). ``"max_walk_minutes"`` (with
        ``"modes"``): the longest walking leg of a trip that rides — to the road, between rides, from the road to
        the facility — inclusive; trips that walk all the way are not capped (docs/travel-modes.md).
    cell_size_m : float
        Cell size of the analysis grid in metres (default 100).
    metric_crs : str, optional
        Metric CRS of the analysis grid. Default: the zones' CRS when projected, else the WGS 84 / UTM zone of
        their centre. Outputs are written in it. (Formerly ``crs=``, still accepted with a DeprecationWarning;
        ``crs=`` of the analyses is the CRS of the facility points.)
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
                 travel=None, cell_size_m=DEFAULT_CELL_SIZE_M, metric_crs=None, margin_m=0.0, counting="centre", keep=None,
                 modelled=None, notes=None, region_label="region", zones_layer=None, thresholds_min=None,
                 crs=None):
        if crs is not None:
            if metric_crs is not None:
                raise UsageError("give metric_crs= only (crs= is its former name)")
            warnings.warn("Study(crs=...) is deprecated: the grid's CRS is metric_crs=; crs= of study.reach/"
                          "catchments/access is the CRS of the facility points", DeprecationWarning, stacklevel=2)
            metric_crs = crs
        self.timings: dict[str, float] = {}
        t0 = time.perf_counter()
        self.notes: list[str] = modelled_notes(modelled)
        self._modelled = bool(self.notes)
        self.region_label = str(region_label)
        self.zone_id = zone_id

        # -- zones ------------------------------------------------------------------------------
        frame = load(zones, what="zones", layer=zones_layer, table_ok=False, layer_keyword="zones_layer",
                     crs_keyword=None)
        self.source = describe_source(frame)
        geom_name = getattr(frame, "_geometry_column_name", None)
        if not geom_name or geom_name not in frame.columns:
            raise InputError(f"{self.source}: the zones have no polygons; reach needs zone polygons")
        if len(frame) == 0:
            raise InputError(f"{self.source}: the zones layer is empty (no features); give a layer with the zone "
                             "polygons")
        if frame.crs is None:
            raise CRSError(f"{self.source}: the zones have no CRS; {NO_CRS_ADVICE}")
        ids = column(frame, zone_id, "zone id").tolist()
        seen = unique_ids(self.source, zone_id, ids, "zone")
        if str(region_label) in seen:
            raise UsageError(f"region_label {region_label!r} is also a zone id; choose another "
                             f"{keyword('region_label')}")
        if OUTSIDE_ZONES_LABEL in seen:
            raise InputError(f"{self.source}: a zone is called {OUTSIDE_ZONES_LABEL!r}, the label of the row of the "
                             "people outside every zone; rename that zone")
        self.ids = ids
        self.keep = [keep] if isinstance(keep, str) else list(keep or [])
        for k in self.keep:
            column(frame, k, "kept column")
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
            if metric_crs is None:
                metric_crs = metric_crs_for(frame)
            cell = float(cell_size_m)
            if not math.isfinite(cell) or cell <= 0:
                raise UsageError(f"cell size {cell_size_m!r}: give a positive number of metres, e.g. "
                                 f"{keyword('cell_size_m', 100)}")
            metric = frame.to_crs(metric_crs)
            if metric.crs.is_geographic:
                raise CRSError(f"{keyword('metric_crs', metric_crs)} is a longitude/latitude CRS; the analysis runs "
                               "in a metric CRS (e.g. a UTM zone): give a projected one, or leave it out to use the "
                               "UTM zone of the zones' centre")
            x0, y0, x1, y1 = metric.total_bounds
            m = float(margin_m)
            grid = make_grid((x0 - m, y0 - m, x1 + m, y1 + m), cell, metric_crs)
        self.grid = grid
        self.zones = frame.to_crs(grid.crs)
        self.zones.attrs.update(frame.attrs)
        self.frame = frame
        self.timings["grid"] = time.perf_counter() - t0

        # -- zones on the grid --------------------------------------------------------------------
        t = time.perf_counter()
        problems = check_polygons(self.zones.geometry)
        if problems:
            detail = "; ".join(f"zone {ids[j]!r} (row {j + 1}): {reason}" for j, reason in problems[:5])
            raise InputError(f"{self.source}: {len(problems)} invalid polygon(s): {detail}. Repair them first, e.g. "
                             "`ogr2ogr -makevalid fixed.gpkg input.gpkg`")
        overlaps = overlapping_pairs(self.zones.geometry)
        if overlaps:
            detail = "; ".join(f"zone {ids[i]!r} (row {i + 1}) and zone {ids[j]!r} (row {j + 1}) share "
                               f"{area / 1e6:.3g} km²" for i, j, area in overlaps[:5])
            raise InputError(f"{self.source}: {len(overlaps)} pair(s) of zones overlap: {detail}. Zones must not "
                             "overlap (each person is counted in one zone): fix the boundaries, or run the "
                             "overlapping layers as separate studies")
        if counting not in ("centre", "fraction"):
            raise UsageError(f"counting: {counting!r}; use 'centre' (cell centre in zone) or 'fraction' (exact "
                             "area fractions)")
        self.counting = counting
        with grid_memory(grid):
            self.zone_raster = rasterize_zones(self.zones, grid, counting, zone_id=zone_id)
        self.timings["zones"] = time.perf_counter() - t

        # -- friction ---------------------------------------------------------------------------
        t = time.perf_counter()
        terrain_spec = {}
        modes_spec = None
        self.hours = None  # {hour: {road class: speed factor}} when the travel model has them
        self._travel_args = None
        self._friction_by_hour: dict = {}
        given = [friction is not None, speed_raster is not None, travel is not None]
        if sum(given) != 1:
            raise UsageError(f"give exactly one travel model: {keyword('friction')} (a friction raster), "
                             f"{keyword('speed_raster')} (km/h) or {keyword('travel')} (land cover / roads / "
                             "background speed)")
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
            travel = dict(travel)
            terrain_spec = {k: travel.pop(k) for k in _TERRAIN_KEYS if k in travel}
            modes_spec = travel.pop("modes", None)
            max_walk = travel.pop("max_walk_minutes", None)
            if max_walk is not None and modes_spec is None:
                raise UsageError("travel: 'max_walk_minutes' caps the walking legs of trips that ride: give it with "
                                 "'modes' (walk then ride), or leave it out")
            if modes_spec is not None and (terrain_spec or travel.get("hours") is not None):
                raise UsageError("travel: 'modes' (walk then ride) cannot be combined with 'dem' or 'hours' yet; "
                                 "run walk + ride on a flat walking surface at the roads' own speeds")
            if modes_spec is not None and travel.get("roads") and travel.get("road_profile") != "walking":
                raise UsageError("travel: with 'modes' the friction is the walking surface and the roads are ridden "
                                 "on their graph: drop 'roads' (or give road_profile='walking' to walk along them)")
            if travel.get("hours") is not None:
                if not travel.get("roads"):
                    raise UsageError("travel: 'hours' (road speed factors by hour) need roads: add travel={'roads': "
                                     "..., 'hours': ...}")
                self.hours = hour_factors(travel.pop("hours"))
                if "road_speed_factor" in travel:
                    raise UsageError("travel: give 'hours' or 'road_speed_factor', not both")
            travel.pop("hours", None)
            self._travel_args = travel
            fs = friction_surface(grid, **travel)
        self.friction = fs
        #: None, or the walking-on-terrain model: {"elevation": float32 (H, W) metres, "model", "rwalk", "direction"}
        self.terrain = None
        if terrain_spec:
            self.terrain = self._terrain(terrain_spec)
        #: None, or the ride network of travel={"modes": ...} (careshed.arrays.ride_modes)
        self.ride = None
        if modes_spec is not None:
            self.ride = ride_modes(modes_spec, grid, max_walk_minutes=max_walk)
            self.notes += [f"travel: {n}" for n in self.ride["notes"]]
        self._check_friction_covers_zones(friction if friction is not None else speed_raster,
                                          "friction" if friction is not None else "speed_raster")
        self.notes += [f"travel: {n}" for n in fs.notes]
        self.timings["friction"] = time.perf_counter() - t

        # -- classes that do not need the population ----------------------------------------------
        spec = _class_spec(classes)
        self._class_spec = spec
        self.class_names = _class_names_of(spec, frame, thresholds_min) if spec is not None else None
        # The study's default thresholds for reach() (checked now, so a bad value fails early).
        self.thresholds_min = check_thresholds(thresholds_min, self.class_names) if thresholds_min is not None else None
        t = time.perf_counter()
        cell_class = None
        if spec is not None and "density_per_km2" not in spec:
            cell_class = self._classes(spec)
        self.timings["classes"] = time.perf_counter() - t

        # -- population ---------------------------------------------------------------------------
        t = time.perf_counter()
        if population is None and population_raster is None:
            raise UsageError(f"give the people: {keyword('population')} (a zone field with residents per zone) "
                             f"and/or {keyword('population_raster')} (people per cell)")
        self.population_field = population
        totals = None
        if population is not None:
            totals, _ = numeric_column(frame, population, "population", ids=ids)
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
                check_population_raster(population_raster, int(population_band))
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
        self.notes += [str(n) for n in as_list(notes)]

    # -- helpers of __init__ -------------------------------------------------------------------

    def _terrain(self, spec: dict) -> dict:
        """Reads the DEM onto the grid and checks the terrain options; cells without elevation become impassable
        in the friction (so facilities snap to cells the search can use)."""
        if "dem" not in spec:
            given = ", ".join(sorted(spec))
            raise UsageError(f"travel: {given} need a DEM: add travel={{'dem': 'dem.tif', ...}} (a file, a list of "
                             "tiles or a folder of tiles)")
        model, rwalk, toward = terrain_options(spec.get("terrain_model", "tobler"), spec.get("rwalk"),
                                               spec.get("terrain_direction", "toward"), what="travel")
        elevation, report = read_elevation(spec["dem"], self.grid)
        fric = self.friction.seconds_per_metre
        lost = np.isfinite(fric) & np.isnan(elevation)
        if lost.any():
            fric[lost] = np.nan
        names = ", ".join(os.path.basename(p) for p in report["sources"])
        self.notes.append(f"travel: walking on terrain, {'Tobler' if model == 'tobler' else 'r.walk'} slope model "
                          f"from the DEM {names} (elevation {report['min_m']:.0f} to {report['max_m']:.0f} m), times "
                          f"{'to' if toward else 'from'} the facilities"
                          + (f"; {int(lost.sum()):,} passable cell(s) without elevation made impassable" if lost.any()
                             else ""))
        coeffs = dict(zip(("a", "b", "c", "d", "slope_factor", "lambda"), rwalk)) if model == "rwalk" else None
        return {"elevation": elevation, "model": model, "rwalk": coeffs, "direction": "toward" if toward else "away"}

    def friction_at(self, hour=None):
        """The friction surface at `hour` (None: the travel model's own speeds): roads at their speed times the
        hour's factors (``travel={"hours": ...}``), built once per hour and kept; cells without elevation stay
        impassable. InputError naming the hours that have factors otherwise."""
        if hour is None:
            return self.friction
        if self.hours is None:
            raise InputError(f"hour={hour!r}: the study's travel model has no speed factors by hour; give "
                             "travel={'roads': ..., 'hours': {8: {'primary': 0.5, '*': 0.8}}} to the Study")
        try:
            h = int(hour)
        except (TypeError, ValueError):
            h = None
        if h is None or h != hour or h not in self.hours:
            raise InputError(f"hour={hour!r}: the speed factors are given for hours "
                             f"{', '.join(map(str, self.hours))}; choose one of them")
        if h not in self._friction_by_hour:
            fs = friction_surface(self.grid, **self._travel_args, road_speed_factor=self.hours[h])
            if self.terrain is not None:
                fs.seconds_per_metre[np.isnan(self.terrain["elevation"])] = np.nan
            fs.notes.append(f"time of day: hour {h}, road speeds {describe_factors(self.hours[h])}")
            self._friction_by_hour[h] = fs
        return self._friction_by_hour[h]

    def nearest_travel_time(self, sources, start_offsets_seconds, max_seconds, neighbours, hour=None,
                            direction=None):
        """(seconds float32 (H, W), nearest int32 (H, W)), C-contiguous: the nearest-source search of the study's
        travel model (on terrain when the travel model has a DEM; at `hour` with the hour's road speed factors),
        as the analyses use it. `direction` ("toward" / "away" the sources) overrides the terrain model's own for
        legs whose direction is fixed (the ambulance's round trip); the isotropic model is the same both ways."""
        if self.ride is not None:
            seconds, nearest, _mode = self.nearest_travel_mode(sources, start_offsets_seconds, max_seconds,
                                                               neighbours, direction=direction)
            return seconds, nearest
        fric = self.friction_at(hour).seconds_per_metre
        if self.terrain is None:
            return nearest_travel_time(fric, sources, self.grid.cell_size, start_offsets_seconds, max_seconds,
                                       neighbours)
        t = self.terrain
        seconds, nearest = travel_time_terrain(
            fric, t["elevation"], sources, cell_size=tuple(float(v) for v in self.grid.cell_size),
            neighbours=neighbours, max_seconds=max_seconds,
            start_offsets_seconds=np.ascontiguousarray(start_offsets_seconds, dtype=np.float64),
            model=t["model"], rwalk=t["rwalk"], direction=direction or t["direction"])
        return np.ascontiguousarray(seconds, dtype=np.float32), np.ascontiguousarray(nearest, dtype=np.int32)

    def nearest_travel_mode(self, sources, start_offsets_seconds, max_seconds, neighbours, direction=None):
        """(seconds float32, nearest int32, trip mode uint8) of the walk + ride search (travel={"modes": ...}):
        mode 0 walking only, 1 + m the highest ride mode m (careshed.arrays.RIDE_MODES) the trip uses."""
        if self.ride is None:
            raise UsageError("nearest_travel_mode needs a Study with travel={'modes': ...} (walk then ride)")
        r = self.ride
        seconds, nearest, mode = travel_time_multimodal(
            self.friction.seconds_per_metre, sources, cell_size=tuple(float(v) for v in self.grid.cell_size),
            ride_edges=r["edges"], node_cells=r["node_cells"], node_modes=r["node_modes"],
            board_minutes=r["board_minutes"], alight_minutes=r["alight_minutes"], max_seconds=max_seconds,
            start_offsets_seconds=np.ascontiguousarray(start_offsets_seconds, dtype=np.float64),
            direction=direction or "toward", neighbours=neighbours, max_walk_seconds=r.get("max_walk_seconds"))
        return (np.ascontiguousarray(seconds, dtype=np.float32), np.ascontiguousarray(nearest, dtype=np.int32),
                mode)

    def walk_cap_reason(self) -> str | None:
        """With a maximum walking leg (travel={"modes": ..., "max_walk_minutes": ...}), why a passable cell may
        have no trip at all (every trip from it rides and has a leg longer than the cap); None otherwise."""
        cap = (self.ride or {}).get("max_walk_seconds")
        return None if cap is None else f"joined only through a walking leg longer than the maximum of {cap / 60.0:g} min"

    def searches_reach_lists(self, n_sources: int, max_seconds: float) -> bool:
        """Whether an analysis must take its per-facility reach lists from :meth:`reach_lists` rather than let the
        engine search the friction itself: on terrain here; a Study made with ``tiles=`` also when it tiles."""
        return self.terrain is not None

    def require_symmetric_travel(self, analysis: str) -> None:
        """UsageError when the travel model walks then rides (travel={"modes": ...}), which `analysis` cannot use
        (it would silently ignore the ride network). Walking on terrain is fine: see :meth:`reach_lists`."""
        if self.ride is not None:
            raise UsageError(f"{analysis} does not support walk then ride (travel={{'modes': ...}}) yet: it needs "
                             "per-facility searches; run it on a Study without 'modes', or use reach / catchments")

    def require_isotropic_friction(self, analysis: str) -> None:
        """UsageError when the travel model is not the plain friction surface — walk then ride
        (travel={"modes": ...}) or walking on terrain (travel={"dem": ...}) — for an analysis whose searches read
        the friction surface itself (referral, outreach): it would silently ignore the rides or the slopes."""
        if self.ride is not None:
            raise UsageError(f"{analysis} does not support walk then ride (travel={{'modes': ...}}) yet: its searches "
                             "run on the walking friction alone and would ignore the rides; run it on a Study "
                             "without 'modes'")
        if self.terrain is not None:
            raise UsageError(f"{analysis} does not support walking on terrain (travel={{'dem': ...}}) yet: its "
                             "searches run on the friction alone and would ignore the slopes; run it on a Study "
                             "without 'dem'")

    def reach_lists(self, sources, max_seconds, neighbours, start_offsets_seconds=None):
        """(offsets, cells, seconds): each source (row, col) searched alone within `max_seconds` (inclusive) on the
        study's travel model, as :func:`careshed.arrays.travel_time_grid_reach_lists` gives them — on terrain (one
        directed search per source, in the terrain model's direction: patients to the facility by default) when the
        travel model has a DEM. What the per-facility analyses (access, optimize) use."""
        fric = self.friction.seconds_per_metre
        if self.terrain is None:
            return travel_time_grid_reach_lists(fric, sources, max_seconds=max_seconds, cell_size=self.grid.cell_size,
                                                neighbours=neighbours, start_offsets_seconds=start_offsets_seconds)
        t = self.terrain
        return terrain_reach_lists(fric, t["elevation"], sources, max_seconds=max_seconds,
                                   cell_size=tuple(float(v) for v in self.grid.cell_size), neighbours=neighbours,
                                   start_offsets_seconds=start_offsets_seconds, model=t["model"], rwalk=t["rwalk"],
                                   direction=t["direction"])

    def _index_of(self, name, what: str) -> int:
        names = self.class_names
        if names is None:
            raise InputError(f"classes: {what} names class {name!r}, but the classes have no names; give "
                             "thresholds_min={name: minutes, ...} to name them")
        if str(name) not in names:
            raise InputError(f"classes: class {name!r} ({what}) has no threshold; thresholds are given for "
                             f"{', '.join(names)} — add thresholds_min={{{name!r}: minutes, ...}}")
        return names.index(str(name))

    def _check_friction_covers_zones(self, source, param: str) -> None:
        """Zero friction is refused (it would mean infinite speed), and a friction/speed raster that has no passable
        cell in whole zones is reported as not covering them (not blamed later on a station placed there)."""
        fric = self.friction.seconds_per_metre
        name = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "the friction surface"
        zero = np.flatnonzero(fric.ravel() == 0)
        if zero.size:
            r, c = divmod(int(zero[0]), fric.shape[1])
            raise InputError(f"{name}: the friction is 0 at {zero.size:,} cell(s) of the grid (first at row {r}, "
                             f"col {c}); zero friction would mean infinite speed. Give the real friction there, or "
                             "declare those cells nodata (impassable), e.g. `gdal_edit.py -a_nodata 0 FILE`")
        if not isinstance(source, (str, os.PathLike)):
            return
        zone = self.zone_raster.zone
        n = self.zone_raster.n_zones
        inside = zone >= 0
        cells = np.bincount(zone[inside], minlength=n)
        passable = np.bincount(zone[inside & np.isfinite(fric)], minlength=n)
        missing = np.flatnonzero((cells > 0) & (passable == 0))
        share = passable.sum() / max(cells.sum(), 1)
        if missing.size:
            listed = ", ".join(repr(self.ids[i]) for i in missing[:10]) + (" ..." if missing.size > 10 else "")
            raise InputError(f"{name} ({keyword(param)}) has no data (or only impassable cells) in {missing.size} of "
                             f"{n} zone(s): {listed}; it covers {share:.0%} of the zones' cells. The raster does not "
                             "cover the study area: give one that does (or check its CRS and nodata value)")
        if share < 0.999:
            self.notes.append(f"{name}: has data in {share:.1%} of the zones' cells; the rest is impassable")

    def _classes(self, spec: dict) -> np.ndarray:
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
                values = column(polys, spec["field"], "class name").tolist()
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
            values = column(self.frame, spec["zone_field"], "zone class").tolist()
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
                v, _ = numeric_column(frame, src, f"share of class {name!r}", ids=ids)
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

    def zones_counting_everybody(self) -> tuple[ZoneRaster, list]:
        """The zones on the grid and their ids, plus one last zone ``"outside every zone"`` when the population
        raster puts people on the grid outside every zone (cells, or shares of boundary cells, no zone covers),
        so that tables count the same people as the maps. Zone totals spread with ``population=`` live inside
        the zones by construction: then the zones as they are."""
        if self.population_totals is None:
            arrays, people_outside = outside_as_zone(self.zone_raster, self.population)
            if people_outside > 0:
                ids = list(self.ids) + [OUTSIDE_ZONES_LABEL]
                return ZoneRaster(arrays["zone"], arrays["split_cell"], arrays["split_zone"], arrays["split_fraction"],
                                  arrays["n_zones"], self.zone_raster.rule, self.grid, ids=ids), ids
        return self.zone_raster, list(self.ids)

    def populated_cells(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Populated cells inside a zone, as demand for the planning models: flat cell ids (int64), people
        (float64) and zone index (int64; a split cell belongs to the zone holding the largest share of it)."""
        pop = np.nan_to_num(np.asarray(self.population, dtype=np.float64)).ravel()
        zr = self.zone_raster
        zone = zr.zone.ravel().astype(np.int64)
        if zr.split_cell.size:
            order = np.lexsort((-zr.split_fraction, zr.split_cell))
            cells, first = np.unique(zr.split_cell[order], return_index=True)
            zone[cells] = zr.split_zone[order][first]
        cells = np.flatnonzero((pop > 0) & (zone >= 0))
        return cells, pop[cells], zone[cells]

    def class_standard_seconds(self, thresholds_min: dict, cells: np.ndarray) -> np.ndarray:
        """Seconds of the standard of each of `cells`' class (`thresholds_min`: minutes per class name, in the
        study's class order; without classes, the first threshold for every cell; unclassified cells take the
        first class's standard)."""
        if self.cell_class is None:
            return np.full(cells.size, next(iter(thresholds_min.values())) * 60.0)
        cls = self.cell_class.ravel()[cells]
        cls = np.where(cls == NO_CLASS, 0, cls)
        return np.array([thresholds_min[c] * 60.0 for c in self.class_names], dtype=np.float64)[cls]

    @property
    def modelled(self) -> bool:
        """True when any input of the study is marked modelled."""
        return self._modelled

    def __repr__(self) -> str:
        lines = [f"Study({len(self.ids)} zones, {self.grid!r}, {np.nansum(self.population):,.0f} people, "
                 f"classes {self.class_names or ['all']})"]
        lines += [f"  - {n}" for n in self.notes]
        return "\n".join(lines)
