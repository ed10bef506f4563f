"""Rasters read and written by windows (GDAL: GeoTIFF, COG, VRT of many GeoTIFFs, Zarr, any GDAL raster).

A tiled run never holds a whole grid: a task reads the window of friction it searches
(:meth:`WindowedRaster.read`), and the driver writes results tile by tile into tiled GeoTIFFs
(:class:`TiledGeoTIFF`) or Zarr arrays (:class:`TiledZarr`, for paths ending in ``.zarr``), which appear under
their final names only when complete. Window readers are picklable (they carry the path, not an open dataset),
so Dask ships them to workers on other machines: the raster must then be on storage every worker sees (a shared
file system, or a ``/vsicurl/`` / ``/vsis3/`` URL).

Zarr is read through GDAL's Zarr driver (a Zarr v2 array or group folder written by zarr, xarray or GDAL; a
group holding several 2-D arrays is named ``ZARR:"path.zarr":/array``) and written with the zarr library
(python3-zarr), georeferenced the way GDAL and xarray read it: X and Y coordinate arrays of cell centres,
``_ARRAY_DIMENSIONS`` and ``_CRS`` (``{"wkt": ...}``) attributes.
"""
from __future__ import annotations

import functools
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataIOError, InputError
from ..io.atomic import atomic_path

__all__ = ["WindowedRaster", "open_windowed", "TiledGeoTIFF", "TiledZarr", "tiled_writer", "write_small_geotiff"]


def _gdal():
    from osgeo import gdal  # lazily: the rest of careshed reads rasters through the C++ core
    gdal.UseExceptions()
    return gdal


def _dataset(path: str):
    """One open dataset per path and process (workers read many windows of the same raster); a file changed
    since it was opened is opened again."""
    try:
        st = os.stat(path)
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError:  # /vsicurl/ and other virtual paths
        stamp = None
    # Keyed by thread too: a GDAL dataset must not be used by two threads at once, and a Dask worker runs
    # several tasks in threads (sharing one dataset crashed GDAL in BandRasterIONumPy).
    return _open_dataset(path, stamp, threading.get_ident())


@functools.lru_cache(maxsize=32)
def _open_dataset(path: str, stamp, thread: int):
    gdal = _gdal()
    try:
        ds = gdal.Open(path)
    except RuntimeError as exc:
        raise DataIOError(f"raster '{path}': cannot open it ({exc}); give a GeoTIFF, COG or VRT path every "
                          f"worker can read") from None
    if ds is None or ds.RasterCount < 1:
        raise DataIOError(f"raster '{path}': cannot open it as a raster; give a GeoTIFF, COG or VRT path")
    return ds


@dataclass(frozen=True)
class WindowedRaster:
    """Band ``band`` of the raster at ``path``: size, georeference and windowed reads (no data as NaN)."""

    path: str
    band: int
    rows: int
    cols: int
    transform: tuple
    crs: str
    dtype: str

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows, self.cols)

    def read(self, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        """Rows r0..r1-1, columns c0..c1-1 as float32 (float32 rasters) or float64 (all others); no data and
        non-finite values become NaN. A failed or short read is a DataIOError naming the file and window."""
        ds = _dataset(self.path)
        b = ds.GetRasterBand(self.band)
        try:
            a = b.ReadAsArray(int(c0), int(r0), int(c1 - c0), int(r1 - r0))
        except RuntimeError as exc:
            a, err = None, exc
        else:
            err = None
        if a is None or a.shape != (r1 - r0, c1 - c0):
            raise DataIOError(f"raster '{self.path}': reading rows {r0}..{r1 - 1}, columns {c0}..{c1 - 1} failed"
                              f"{f' ({err})' if err else ''}; the file may be truncated or unreadable")
        a = np.ascontiguousarray(a, dtype=np.float32 if self.dtype == "float32" else np.float64)
        nodata = b.GetNoDataValue()
        if nodata is not None and not np.isnan(nodata):
            a[a == nodata] = np.nan
        return a


def open_windowed(path, band: int = 1) -> WindowedRaster:
    """The windowed reader of band ``band`` of the raster at ``path``."""
    p = os.fspath(path)
    ds = _dataset(p)
    if not 1 <= band <= ds.RasterCount:
        raise InputError(f"raster '{p}' has {ds.RasterCount} band(s); band {band} does not exist")
    gt = tuple(float(v) for v in ds.GetGeoTransform())
    if gt[2] != 0.0 or gt[4] != 0.0:
        raise InputError(f"raster '{p}' is rotated (geotransform {gt}); warp it north-up first (gdalwarp)")
    gdal = _gdal()
    dtype = "float32" if ds.GetRasterBand(band).DataType == gdal.GDT_Float32 else "float64"
    return WindowedRaster(p, band, ds.RasterYSize, ds.RasterXSize, gt, ds.GetProjection() or "", dtype)


class TiledGeoTIFF:
    """A GeoTIFF written window by window (internally tiled, DEFLATE, BigTIFF when needed) under a temporary
    name; :meth:`commit` renames it into place, :meth:`abort` removes it.

    DEFLATE at level 1, float rasters with the floating-point predictor (as careshed's COG writer): measured on
    67 M cells of travel seconds, level 1 with the predictor took 2/3 of the CPU of level 6 without it and half
    the bytes; level 6 with it saved 5 % more bytes for twice the CPU. Integer rasters (nearest facility: long
    runs of one value) without a predictor: horizontal differencing took 2.6x the CPU for the same 2 MB.
    ``threads`` > 1 compresses blocks in that many threads (GDAL's NUM_THREADS)."""

    def __init__(self, path, shape, transform, crs: str, dtype: str, nodata=None, block: int = 256,
                 metadata: dict | None = None, threads: int = 1):
        gdal = _gdal()
        self.path = Path(path)
        self._atomic = atomic_path(self.path)  # the one atomic writer (io/atomic.py)
        self.tmp = self._atomic.__enter__()
        gtype = {"float32": gdal.GDT_Float32, "int32": gdal.GDT_Int32, "float64": gdal.GDT_Float64}[dtype]
        opts = ["TILED=YES", f"BLOCKXSIZE={block}", f"BLOCKYSIZE={block}", "COMPRESS=DEFLATE", "ZLEVEL=1",
                f"NUM_THREADS={max(1, int(threads))}", "BIGTIFF=IF_SAFER"]
        if dtype.startswith("float"):
            opts.append("PREDICTOR=3")
        try:
            self._ds = gdal.GetDriverByName("GTiff").Create(str(self.tmp), int(shape[1]), int(shape[0]), 1, gtype, opts)
        except RuntimeError as exc:
            self._atomic.__exit__(DataIOError, DataIOError(str(exc)), None)
            raise DataIOError(f"{self.path}: cannot write the output here ({exc}); choose another path") from None
        self._ds.SetGeoTransform(tuple(transform))
        if crs:
            self._ds.SetProjection(crs)
        band = self._ds.GetRasterBand(1)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        if metadata:
            self._ds.SetMetadata({str(k): str(v) for k, v in metadata.items()})

    def write(self, r0: int, c0: int, array: np.ndarray) -> None:
        self._ds.GetRasterBand(1).WriteArray(np.ascontiguousarray(array), int(c0), int(r0))

    def commit(self) -> Path:
        self._ds.FlushCache()
        self._ds = None
        self._atomic.__exit__(None, None, None)  # renames the finished file into place
        return self.path

    def abort(self) -> None:
        self._ds = None
        stop = DataIOError(f"{self.path}: not written (the run stopped)")
        self._atomic.__exit__(DataIOError, stop, None)  # removes the temporary file


class TiledZarr:
    """A Zarr v2 array written window by window (zarr library; chunks of ``block`` cells, compressed) inside a
    group folder at ``path`` with its X/Y coordinates, under a temporary name; :meth:`commit` renames the folder
    into place (replacing an earlier one), :meth:`abort` removes it. The array is named after the file
    (``seconds.zarr`` holds ``seconds``); GDAL opens the folder as a raster, xarray as a dataset."""

    def __init__(self, path, shape, transform, crs: str, dtype: str, nodata=None, block: int = 256,
                 metadata: dict | None = None):
        try:
            import zarr  # lazily: only Zarr outputs need it
        except ImportError:
            raise DataIOError(f"{path}: writing Zarr needs the zarr package (Debian: python3-zarr); install it, or "
                              "give a .tif output") from None
        self.path = Path(path)
        self.tmp = self.path.with_name(f".{self.path.name}.tmp{os.getpid()}")
        shutil.rmtree(self.tmp, ignore_errors=True)
        rows, cols = (int(v) for v in shape)
        x0, dx, _, y0, _, dy = (float(v) for v in transform)
        try:
            root = zarr.open_group(str(self.tmp), mode="w")
            self._array = root.create_dataset(self.path.stem or "band1", shape=(rows, cols),
                                              chunks=(min(block, rows), min(block, cols)), dtype=dtype,
                                              fill_value=nodata)
            for name, n, origin, step in (("X", cols, x0, dx), ("Y", rows, y0, dy)):
                coord = root.create_dataset(name, data=origin + (np.arange(n) + 0.5) * step, chunks=(max(n, 1),))
                coord.attrs["_ARRAY_DIMENSIONS"] = [name]
        except (OSError, ValueError) as exc:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise DataIOError(f"{self.path}: cannot write the output here ({exc}); choose another path") from None
        attrs = {"_ARRAY_DIMENSIONS": ["Y", "X"], **{str(k): str(v) for k, v in (metadata or {}).items()}}
        if crs:
            attrs["_CRS"] = {"wkt": crs}
        self._array.attrs.update(attrs)
        self._zarr = zarr

    def write(self, r0: int, c0: int, array: np.ndarray) -> None:
        a = np.asarray(array)
        self._array[int(r0):int(r0) + a.shape[0], int(c0):int(c0) + a.shape[1]] = a

    def commit(self) -> Path:
        self._zarr.consolidate_metadata(str(self.tmp))
        old = self.path.with_name(f".{self.path.name}.old{os.getpid()}")
        if self.path.exists():
            os.replace(self.path, old)   # a folder cannot be renamed over a non-empty one: move the old aside
        os.replace(self.tmp, self.path)
        shutil.rmtree(old, ignore_errors=True)
        return self.path

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def tiled_writer(path, shape, transform, crs: str, dtype: str, nodata=None, metadata: dict | None = None,
                 threads: int = 1):
    """The window-by-window writer of an output path: a Zarr array for ``.zarr``, a tiled GeoTIFF otherwise
    (compressed in ``threads`` threads)."""
    if str(path).rstrip("/").lower().endswith(".zarr"):
        return TiledZarr(path, shape, transform, crs, dtype, nodata=nodata, metadata=metadata)
    return TiledGeoTIFF(path, shape, transform, crs, dtype, nodata=nodata, metadata=metadata, threads=threads)


def write_small_geotiff(path, array: np.ndarray, transform, crs: str = "") -> Path:
    """An in-memory array written as a tiled GeoTIFF (how a NumPy friction grid enters a tiled run)."""
    a = np.asarray(array)
    dtype = "float32" if a.dtype == np.float32 else "float64"
    out = TiledGeoTIFF(path, a.shape, transform, crs, dtype)
    try:
        out.write(0, 0, a.astype(dtype, copy=False))
    except BaseException:
        out.abort()
        raise
    return out.commit()
