"""Tests of careshed.arrays.friction (friction surfaces from land cover, roads, speed and friction rasters).

Fixtures are written with GDAL/OGR's own Python bindings (osgeo), independently of careshed's writer, and every
expected number is computed here by hand or with numpy block arithmetic — never by the code under test.
"""
from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

import careshed
from raster_case import COMOROS, SEED, cx, cy, gdal_raster, ogr_layer, small_grid, srs


# 10 x 10 cells of 100 m in UTM 38S (x 500000..501000, y 8800000..8801000).


# ---- grids ------------------------------------------------------------------------------------------------


# ---- reading and writing ---------------------------------------------------------------------------------


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
    ct = osr.CoordinateTransformation(srs(4326), srs(grid.epsg))
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


def test_land_mask_cuts_the_sea_whatever_the_background_or_a_road(tmp_path):
    """land=: every cell the land polygons do not touch is impassable (NaN), even at the background speed and
    under a road; a raster land mask: zero, nodata and off-raster cells are sea. Expected cells by hand."""
    grid = small_grid()
    land = ogr_layer(tmp_path / "land.gpkg", 32738, [],
                     [("POLYGON ((500000 8800000, 500430 8800000, 500430 8801000, 500000 8801000, 500000 8800000))",
                       {})])   # touches columns 0-4 (column 4 by 30 m)
    road = ogr_layer(tmp_path / "road.gpkg", 32738, ["highway"],
                     [(f"LINESTRING (500000 {cy(5)}, 501000 {cy(5)})", {"highway": "trunk"})])
    fs = careshed.friction_surface(grid, background_speed_kmh=5, roads=road, land=land)
    want = np.full((10, 10), 3.6 / 5)
    want[5, :] = 3.6 / careshed.SpeedProfile.car().speeds_kmh["trunk"]
    want[:, 5:] = np.nan
    np.testing.assert_allclose(fs.seconds_per_metre, want, rtol=1e-15)
    assert fs.report["barrier_cells"] == 50
    same = careshed.friction_surface(grid, background_speed_kmh=5, roads=road,
                                     barriers=[{"path": land, "outside": True, "all_touched": True}])
    np.testing.assert_array_equal(same.seconds_per_metre, fs.seconds_per_metre)
    # A raster land mask over the top 6 rows only: row 0 land (1), rows 1-4 land (7), row 5 nodata; rows 6-9
    # are off the raster: only rows 0-4 stay passable.
    mask = np.full((6, 10), 7, dtype=np.uint8)
    mask[0] = 1
    mask[5] = 255
    mask[2, 3] = 0                                               # one sea cell inside the land
    tif = gdal_raster(tmp_path / "land.tif", mask, (500000, 100, 0, 8801000, 0, -100), 32738, nodata=255,
                      dtype=gdal.GDT_Byte)
    fr = careshed.friction_surface(grid, background_speed_kmh=5, land=tif).seconds_per_metre
    passable = np.zeros((10, 10), dtype=bool)
    passable[:5] = True
    passable[2, 3] = False
    np.testing.assert_array_equal(np.isfinite(fr), passable)
    with pytest.raises(careshed.InputError, match="no cell of the grid as land"):
        careshed.friction_surface(grid, background_speed_kmh=5, land=ogr_layer(
            tmp_path / "far.gpkg", 32738, [], [("POLYGON ((0 0, 1 0, 1 1, 0 0))", {})]))
