"""Analysis grids and raster input/output.

A :class:`Grid` is where every raster analysis happens: its size, its GDAL geotransform and its CRS. Make one
with :func:`make_grid` (metric; by default in the UTM zone of the bounds' centre), read any GDAL raster onto it
with :func:`read_raster` (nearest/mode for classes, bilinear/cubic/average for continuous values, ``"sum"`` for
counts such as population — totals preserved), and write results as Cloud-Optimised GeoTIFFs with
:func:`write_geotiff`.

Arrays are ``numpy`` float64 of shape ``(grid.height, grid.width)``, row 0 at the top, ``NaN`` for no data.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .. import _core
from ..progress import current as current_progress
from ..errors import InputError

_RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img", ".asc", ".nc", ".jp2", ".hgt", ".bil", ".dem")


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid.

    Attributes:
        width, height: columns and rows.
        transform: GDAL geotransform ``(x0, dx, 0, y0, 0, -dy)`` of the top-left cell corner, CRS units.
        crs: WKT of the CRS.
    """

    width: int
    height: int
    transform: tuple
    crs: str

    @classmethod
    def _from_core(cls, t) -> "Grid":
        width, height, transform, crs = t
        return cls(int(width), int(height), tuple(float(v) for v in transform), crs)

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width), the numpy shape of arrays on this grid."""
        return (self.height, self.width)

    @property
    def cell_size(self) -> tuple[float, float]:
        """(dx, dy) cell size in CRS units (metres on analysis grids) — the ``cell_size`` argument of
        :func:`careshed.arrays.travel_time_grid`. On lon/lat grids use :meth:`row_cell_widths_m` instead."""
        return (abs(self.transform[1]), abs(self.transform[5]))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(min_x, min_y, max_x, max_y) of the outer cell edges."""
        x0, dx, _, y0, _, dy = self.transform
        xs = (x0, x0 + self.width * dx)
        ys = (y0, y0 + self.height * dy)
        return (min(xs), min(ys), max(xs), max(ys))

    @property
    def epsg(self) -> int | None:
        """EPSG code of the CRS when it has one."""
        return _core.crs_epsg(self.crs)

    @property
    def is_geographic(self) -> bool:
        return _core.crs_is_geographic(self.crs)

    def row_cell_widths_m(self) -> np.ndarray:
        """East-west cell size in metres of each row (on the ellipsoid for lon/lat grids)."""
        return _core.row_cell_widths_m(self)

    def row_cell_heights_m(self) -> np.ndarray:
        """North-south cell size in metres of each row."""
        return _core.row_cell_heights_m(self)

    def xy(self, rows, cols):
        """Coordinates of cell centres (x, y) for integer ``rows``, ``cols`` (arrays or scalars)."""
        x0, dx, _, y0, _, dy = self.transform
        return (x0 + (np.asarray(cols) + 0.5) * dx, y0 + (np.asarray(rows) + 0.5) * dy)

    def rowcol(self, x, y):
        """(row, col) of the cells containing points ``x``, ``y`` (may fall outside the grid)."""
        x0, dx, _, y0, _, dy = self.transform
        return (np.floor((np.asarray(y) - y0) / dy).astype(np.int64),
                np.floor((np.asarray(x) - x0) / dx).astype(np.int64))

    def __repr__(self) -> str:
        epsg = self.epsg
        crs = f"EPSG:{epsg}" if epsg else "custom CRS"
        dx, dy = self.cell_size
        return f"Grid({self.width} x {self.height} cells of {dx:g} x {dy:g}, {crs}, bounds={self.bounds})"


def as_grid(grid) -> Grid:
    if isinstance(grid, Grid):
        return grid
    raise InputError(f"grid: expected a careshed.Grid (from careshed.make_grid), got {type(grid).__name__}")


def make_grid(bounds, cell_size_m: float, crs: str | None = None, *, bounds_crs: str | None = None) -> Grid:
    """A metric analysis grid of square ``cell_size_m`` cells covering ``bounds``, snapped to whole cells.

    Args:
        bounds: ``(min_x, min_y, max_x, max_y)``, or the path of a raster or vector data set (zones,
            roads ...) whose extent to cover, in its own CRS.
        cell_size_m: cell size in metres.
        crs: the grid's projected CRS ("EPSG:32738", WKT, PROJ). ``None``: the WGS 84 / UTM zone of the
            bounds' centre (EPSG 326zz north, 327zz south).
        bounds_crs: CRS of ``bounds`` when given as numbers. Default: ``crs`` if given, else EPSG:4326
            (lon/lat). A path brings its own CRS.
    """
    if isinstance(bounds, (str, os.PathLike)):
        bounds, bounds_crs = _core.data_bounds(bounds)
    bounds = tuple(float(v) for v in bounds)
    if len(bounds) != 4:
        raise InputError("bounds: expected (min_x, min_y, max_x, max_y)")
    if crs is None:
        return Grid._from_core(_core.make_utm_grid(bounds, bounds_crs or "EPSG:4326", float(cell_size_m)))
    if bounds_crs is not None and not _core.crs_equivalent(bounds_crs, crs):
        bounds = _transform_bounds(bounds, bounds_crs, crs)
    return Grid._from_core(_core.make_grid(bounds, float(cell_size_m), crs))


def make_lonlat_grid(bounds, cell_size_deg: float, crs: str = "EPSG:4326") -> Grid:
    """A longitude/latitude grid of ``cell_size_deg`` cells (for reading/writing; its cells are not square in
    metres — see :meth:`Grid.row_cell_widths_m`)."""
    return Grid._from_core(_core.make_lonlat_grid(tuple(float(v) for v in bounds), float(cell_size_deg), crs))


def _transform_bounds(bounds, src: str, dst: str):
    # 21 points per edge: a straight edge in one CRS is a curve in another.
    t = np.linspace(0.0, 1.0, 21)
    x0, y0, x1, y1 = bounds
    xs = np.concatenate([x0 + (x1 - x0) * t, np.full(21, x1), x1 - (x1 - x0) * t, np.full(21, x0)])
    ys = np.concatenate([np.full(21, y0), y0 + (y1 - y0) * t, np.full(21, y1), y1 - (y1 - y0) * t])
    xs, ys = np.ascontiguousarray(xs), np.ascontiguousarray(ys)
    xs, ys = _core.transform_xy(xs, ys, src, dst)
    return (float(np.min(xs)), float(np.min(ys)), float(np.max(xs)), float(np.max(ys)))


@dataclass(frozen=True)
class ReadReport:
    """How a raster was read: totals before and after resampling (``source_total_in_grid`` and
    ``relative_difference`` are NaN unless ``resampling == "sum"``)."""

    path: str
    band: int
    resampling: str
    valid_cells: int
    result_total: float
    source_total_in_grid: float
    relative_difference: float


def raster_info(path, band: int = 1) -> dict:
    """Size, grid (as a :class:`Grid`, ``crs`` "" when missing), band count, nodata and data type of a raster,
    without reading its pixels."""
    info = _core.raster_info(path, int(band))
    info["grid"] = Grid._from_core(info["grid"])
    return info


def read_raster(path, grid: Grid | None = None, resampling: str = "nearest", *, band: int = 1,
                return_report: bool = False):
    """Read band ``band`` of any GDAL raster, on its own grid or warped onto ``grid``.

    Args:
        path: raster file (GeoTIFF, VRT, NetCDF, ... anything GDAL opens). It must have a CRS.
        grid: target :class:`Grid`; ``None`` reads the raster as it is.
        resampling: ``"nearest"`` or ``"mode"`` for classes, ``"bilinear"``, ``"cubic"`` or ``"average"`` for
            continuous values, ``"sum"`` for counts (people per cell): each source cell is split among target
            cells by shared area, so totals are preserved (exactly on a shared CRS, to within the projection's
            local area distortion across CRSs — see the report).
        return_report: also return a :class:`ReadReport`.

    Returns:
        ``(array, grid)`` — float64 array of shape ``grid.shape``, ``NaN`` for no data — or
        ``(array, grid, report)``.

    Raises:
        DataIOError: missing/unreadable file or band. CRSError: the raster has no CRS. InputError: bad
        resampling name.
    """
    if grid is None:
        array, g, rep = _core.read_raster_native(path, int(band))
        grid = Grid._from_core(g)
    else:
        grid = as_grid(grid)
        array, rep = _core.read_raster_onto(path, grid, str(resampling), int(band), progress=current_progress())
    if return_report:
        return array, grid, ReadReport(**rep)
    return array, grid


_INT_TYPES = (np.uint8, np.int16, np.uint16, np.int32, np.uint32)


def write_geotiff(path, array, grid: Grid, *, nodata: float | None = None, metadata: dict | None = None):
    """Write ``array`` (shape ``grid.shape``) as a Cloud-Optimised GeoTIFF (DEFLATE, tiled, overviews) with the
    grid's CRS, to a temporary file renamed into place when complete.

    float64/float32 arrays use NaN as nodata unless ``nodata`` is given; integer arrays (int32, uint32, int16,
    uint16, uint8; bool is written as uint8, int64 as int32 when it fits) have no nodata unless given.
    ``metadata`` items (e.g. ``{"UNITS": "minutes"}``) are stored in the file. Returns the path.
    """
    grid = as_grid(grid)
    a = np.asarray(array)
    if a.dtype == np.bool_:
        a = a.astype(np.uint8)
    elif a.dtype == np.int64:
        if a.size and (a.min() < np.iinfo(np.int32).min or a.max() > np.iinfo(np.int32).max):
            raise InputError(f"write_geotiff('{os.fspath(path)}'): int64 values do not fit in int32")
        a = a.astype(np.int32)
    elif a.dtype not in (np.float64, np.float32) and a.dtype.type not in _INT_TYPES:
        a = a.astype(np.float64)
    a = np.ascontiguousarray(a)
    items = [f"{k}={v}" for k, v in (metadata or {}).items()]
    _core.write_geotiff(path, a, grid, None if nodata is None else float(nodata), items)
    return path


def looks_like_raster(path) -> bool:
    """True when ``path`` has a usual raster file suffix (used to tell raster barrier masks from vector
    barriers)."""
    return os.fspath(path).lower().endswith(_RASTER_SUFFIXES)


__all__ = ["Grid", "ReadReport", "make_grid", "make_lonlat_grid", "raster_info", "read_raster", "write_geotiff"]
