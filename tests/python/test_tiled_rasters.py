"""careshed.tiled.rasters: windowed GDAL reads (no data as NaN, float32 kept, VRT mosaics, short reads refused)
and tiled GeoTIFFs written window by window that appear only when complete (oracle: GDAL's own whole read)."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
from osgeo import gdal

from careshed.errors import DataIOError, InputError
from careshed.tiled.rasters import TiledGeoTIFF, open_windowed, write_small_geotiff


def test_windows_equal_slices_of_the_whole_raster(tmp_path):
    rng = np.random.default_rng(3)
    a = rng.uniform(0, 5, (37, 29)).astype(np.float32)
    a[3, 4] = np.nan
    p = write_small_geotiff(tmp_path / "f.tif", a, (500000.0, 10.0, 0.0, 1e6, 0.0, -10.0), "")
    r = pickle.loads(pickle.dumps(open_windowed(p)))  # what Dask ships to a worker
    assert r.shape == (37, 29) and r.dtype == "float32" and r.transform[1] == 10.0
    for r0, r1, c0, c1 in [(0, 37, 0, 29), (5, 9, 2, 28), (36, 37, 28, 29)]:
        w = r.read(r0, r1, c0, c1)
        assert w.dtype == np.float32
        assert np.array_equal(w, a[r0:r1, c0:c1], equal_nan=True)


def test_nodata_becomes_nan_and_integers_become_float64(tmp_path):
    p = tmp_path / "i.tif"
    ds = gdal.GetDriverByName("GTiff").Create(str(p), 3, 2, 1, gdal.GDT_Int16)
    ds.SetGeoTransform((0, 1, 0, 2, 0, -1))
    ds.GetRasterBand(1).SetNoDataValue(-1)
    ds.GetRasterBand(1).WriteArray(np.array([[1, -1, 3], [4, 5, -1]], np.int16))
    ds = None
    w = open_windowed(p).read(0, 2, 0, 3)
    assert w.dtype == np.float64
    assert np.array_equal(w, [[1, np.nan, 3], [4, 5, np.nan]], equal_nan=True)


def test_a_window_outside_the_raster_and_a_missing_file_are_errors(tmp_path):
    p = write_small_geotiff(tmp_path / "f.tif", np.ones((4, 4)), (0, 1, 0, 4, 0, -1))
    with pytest.raises(DataIOError, match="rows 2..5"):
        open_windowed(p).read(2, 6, 0, 4)
    with pytest.raises(DataIOError, match="cannot open"):
        open_windowed(tmp_path / "missing.tif")
    with pytest.raises(InputError, match="band 2"):
        open_windowed(p, band=2)


def test_tiled_geotiff_appears_only_when_committed(tmp_path):
    out = TiledGeoTIFF(tmp_path / "o.tif", (300, 270), (0, 1, 0, 300, 0, -1), "", "int32", nodata=-1)
    out.write(0, 0, np.full((300, 135), 7, np.int32))
    out.write(0, 135, np.full((300, 135), 9, np.int32))
    assert not (tmp_path / "o.tif").exists()
    out.commit()
    ds = gdal.Open(str(tmp_path / "o.tif"))
    assert ds.GetRasterBand(1).GetBlockSize() == [256, 256]
    a = ds.ReadAsArray()
    assert (a[:, :135] == 7).all() and (a[:, 135:] == 9).all()
    gone = TiledGeoTIFF(tmp_path / "g.tif", (2, 2), (0, 1, 0, 2, 0, -1), "", "float32")
    gone.abort()
    assert list(tmp_path.iterdir()) == [tmp_path / "o.tif"]


# ---- Zarr ------------------------------------------------------------------------------------------------------

def test_a_zarr_array_written_by_zarr_is_read_by_windows(tmp_path):
    zarr = pytest.importorskip("zarr")
    rng = np.random.default_rng(5)
    a = rng.uniform(0, 2, (45, 38)).astype(np.float32)
    a[rng.random(a.shape) < 0.1] = np.nan
    z = zarr.open(str(tmp_path / "f.zarr"), mode="w", shape=a.shape, chunks=(16, 16), dtype="f4", fill_value=np.nan)
    z[:] = a
    r = pickle.loads(pickle.dumps(open_windowed(tmp_path / "f.zarr")))
    assert r.shape == (45, 38) and r.dtype == "float32"
    for r0, r1, c0, c1 in [(0, 45, 0, 38), (15, 33, 3, 17), (44, 45, 37, 38)]:
        assert np.array_equal(r.read(r0, r1, c0, c1), a[r0:r1, c0:c1], equal_nan=True)
    # an array inside a group of several: named the GDAL way
    g = zarr.open_group(str(tmp_path / "g.zarr"), mode="w")
    g.create_dataset("friction", data=a, chunks=(16, 16))
    g.create_dataset("speed", data=a * 2, chunks=(16, 16))
    r = open_windowed(f'ZARR:"{tmp_path / "g.zarr"}":/speed')
    assert np.array_equal(r.read(0, 45, 0, 38), a * 2, equal_nan=True)


def test_tiled_zarr_is_georeferenced_for_gdal_and_zarr_and_appears_only_when_committed(tmp_path):
    zarr = pytest.importorskip("zarr")
    from careshed import _core
    from careshed.tiled.rasters import TiledZarr, tiled_writer
    rng = np.random.default_rng(6)
    a = rng.uniform(0, 9, (23, 31)).astype(np.float32)
    a[2, 3] = np.nan
    gt = (500000.0, 30.0, 0.0, 1000000.0, 0.0, -30.0)
    crs = _core.crs_to_wkt("EPSG:32631")
    w = tiled_writer(tmp_path / "seconds.zarr", a.shape, gt, crs, "float32", nodata=float("nan"),
                     metadata={"UNITS": "seconds"})
    assert isinstance(w, TiledZarr)
    for r0 in range(0, 23, 5):              # windows that cut across the 256-cell chunks' edges
        for c0 in range(0, 31, 7):
            w.write(r0, c0, a[r0:r0 + 5, c0:c0 + 7])
    assert not (tmp_path / "seconds.zarr").exists()
    w.commit()
    z = zarr.open(str(tmp_path / "seconds.zarr"), mode="r")
    assert np.array_equal(z["seconds"][:], a, equal_nan=True) and z["seconds"].attrs["UNITS"] == "seconds"
    assert np.allclose(z["X"][:2], [500015.0, 500045.0]) and np.allclose(z["Y"][:2], [999985.0, 999955.0])
    ds = gdal.Open(str(tmp_path / "seconds.zarr"))
    assert ds.GetGeoTransform() == gt and "UTM zone 31N" in ds.GetProjection()
    assert np.array_equal(ds.ReadAsArray(), a, equal_nan=True)
    # written again: replaced whole; an aborted writer leaves nothing
    w = tiled_writer(tmp_path / "seconds.zarr", a.shape, gt, crs, "float32", nodata=float("nan"))
    w.write(0, 0, np.zeros_like(a))
    w.commit()
    assert np.array_equal(zarr.open(str(tmp_path / "seconds.zarr"), mode="r")["seconds"][:], np.zeros_like(a))
    w = tiled_writer(tmp_path / "other.zarr", a.shape, gt, crs, "int32", nodata=-1)
    w.write(0, 0, np.ones(a.shape, np.int32))
    w.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seconds.zarr"]
