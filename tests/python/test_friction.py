"""Tests of careshed.raster (grids, read_raster, write_geotiff) and careshed.friction.

Fixtures are written with GDAL/OGR's own Python bindings (osgeo), independently of careshed's writer, and every
expected number is computed here by hand or with numpy block arithmetic — never by the code under test.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

import careshed

gdal.UseExceptions()
ogr.UseExceptions()

ROOT = Path(__file__).resolve().parents[2]
COMOROS = ROOT / "data" / "comoros"
COMOROS_POPULATION = 869_595  # data/comoros/README.md
SEED = 20261123


def _srs(epsg):
    s = osr.SpatialReference()
    s.ImportFromEPSG(epsg)
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return s


def gdal_raster(path, array, gt, epsg, nodata=None, dtype=gdal.GDT_Float64):
    array = np.asarray(array)
    ds = gdal.GetDriverByName("GTiff").Create(str(path), array.shape[1], array.shape[0], 1, dtype)
    ds.SetGeoTransform(gt)
    if epsg:
        ds.SetSpatialRef(_srs(epsg))
    band = ds.GetRasterBand(1)
    if nodata is not None:
        band.SetNoDataValue(nodata)
    band.WriteArray(array)
    ds = None
    return path


def ogr_layer(path, epsg, fields, features):
    """features: [(wkt, {field: value})]."""
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    lyr = ds.CreateLayer("layer", _srs(epsg), ogr.wkbUnknown)
    for name in fields:
        lyr.CreateField(ogr.FieldDefn(name, ogr.OFTString))
    for wkt, values in features:
        f = ogr.Feature(lyr.GetLayerDefn())
        for k, v in values.items():
            f.SetField(k, v)
        f.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        lyr.CreateFeature(f)
    ds = None
    return path


# 10 x 10 cells of 100 m in UTM 38S (x 500000..501000, y 8800000..8801000).
def small_grid():
    return careshed.make_grid((500000, 8800000, 501000, 8801000), 100, "EPSG:32738")


def cy(row):
    return 8801000 - 100 * (row + 0.5)


def cx(col):
    return 500000 + 100 * (col + 0.5)


# ---- grids ------------------------------------------------------------------------------------------------

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


# ---- reading and writing ---------------------------------------------------------------------------------

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


# ---- friction ---------------------------------------------------------------------------------------------

def test_friction_from_a_tiny_landcover_raster(tmp_path):
    classes = np.array([[1, 1, 2, 3],
                        [2, 9, 1, 1],
                        [3, 3, 2, 255]])
    path = gdal_raster(tmp_path / "lc.tif", classes, (500000, 250, 0, 8801000, 0, -250), 32738, nodata=255,
                       dtype=gdal.GDT_Byte)
    grid = careshed.make_grid((500000, 8800250, 501000, 8801000), 125, "EPSG:32738")
    fs = careshed.friction_surface(grid, landcover=path, landcover_speeds={1: 5, 2: 2, 3: 0, 9: 36})
    expected_speed = {1: 5.0, 2: 2.0, 3: 0.0, 9: 36.0, 255: 0.0}
    want = np.kron(np.vectorize(expected_speed.get)(classes).astype(float), np.ones((2, 2)))
    with np.errstate(divide="ignore"):
        want = np.where(want > 0, 3.6 / want, np.nan)
    np.testing.assert_allclose(fs.seconds_per_metre, want, rtol=1e-15)
    assert fs.report["impassable_cells"] == 16
    assert any("lc.tif" in n for n in fs.notes)
    # speed_kmh is the inverse.
    assert fs.speed_kmh[0, 0] == pytest.approx(5.0)
    with pytest.raises(careshed.InputError, match=r"9 \(4 cells\)"):
        careshed.friction_surface(grid, landcover=path, landcover_speeds={1: 5, 2: 2, 3: 0})
    filled = careshed.friction_surface(grid, landcover=path, landcover_speeds={1: 5, 2: 2, 3: 0},
                                       landcover_default_speed_kmh=4)
    assert filled.seconds_per_metre[2, 2] == pytest.approx(3.6 / 4)


def test_roads_fastest_wins_on_a_hand_made_layer(tmp_path):
    grid = small_grid()

    def hline(r):
        return f"LINESTRING (500000 {cy(r)}, 501000 {cy(r)})"

    def vline(c):
        return f"LINESTRING ({cx(c)} 8800000, {cx(c)} 8801000)"

    feats = [(vline(2), {"highway": "residential"}),   # 30 km/h (car)
             (hline(4), {"highway": "primary"}),       # 70
             (vline(7), {"highway": "trunk"}),         # 90
             (hline(8), {"highway": "footway"})]       # not a car road
    path = ogr_layer(tmp_path / "roads.gpkg", 32738, ["highway"], feats)
    lake = ogr_layer(tmp_path / "lake.gpkg", 32738, [],
                     [("POLYGON ((500000 8800000, 500300 8800000, 500300 8800200, 500000 8800200, "
                       "500000 8800000))", {})])  # rows 8-9, cols 0-2
    fs = careshed.friction_surface(grid, roads=path, road_profile="car", background_speed_kmh=5, barriers=lake)
    speed = np.full((10, 10), 5.0)
    speed[:, 2] = 30
    speed[4, :] = 70
    speed[:, 7] = 90  # crosses the primary at (4, 7): trunk is faster
    friction = 3.6 / speed
    friction[8:10, 0:3] = np.nan
    np.testing.assert_allclose(fs.seconds_per_metre, friction, rtol=1e-15)
    assert fs.report["skipped_classes"] == {"footway": 1}
    assert fs.report["road_features"] == 3
    assert fs.report["barrier_cells"] == 6
    # The walking profile burns the footway and ignores the motor roads' class speeds (5 km/h everywhere).
    walk = careshed.friction_surface(grid, roads=path, road_profile="walking")
    assert np.isnan(walk.seconds_per_metre[0, 0])  # no background: off-road cells impassable
    assert walk.seconds_per_metre[8, 5] == pytest.approx(3.6 / 5)
    custom = careshed.friction_surface(grid, roads=path, road_profile={"footway": 4.0}, background_speed_kmh=1)
    assert custom.seconds_per_metre[8, 5] == pytest.approx(0.9)
    assert custom.seconds_per_metre[4, 5] == pytest.approx(3.6)


def test_random_roads_match_per_class_burn_then_max(tmp_path):
    # Oracle: the rule as stated — burn each class separately (GDAL RasterizeLayer, ALL_TOUCHED), then take the
    # per-cell maximum with numpy — against careshed's single sorted pass, on random crossing lines.
    seed = SEED + 1
    print("seed", seed)
    rng = np.random.default_rng(seed)
    grid = careshed.make_grid((500000, 8800000, 503000, 8802000), 100, "EPSG:32738")  # 30 x 20
    profile = careshed.SpeedProfile.car()
    classes = ["primary", "secondary", "tertiary", "residential", "track", "trunk"]
    feats = []
    for _ in range(60):
        (xa, xb), (ya, yb) = rng.uniform(500000, 503000, 2), rng.uniform(8800000, 8802000, 2)
        feats.append((f"LINESTRING ({xa} {ya}, {xb} {yb})", {"highway": str(rng.choice(classes))}))
    path = ogr_layer(tmp_path / "random.gpkg", 32738, ["highway"], feats)
    fs = careshed.friction_surface(grid, roads=path, road_profile=profile, background_speed_kmh=4)

    want = np.full(grid.shape, 4.0)
    src = ogr.Open(str(path))
    lyr = src.GetLayer(0)
    for cls in classes:
        mem = gdal.GetDriverByName("MEM").Create("", grid.width, grid.height, 1, gdal.GDT_Float64)
        mem.SetGeoTransform(grid.transform)
        mem.SetProjection(grid.crs)
        mem.GetRasterBand(1).Fill(np.nan)
        lyr.SetAttributeFilter(f"highway = '{cls}'")
        gdal.RasterizeLayer(mem, [1], lyr, burn_values=[profile[cls]], options=["ALL_TOUCHED=TRUE"])
        want = np.fmax(want, mem.GetRasterBand(1).ReadAsArray())
    np.testing.assert_allclose(fs.seconds_per_metre, 3.6 / want, rtol=1e-15)


def test_speed_and_friction_rasters_with_units(tmp_path):
    grid = small_grid()
    gt = (500000, 500, 0, 8801000, 0, -500)
    fr = gdal_raster(tmp_path / "map_min_per_m.tif", [[0.01, 0.001], [0.002, -9999]], gt, 32738, nodata=-9999)
    fs = careshed.friction_surface(grid, friction_raster=fr, friction_unit="min/m", raster_resampling="nearest")
    assert fs.seconds_per_metre[0, 0] == pytest.approx(0.6)
    assert fs.seconds_per_metre[0, 9] == pytest.approx(0.06)
    assert fs.seconds_per_metre[9, 0] == pytest.approx(0.12)
    assert np.isnan(fs.seconds_per_metre[9, 9])
    assert fs.cell_size == (100.0, 100.0)
    ll = careshed.make_lonlat_grid((45.0, -12.0, 45.01, -11.99), 0.001)
    on_ll = careshed.friction_surface(ll, background_speed_kmh=5)
    assert on_ll.seconds_per_metre.shape == (10, 10)
    with pytest.raises(careshed.InputError, match="row_cell_widths_m"):
        on_ll.cell_size
    sp = gdal_raster(tmp_path / "speed.tif", [[36, 0], [10, 72]], gt, 32738)
    fs = careshed.friction_surface(grid, speed_raster=sp, raster_resampling="nearest")
    assert fs.seconds_per_metre[0, 0] == pytest.approx(0.1)
    assert np.isnan(fs.seconds_per_metre[0, 9])
    np.testing.assert_allclose(careshed.speed_to_friction([36.0, 0.0, np.nan]), [0.1, np.nan, np.nan])
    with pytest.raises(careshed.InputError, match="min/m"):
        careshed.friction_surface(grid, friction_raster=fr, friction_unit="minutes per furlong")


def test_speed_array_on_the_grid_combines_with_roads(tmp_path):
    grid = small_grid()
    speed = np.full(grid.shape, np.nan)
    speed[:, :5] = 4.0   # walking on the western half only
    speed[0, 0] = 0.0    # impassable
    road = ogr_layer(tmp_path / "r.gpkg", 32738, ["highway"],
                     [(f"LINESTRING (500000 {cy(6)}, 501000 {cy(6)})", {"highway": "tertiary"})])  # 50 km/h
    fs = careshed.friction_surface(grid, speed_kmh=speed, roads=road)
    want = np.where(np.isnan(speed), np.nan, speed)
    want[6, :] = 50.0
    with np.errstate(divide="ignore"):
        want = np.where(want > 0, 3.6 / want, np.nan)
    np.testing.assert_allclose(fs.seconds_per_metre, want, rtol=1e-15)
    with pytest.raises(careshed.InputError, match="shape"):
        careshed.friction_surface(grid, speed_kmh=np.ones((3, 3)))
    bad = np.ones(grid.shape)
    bad[2, 3] = -1
    with pytest.raises(careshed.InputError, match="row 2, column 3"):
        careshed.friction_surface(grid, speed_kmh=bad)


def test_friction_errors(tmp_path):
    grid = small_grid()
    with pytest.raises(careshed.InputError, match="nothing to build"):
        careshed.friction_surface(grid)
    with pytest.raises(careshed.DataIOError, match="absent.tif"):
        careshed.friction_surface(grid, landcover=tmp_path / "absent.tif", landcover_speeds={1: 5})
    with pytest.raises(careshed.InputError):
        careshed.friction_surface(grid, landcover=tmp_path / "x.tif")  # no speed table
    nocrs = gdal_raster(tmp_path / "nocrs.tif", np.ones((2, 2)), (0, 1, 0, 2, 0, -1), None)
    with pytest.raises(careshed.CRSError, match="nocrs.tif"):
        careshed.friction_surface(grid, speed_raster=nocrs)
    with pytest.raises(careshed.InputError):
        careshed.friction_surface(grid, background_speed_kmh=-3)
    with pytest.raises(careshed.DataIOError, match="no layer 'nope'"):
        careshed.friction_surface(grid, roads=COMOROS / "comores-latest.osm.pbf", road_layer="nope",
                                  background_speed_kmh=5)


def test_comoros_bundle_end_to_end(tmp_path):
    """Land-cover fractions + OSM roads on a 500 m UTM grid over the islands: plausible numbers."""
    grid = careshed.make_grid(COMOROS / "population.tif", 500)
    profile = careshed.SpeedProfile.car()
    fs = careshed.friction_surface(
        grid,
        landcover_fractions={COMOROS / "landcover_Tree.tif": 2.5, COMOROS / "landcover_Crops.tif": 4.0,
                             COMOROS / "landcover_BuiltUp.tif": 5.0},
        other_speed_kmh=3.0,
        roads=COMOROS / "comores-latest.osm.pbf", road_profile=profile)
    f = fs.seconds_per_metre
    passable = np.isfinite(f)
    # The Comoros' land area is ~1,860 km² = ~7,440 cells of 0.25 km²; coastal road cells add a few.
    assert 5000 < passable.sum() < 11000
    speeds = fs.speed_kmh[passable]
    assert speeds.min() >= 2.5 - 1e-9
    assert speeds.max() <= 130
    assert fs.report["road_features"] > 3500  # 4378 highway ways, minus paths/footways/steps/untagged
    assert fs.report["skipped_classes"].get("footway", 0) > 0
    assert "" not in fs.report["skipped_classes"]  # lines without a highway tag are not roads

    # Independent oracle: every vertex of a primary road without maxspeed lies in a cell at >= 70 km/h,
    # and every cell holding a car-road vertex is passable.
    ds = ogr.Open(str(COMOROS / "comores-latest.osm.pbf"))
    lyr = ds.GetLayerByName("lines")
    ct = osr.CoordinateTransformation(_srs(4326), _srs(grid.epsg))
    checked = 0
    car_classes = set(profile.speeds_kmh)
    for feat in lyr:
        hw = feat.GetField("highway")
        if hw not in car_classes:
            continue
        g = feat.GetGeometryRef().Clone()
        g.Transform(ct)
        pts = np.array(g.GetPoints())[:, :2]
        r, c = grid.rowcol(pts[:, 0], pts[:, 1])
        inside = (r >= 0) & (r < grid.height) & (c >= 0) & (c < grid.width)
        assert passable[r[inside], c[inside]].all(), hw
        if hw == "primary" and "maxspeed" not in (feat.GetField("other_tags") or ""):
            assert (fs.speed_kmh[r[inside], c[inside]] >= 70 - 1e-9).all()
            checked += inside.sum()
    assert checked > 100
    # Open sea between Grande Comore and Mohéli (lon 43.55, lat -12.0) is impassable (land-cover nodata).
    x, y = careshed._core.transform_xy(np.array([43.55]), np.array([-12.0]), "EPSG:4326", grid.crs)
    r, c = grid.rowcol(x, y)
    assert np.isnan(f[r[0], c[0]])
    # Written as a COG and read back unchanged.
    out = tmp_path / "friction.tif"
    fs.to_geotiff(out)
    back, g2 = careshed.read_raster(out)
    np.testing.assert_array_equal(back, f)
    assert g2 == grid or g2.transform == grid.transform
