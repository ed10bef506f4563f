"""Friction surfaces: seconds per metre per cell, the input of :func:`careshed.arrays.travel_time_grid`.

Build one on an analysis grid (:func:`careshed.make_grid`) from any mix of land cover (a class raster + a
speed table, or cover-fraction rasters), roads from any OGR line source (``.osm.pbf``, GeoPackage, shapefile,
PostGIS ...) burned at their class speed, a speed raster (km/h), a published friction raster (any unit — the
Malaria Atlas Project surfaces are in minutes per metre) and a background speed, then barriers made
impassable. The rule: every layer gives a speed; the fastest per cell wins; barriers are applied last;
friction = 3.6 / speed_kmh s/m, NaN (impassable) where the speed is 0 or nothing gives a speed.

Example (the real Comoros bundle)::

    import careshed
    grid = careshed.make_grid("data/comoros/population.tif", cell_size_m=500)   # UTM 38S
    fs = careshed.friction_surface(
        grid,
        landcover_fractions={"data/comoros/landcover_Tree.tif": 2.5,
                             "data/comoros/landcover_Crops.tif": 4.0,
                             "data/comoros/landcover_BuiltUp.tif": 5.0},
        other_speed_kmh=3.0,
        roads="data/comoros/comores-latest.osm.pbf", road_profile="car")
    print(fs)               # notes say what was modelled
    seconds, nearest = careshed.arrays.travel_time_grid(fs.seconds_per_metre, sources, cell_size=fs.cell_size)
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from .. import _core
from ..memory import current as current_max_memory
from ..progress import current as current_progress
from ..errors import InputError
from ..io.raster import Grid, as_grid, looks_like_raster, write_geotiff


@dataclass
class FrictionSurface:
    """A friction surface: ``seconds_per_metre`` (float64, shape ``grid.shape``, NaN = impassable) on ``grid``,
    with ``notes`` saying what was modelled (sources, rules, cell counts) and ``report`` counts
    (road_features, road_features_skipped, skipped_classes, road_cells, barrier_cells, impassable_cells)."""

    seconds_per_metre: np.ndarray
    grid: Grid
    notes: list = field(default_factory=list)
    report: dict = field(default_factory=dict)

    @property
    def speed_kmh(self) -> np.ndarray:
        """Speed per cell in km/h (3.6 / friction; NaN where impassable)."""
        with np.errstate(divide="ignore"):
            return 3.6 / self.seconds_per_metre

    @property
    def cell_size(self) -> tuple[float, float]:
        """(dx, dy) in metres, for :func:`careshed.arrays.travel_time_grid`. Lon/lat grids have no single cell size
        in metres: use ``grid.row_cell_widths_m()`` / ``row_cell_heights_m()`` (InputError here)."""
        if self.grid.is_geographic:
            raise InputError("this friction surface is on a longitude/latitude grid, whose cells are not a fixed "
                             "size in metres; use grid.row_cell_widths_m() and grid.row_cell_heights_m(), or "
                             "build it on a metric grid (careshed.make_grid)")
        return self.grid.cell_size

    @property
    def impassable(self) -> np.ndarray:
        """Boolean mask of impassable cells."""
        return np.isnan(self.seconds_per_metre)

    def to_geotiff(self, path):
        """Write the surface (s/m, NaN nodata) as a Cloud-Optimised GeoTIFF; the notes go into its metadata."""
        meta = {"UNITS": "seconds per metre"}
        for i, note in enumerate(self.notes):
            meta[f"CARESHED_NOTE_{i}"] = note.replace("\n", " ")
        return write_geotiff(path, self.seconds_per_metre, self.grid, metadata=meta)

    def __repr__(self) -> str:
        n = self.seconds_per_metre.size
        lines = [f"FrictionSurface({self.grid!r}, {self.report.get('impassable_cells', 0)} of {n} cells "
                 f"impassable)"]
        lines += [f"  - {note}" for note in self.notes]
        return "\n".join(lines)


def _paths(obj, what: str) -> list:
    if obj is None:
        return []
    if isinstance(obj, (str, os.PathLike, dict)):
        return [obj]
    try:
        return list(obj)
    except TypeError:
        raise InputError(f"{what}: expected a path, a dict or a list of them, got {type(obj).__name__}") from None


def friction_surface(grid: Grid, *, landcover=None, landcover_speeds: dict | None = None,
                     landcover_default_speed_kmh: float | None = None, landcover_fractions: dict | None = None,
                     other_speed_kmh: float | None = None, fraction_full_cover: float = 100.0,
                     roads=None, road_profile="car", road_layer: str | None = None,
                     road_class_field: str = "highway", road_where: str | None = None, all_touched: bool = True,
                     road_speed_factor: dict | None = None,
                     speed_raster=None, friction_raster=None, friction_unit: str = "s/m",
                     raster_resampling: str = "bilinear", background_speed_kmh: float | None = None,
                     speed_kmh=None,
                     barriers=None, barrier_all_touched: bool = False, land=None) -> FrictionSurface:
    """Build a friction surface (s/m) on ``grid``.

    Args:
        grid: the analysis :class:`Grid` (metric: :func:`careshed.make_grid`).
        landcover: land-cover CLASS raster (integer codes), read with nearest neighbour.
        landcover_speeds: ``{class: speed_kmh}``; 0 = impassable. Classes on the grid missing from the table
            raise InputError listing them, unless ``landcover_default_speed_kmh`` is given.
        landcover_fractions: ``{raster_path: speed_kmh}`` for cover-fraction rasters (percent of the cell); each
            cell takes the speed of its dominant cover, the remainder (100 % minus the listed covers) moving at
            ``other_speed_kmh``. ``fraction_full_cover`` = 1 for fractions in 0..1.
        roads: OGR line source(s): a path, or a list of paths or dicts ``{"path", "layer", "class_field",
            "where", "profile", "all_touched"}``. ``.osm.pbf`` files use their "lines" layer; the class comes from
            ``road_class_field`` or OSM's other_tags.
        road_profile: "car", "ambulance", "walking", a ``{class: km/h}`` dict or a :class:`careshed.SpeedProfile`.
            Roads whose class is not in it are not burned (see ``report["skipped_classes"]``); a parsable
            ``maxspeed`` overrides the class speed when the profile's ``use_maxspeed`` is on.
        all_touched: burn every cell a road touches (GDAL ALL_TOUCHED; default True so roads stay connected).
        road_speed_factor: ``{class: factor}`` multiplying the speed of the roads of a class (time of day,
            congestion; ``"*"``: every class not listed; others keep their speed); applied after ``maxspeed``.
        speed_raster: a raster of speeds in km/h.
        friction_raster: a published friction raster in ``friction_unit`` ("s/m", "min/m" — Malaria Atlas
            Project —, "s/km", "min/km", "h/km").
        raster_resampling: resampling of speed/friction rasters onto the grid ("bilinear", "average", "nearest").
        background_speed_kmh: a speed every cell has at least (e.g. 5 km/h walking where nothing is known).
        speed_kmh: a speed array already on the grid (shape ``grid.shape``, km/h, NaN = nothing here), e.g.
            Tobler's hiking speed from a DEM, or a walking speed only where people live.
        barriers: path(s) of polygon/line sources (cells whose centre is inside are cut, or every touched cell
            with ``barrier_all_touched``) or raster masks (non-zero = barrier; recognised by their suffix, or
            pass ``{"path": ..., "is_raster": True}``). Barriers win over roads. A dict may say
            ``"outside": True``: then the source is a land mask and everything outside it is the barrier.
        land: a land mask — polygons of the land (e.g. data/comoros/land.geojson, from the OSM coastline) or a
            raster (non-zero = land): every cell it does not even touch (for a raster: every zero, nodata or
            off-raster cell) is impassable, whatever the background speed or a road says — so nobody walks
            on the sea. Same as ``barriers=[{"path": land, "outside": True, "all_touched": True}]``.

    Returns:
        :class:`FrictionSurface`.

    Raises:
        DataIOError (missing file/layer), CRSError (input without CRS), InputError (unknown classes, negative
        speeds, bad unit, nothing to build from).
    """
    grid = as_grid(grid)
    inputs: dict = {}
    if landcover is not None:
        if landcover_speeds is None:
            raise InputError("landcover given without landcover_speeds: pass {class: speed_kmh}")
        inputs["landcover"] = {"path": landcover,
                               "speed_kmh": {int(k): float(v) for k, v in landcover_speeds.items()},
                               "default_speed_kmh": landcover_default_speed_kmh}
    elif landcover_speeds is not None:
        raise InputError("landcover_speeds given without a landcover raster")
    if landcover_fractions:
        if other_speed_kmh is None:
            raise InputError("landcover_fractions: give other_speed_kmh, the speed where none of the listed covers "
                             "dominates")
        inputs["landcover_fractions"] = {"paths": list(landcover_fractions.keys()),
                                         "speeds_kmh": [float(v) for v in landcover_fractions.values()],
                                         "other_speed_kmh": float(other_speed_kmh),
                                         "full_cover": float(fraction_full_cover)}
    if speed_raster is not None:
        inputs["speed_raster"] = {"path": speed_raster, "resampling": raster_resampling}
    if friction_raster is not None:
        _core.friction_unit_seconds_per_metre(friction_unit)  # validates the unit name early
        inputs["friction_raster"] = {"path": friction_raster, "unit": friction_unit,
                                     "resampling": raster_resampling}
    if background_speed_kmh is not None:
        inputs["background_speed_kmh"] = float(background_speed_kmh)
    if speed_kmh is not None:
        inputs["speed_kmh"] = speed_kmh
    inputs["roads"] = []
    for r in _paths(roads, "roads"):
        spec = dict(r) if isinstance(r, dict) else {"path": r}
        spec.setdefault("layer", road_layer)
        spec.setdefault("class_field", road_class_field)
        spec.setdefault("where", road_where)
        spec.setdefault("profile", road_profile)
        spec.setdefault("all_touched", all_touched)
        if road_speed_factor is not None:
            spec.setdefault("speed_factor", {str(k): float(v) for k, v in road_speed_factor.items()})
        inputs["roads"].append(spec)
    inputs["barriers"] = []
    for b in _paths(barriers, "barriers"):
        spec = dict(b) if isinstance(b, dict) else {"path": b}
        spec.setdefault("is_raster", looks_like_raster(spec["path"]))
        spec.setdefault("all_touched", barrier_all_touched)
        inputs["barriers"].append(spec)
    if land is not None:
        inputs["barriers"].append({"path": land, "is_raster": looks_like_raster(land), "outside": True,
                                   "all_touched": True})
    array, report = _core.build_friction_surface(grid, inputs, progress=current_progress(),
                                                 max_memory_bytes=current_max_memory())
    notes = list(report.pop("notes"))
    return FrictionSurface(array, grid, notes, report)


def speed_to_friction(speed_kmh) -> np.ndarray:
    """Friction in s/m from speeds in km/h (3.6 / speed; NaN where the speed is 0, negative or NaN)."""
    return _core.speed_kmh_to_seconds_per_metre(np.asarray(speed_kmh, dtype=np.float64))


__all__ = ["FrictionSurface", "friction_surface", "speed_to_friction"]
