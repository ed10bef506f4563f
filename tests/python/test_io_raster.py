"""Tests of careshed.io.raster: analysis grids, read_raster (resampling, totals-preserving sums), write_geotiff.

Fixtures are written with GDAL's own Python bindings (raster_case.py), and every expected number is computed here
by hand or with numpy block arithmetic — never by the code under test.
"""
from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal

import careshed
from raster_case import COMOROS, COMOROS_POPULATION, SEED, gdal_raster, small_grid


def test_make_grid_default_is_the_utm_zone_of_the_centre():
    g = careshed.make_grid((43.2, -12.45, 44.6, -11.3), 1000)
    assert g.epsg == 32738  # lon 43.9 -> zone 38, south
    assert g.cell_size == (1000.0, 1000.0)
    assert g.transform[0] % 1000 == 0 and g.transform[3] % 1000 == 0
    # Given a CRS and lon/lat bounds: the bounds are reprojected, the grid covers them.
    h = careshed.make_grid((43.2, -12.45, 44.6, -11.3), 1000, "EPSG:32738", bounds_crs="EPSG:4326")
    assert h == g
    n = careshed.make_grid((500050, 8800020, 500950, 8800990), 100, "EPSG:32738")
    assert (n.width, n.height, n.transform[0], n.transform[3]) == (10, 10, 500000, 8801000)


def test_grid_from_a_raster_path_and_lonlat_row_widths():
    g = careshed.make_grid(COMOROS / "population.tif", 1000)
    assert g.epsg == 32738
    # A vector source works too: the 70 facilities lie on the islands, so inside the population raster's grid.
    f = careshed.make_grid(COMOROS / "health.gpkg", 1000)
    assert f.epsg == 32738
    fb, gb = f.bounds, g.bounds
    assert gb[0] <= fb[0] and gb[1] <= fb[1] and fb[2] <= gb[2] and fb[3] <= gb[3]
    ll = careshed.make_lonlat_grid((43.0, -12.0, 43.1, -11.9), 0.01)
    widths = ll.row_cell_widths_m()
    assert widths.shape == (10,)
    # 0.01 deg of longitude at latitude phi on WGS 84 ~ 1113.2 m * cos(phi) (spherical estimate, 0.5 % slack)
    lat = -11.9 - 0.01 * (np.arange(10) + 0.5)
    np.testing.assert_allclose(widths, 1113.19 * np.cos(np.radians(lat)), rtol=5e-3)
    with pytest.raises(careshed.CRSError):
        careshed.make_grid((0, 0, 1, 1), 100, "EPSG:4326")


def test_write_read_round_trip_is_a_valid_cog(tmp_path):
    from osgeo_utils.samples import validate_cloud_optimized_geotiff as cogcheck

    g = careshed.make_grid((500000, 8790000, 507000, 8796000), 10, "EPSG:32738")  # 700 x 600: tiles + overviews
    rng = np.random.default_rng(SEED)
    a = rng.random(g.shape).astype(np.float32)
    a[3, 4] = np.nan
    path = tmp_path / "out.tif"
    careshed.write_geotiff(path, a, g, metadata={"UNITS": "minutes"})
    warnings, errors, _ = cogcheck.validate(str(path), full_check=True)
    assert errors == []
    ds = gdal.Open(str(path))
    assert ds.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE") == "COG"
    assert ds.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") == "DEFLATE"
    assert ds.GetMetadataItem("UNITS") == "minutes"
    assert np.isnan(ds.GetRasterBand(1).GetNoDataValue())
    assert ds.GetSpatialRef().GetAuthorityCode(None) == "32738"
    ds = None
    back, g2 = careshed.read_raster(path)
    assert g2.shape == g.shape and g2.transform == g.transform and g2.epsg == 32738
    np.testing.assert_array_equal(back, a.astype(np.float64))  # NaN == NaN in assert_array_equal

    ints = np.arange(6, dtype=np.int32).reshape(2, 3)
    small = careshed.make_grid((0, 0, 30, 20), 10, "EPSG:32638")
    careshed.write_geotiff(tmp_path / "ints.tif", ints, small, nodata=0)
    back, _ = careshed.read_raster(tmp_path / "ints.tif")
    assert np.isnan(back[0, 0]) and back[1, 2] == 5
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_resampling_modes_match_block_arithmetic(tmp_path):
    print("seed", SEED)
    rng = np.random.default_rng(SEED)
    src = np.round(rng.random((12, 18)) * 800) / 8  # exact binary fractions
    src[0, 1] = -1  # nodata
    src[7, 9] = -1
    path = gdal_raster(tmp_path / "src.tif", src, (3000, 100, 0, 9000, 0, -100), 32638, nodata=-1)
    coarse = careshed.make_grid((3000, 7800, 4800, 9000), 300, "EPSG:32638")
    valid = np.where(src == -1, np.nan, src)
    blocks = valid.reshape(4, 3, 6, 3).swapaxes(1, 2).reshape(4, 6, 9)
    s, _, rep = careshed.read_raster(path, coarse, "sum", return_report=True)
    np.testing.assert_allclose(s, np.nansum(blocks, axis=2), rtol=0, atol=1e-9)
    assert rep.result_total == pytest.approx(np.nansum(valid), abs=1e-9)
    assert rep.source_total_in_grid == pytest.approx(np.nansum(valid), abs=1e-9)
    avg, _ = careshed.read_raster(path, coarse, "average")
    np.testing.assert_allclose(avg, np.nanmean(blocks, axis=2), rtol=0, atol=1e-9)
    fine = careshed.make_grid((3000, 7800, 4800, 9000), 50, "EPSG:32638")
    near, _ = careshed.read_raster(path, fine, "nearest")
    np.testing.assert_array_equal(near, np.kron(valid, np.ones((2, 2))))
    split, _ = careshed.read_raster(path, fine, "sum")
    np.testing.assert_allclose(split, np.kron(valid, np.ones((2, 2))) / 4, atol=1e-12)
    with pytest.raises(careshed.InputError):
        careshed.read_raster(path, coarse, "lanczos-ish")
    # mode: the majority class of each 2 x 2 block (3 of 4 cells, no ties).
    classes = np.array([[1, 1, 7, 7],
                        [1, 5, 7, 3],
                        [2, 2, 4, 9],
                        [8, 2, 9, 9]])
    cpath = gdal_raster(tmp_path / "classes.tif", classes, (0, 10, 0, 40, 0, -10), 32638, dtype=gdal.GDT_Byte)
    mode, _ = careshed.read_raster(cpath, careshed.make_grid((0, 0, 40, 40), 20, "EPSG:32638"), "mode")
    np.testing.assert_array_equal(mode, [[1, 7], [2, 9]])


def _overlap_weights(t0, dt, m, s0, ds, n):
    """[m, n] share of each source interval (length ds) inside each target interval (exact area arithmetic)."""
    te = t0 + dt * np.arange(m + 1)
    se = s0 + ds * np.arange(n + 1)
    lo = np.maximum(te[:-1, None], se[None, :-1])
    hi = np.minimum(te[1:, None], se[None, 1:])
    return np.clip(hi - lo, 0, None) / ds


@pytest.mark.parametrize("cell", [13.0, 47.0, 71.3])
def test_sum_equals_exact_area_overlap_on_unaligned_grids(tmp_path, cell):
    # Oracle: on axis-aligned grids of one CRS, the share of a source cell inside a target cell is the product of
    # the 1-D interval overlaps, so sum-resampling is Wy @ S @ Wx.T (nodata counted as nothing).
    seed = SEED + int(cell * 10)
    print("seed", seed)
    rng = np.random.default_rng(seed)
    h, w = 17, 23
    src = rng.random((h, w)) * 10
    src[rng.random((h, w)) < 0.1] = -1
    path = gdal_raster(tmp_path / "src.tif", src, (1000, 30, 0, 5000, 0, -30), 32638, nodata=-1)
    g = careshed.make_grid((1000 - 0.37 * cell, 5000 - 30 * h - 11, 1000 + 30 * w + 5, 5000 + 7), cell, "EPSG:32638")
    x0, dx, _, y0, _, dy = g.transform
    wx = _overlap_weights(x0, dx, g.width, 1000.0, 30.0, w)
    wy = _overlap_weights(-y0, -dy, g.height, -5000.0, 30.0, h)  # rows run southwards: flip the axis
    valid = src != -1
    total = wy @ np.where(valid, src, 0) @ wx.T
    covered = wy @ valid.astype(float) @ wx.T
    want = np.where(covered > 0, total, np.nan)
    got, _, rep = careshed.read_raster(path, g, "sum", return_report=True)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    assert rep.result_total == pytest.approx(src[valid].sum(), rel=1e-12)


def test_comoros_population_total_preserved_on_a_1km_utm_grid():
    grid = careshed.make_grid(COMOROS / "population.tif", 1000)
    pop, grid, rep = careshed.read_raster(COMOROS / "population.tif", grid, "sum", return_report=True)
    assert rep.source_total_in_grid == pytest.approx(COMOROS_POPULATION, abs=1)
    # Stated tolerance 1e-6 relative (observed ~1e-16: GDAL's sum splits every source pixel completely among the
    # target cells when the grid covers the raster; a partial overlap would lose up to the cut edge cells).
    assert np.nansum(pop) == pytest.approx(COMOROS_POPULATION, rel=1e-6)
    assert abs(rep.relative_difference) < 1e-6
    assert np.nanmax(pop) > 1000  # Moroni's dense cells hold thousands per km²
    assert np.nanmin(pop) >= 0
    # A grid over part of the islands: the report compares with the source pixels whose centre is inside; only
    # the cut edge cells differ (stated tolerance 0.1 %, observed ~0.02 %).
    part = careshed.make_grid((43.2, -11.95, 43.5, -11.3), 1000)
    _, _, rep = careshed.read_raster(COMOROS / "population.tif", part, "sum", return_report=True)
    assert 0.3 * COMOROS_POPULATION < rep.source_total_in_grid < 0.8 * COMOROS_POPULATION
    assert abs(rep.relative_difference) < 1e-3


def test_read_errors_name_the_file(tmp_path):
    with pytest.raises(careshed.DataIOError, match="nope.tif"):
        careshed.read_raster(tmp_path / "nope.tif")
    with pytest.raises(OSError):  # DataIOError is an OSError
        careshed.read_raster(tmp_path / "nope.tif", small_grid())
    nocrs = gdal_raster(tmp_path / "nocrs.tif", np.ones((2, 2)), (0, 1, 0, 2, 0, -1), None)
    with pytest.raises(careshed.CRSError, match="nocrs.tif"):
        careshed.read_raster(nocrs)
    with pytest.raises(careshed.CRSError, match="nocrs.tif"):
        careshed.read_raster(nocrs, small_grid())
    with pytest.raises(careshed.DataIOError, match="band 3"):
        careshed.read_raster(COMOROS / "population.tif", band=3)
    with pytest.raises(careshed.InputError):
        careshed.write_geotiff(tmp_path / "bad.tif", np.ones((3, 3)), small_grid())
    assert not (tmp_path / "bad.tif").exists()
