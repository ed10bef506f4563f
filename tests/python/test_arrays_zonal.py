"""Tests of careshed.rasterize_zones / zonal_sum / population_grid / urban_rural.

Oracles: the 2020 census totals of the six Quzhou counties (data/quzhou, sum 2,276,184); shapely intersection
areas of every cell with random polygons (seed logged); GEOS point-in-polygon at cell centres
(careshed._core.assign_points_to_zones); the Comoros WorldPop raster's own pixel sum read with GDAL; hand-made
grids for the rules.
"""
from __future__ import annotations

import math
import os
import random

import numpy as np
import pandas as pd
import pytest
from shapely import wkb as shapely_wkb
from shapely.geometry import Polygon, box

import careshed
from careshed import _core

from conftest import QUZHOU, QUZHOU_CENSUS_TOTAL, ROOT

COMOROS_POP = ROOT / "data" / "comoros" / "population.tif"


def _seed(name: str) -> int:
    seed = int(os.environ.get("CARESHED_TEST_SEED", random.SystemRandom().randrange(2**31)))
    print(f"[ seed ] {name}: CARESHED_TEST_SEED={seed}")
    return seed


@pytest.fixture(scope="module")
def counties():
    return careshed.read_vector(QUZHOU / "counties.geojson")


@pytest.fixture(scope="module")
def grid500(counties):
    return careshed.make_grid(tuple(counties.total_bounds), 500.0, bounds_crs="EPSG:4326")


# ---- census totals ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("rule", ["centre", "fraction"])
def test_quzhou_county_totals_equal_census_both_rules(counties, grid500, rule):
    assert grid500.epsg == 32650  # UTM 50N for Quzhou (~118.9° E)
    census = counties["pop_census2020"].to_numpy(dtype=float)
    assert census.sum() == QUZHOU_CENSUS_TOTAL
    pop = careshed.population_grid(grid500, zones=counties, totals="pop_census2020", rule=rule)
    assert pop.zones.rule == rule
    sums = careshed.zonal_sum(pop.people, pop.zones)
    np.testing.assert_allclose(sums, census, rtol=1e-10)
    assert sums.sum() == pytest.approx(QUZHOU_CENSUS_TOTAL, rel=1e-10)
    assert np.all(pop.people >= 0)
    if rule == "centre":  # every person in exactly one cell
        assert pop.total == pytest.approx(QUZHOU_CENSUS_TOTAL, rel=1e-12)
    # zone areas agree with the polygon areas (fractions exactly, cell centres within a boundary strip)
    areas = counties.to_crs(grid500.crs).area.to_numpy() / 500.0**2
    cells = pop.zones.cell_counts()
    if rule == "fraction":
        np.testing.assert_allclose(cells, areas, rtol=1e-9)
    else:
        np.testing.assert_allclose(cells, areas, rtol=0.02)


def test_quzhou_class_shares_from_census_ghsl_table(counties, grid500):
    """Spread by the GHSL class shares of census2020_ghsl.csv over a (modelled) class grid: rings of classes
    around each county seat. Every class present in a county gets exactly its share of the census total; the
    shares of classes absent from a county are spread over the county, with a note."""
    ghsl = pd.read_csv(QUZHOU / "census2020_ghsl.csv")
    codes = [30, 23, 22, 21, 13, 12, 11, 10]
    by_code = ghsl.set_index("CODE").loc[counties["adcode"].astype(int)]
    shares = {c: by_code[f"GHSL_POP_{c}"].to_numpy(float) for c in codes}
    seats = pd.read_csv(QUZHOU / "county_seats.csv")
    sx, sy = _core.transform_xy(np.ascontiguousarray(seats["lon"].to_numpy(float)),
                                np.ascontiguousarray(seats["lat"].to_numpy(float)), "EPSG:4326", grid500.crs)
    rows, cols = np.indices(grid500.shape)
    x, y = grid500.xy(rows, cols)
    d = np.min(np.hypot(x[..., None] - np.asarray(sx), y[..., None] - np.asarray(sy)), axis=-1)
    cls = np.select([d < 3000, d < 6000, d < 12000, d < 20000], [30, 23, 21, 13], default=11).astype(np.int32)
    for rule in ("centre", "fraction"):
        pop = careshed.population_grid(grid500, zones=counties, totals="pop_census2020", rule=rule,
                                       class_grid=cls, class_shares=shares)
        census = counties["pop_census2020"].to_numpy(float)
        np.testing.assert_allclose(careshed.zonal_sum(pop.people, pop.zones), census, rtol=1e-10)
        # 22, 12, 10 have no cells anywhere: each county with a positive share of them gets a note
        missing = {(z, c) for z in range(6) for c in (22, 12, 10) if shares[c][z] > 0}
        assert len(pop.notes) == len(missing)
        if rule == "centre":
            total_share = sum(s for s in shares.values())
            for z in range(6):
                in_zone = pop.zones.zone == z
                spread_share = sum(shares[c][z] for c in (22, 12, 10)) / total_share[z]
                n_zone = in_zone.sum()
                for c in (30, 23, 21, 13, 11):
                    m = in_zone & (cls == c)
                    if shares[c][z] > 0 and m.any():
                        expect = census[z] * (shares[c][z] / total_share[z] + spread_share * m.sum() / n_zone)
                        assert pop.people[m].sum() == pytest.approx(expect, rel=1e-9), (z, c)


# ---- rules against independent oracles ----------------------------------------------------------------------

def _random_star(rng: random.Random, cx, cy, rmin, rmax, n, snap=0.0):
    angles = sorted(rng.uniform(0, 2 * math.pi) for _ in range(n))
    pts = []
    for a in angles:
        r = rng.uniform(rmin, rmax)
        x, y = cx + r * math.cos(a), cy + r * math.sin(a)
        if snap:
            x, y = round(x / snap) * snap, round(y / snap) * snap
        pts.append((x, y))
    return Polygon(pts)


def test_area_fractions_match_shapely_intersections_random():
    rng = random.Random(_seed("area fractions"))
    grid = careshed.Grid(40, 30, (700000.0, 50.0, 0.0, 3301500.0, 0.0, -50.0), _core.crs_to_wkt("EPSG:32650"))
    cells = [box(700000 + c * 50, 3301500 - (r + 1) * 50, 700000 + (c + 1) * 50, 3301500 - r * 50)
             for r in range(30) for c in range(40)]
    checked = 0
    for trial in range(8):
        polys = []
        while len(polys) < 3:
            p = _random_star(rng, rng.uniform(700300, 701700), rng.uniform(3300300, 3301200), 40, 500,
                             rng.randint(5, 25), snap=25.0 if trial % 2 == 0 else 0.0)
            if p.is_valid and not any(p.intersects(q) for q in polys):
                polys.append(p)
        zr = careshed.rasterize_zones([shapely_wkb.dumps(p) for p in polys], grid, rule="fraction")
        weight = np.zeros((len(polys), 30 * 40))
        flat = zr.zone.reshape(-1)
        for z in range(len(polys)):
            weight[z, flat == z] = 1.0
        np.add.at(weight, (zr.split_zone, zr.split_cell), zr.split_fraction)
        for z, p in enumerate(polys):
            oracle = np.array([p.intersection(c).area / 2500.0 for c in cells])
            np.testing.assert_allclose(weight[z], oracle, atol=1e-9, err_msg=f"trial {trial} zone {z}")
            checked += 1
        assert np.all((zr.split_fraction > 0) & (zr.split_fraction <= 1))
    assert checked == 24


def test_cell_centre_rule_matches_point_in_polygon_at_centres_random():
    rng = random.Random(_seed("cell centres"))
    grid = careshed.Grid(50, 40, (300000.0, 20.0, 0.0, 4000800.0, 0.0, -20.0), _core.crs_to_wkt("EPSG:32631"))
    rows, cols = np.indices(grid.shape)
    x, y = grid.xy(rows.ravel(), cols.ravel())
    for trial in range(6):
        polys = []
        while len(polys) < 4:  # overlaps allowed: lowest index wins in both
            p = _random_star(rng, rng.uniform(300200, 300800), rng.uniform(4000200, 4000600), 30, 300,
                             rng.randint(4, 20), snap=10.0 if trial % 2 == 0 else 0.0)
            if p.is_valid:
                polys.append(p)
        wkb = [shapely_wkb.dumps(p) for p in polys]
        zr = careshed.rasterize_zones(wkb, grid, rule="centre")
        expect = np.asarray(_core.assign_points_to_zones(wkb, np.ascontiguousarray(x), np.ascontiguousarray(y)))
        np.testing.assert_array_equal(zr.zone.ravel(), expect, err_msg=f"trial {trial}")
        assert zr.split_cell.size == 0


def test_zonal_sum_float32_nan_and_shape_errors(grid500, counties):
    zr = careshed.rasterize_zones(counties, grid500, rule="fraction")
    ones32 = np.ones(grid500.shape, dtype=np.float32)
    v = np.ones(grid500.shape)
    v[0, :] = np.nan
    np.testing.assert_allclose(careshed.zonal_sum(ones32, zr), zr.cell_counts(), rtol=1e-12)
    np.testing.assert_allclose(careshed.zonal_sum(v, zr), zr.cell_counts(), rtol=1e-12)  # row 0 is outside the zones
    # NaN cells inside the zones too (a whole middle row and the first split cell): they add nothing. Reference by
    # numpy: bincount of the finite whole cells per zone plus the finite split cells' fractions.
    h, w = grid500.shape
    v[h // 2, :] = np.nan
    v.flat[zr.split_cell[0]] = np.nan
    flat, zone = v.ravel(), zr.zone.ravel()
    whole = (zone >= 0) & np.isfinite(flat)
    assert (zone[np.isnan(flat)] >= 0).any() and np.isnan(flat[zr.split_cell]).any()  # the NaNs do hit zones
    fin = np.isfinite(flat[zr.split_cell])
    expect = (np.bincount(zone[whole], minlength=zr.n_zones)
              + np.bincount(zr.split_zone[fin], weights=zr.split_fraction[fin], minlength=zr.n_zones))
    got = careshed.zonal_sum(v, zr)
    np.testing.assert_allclose(got, expect, rtol=1e-12)
    assert (got < zr.cell_counts() - 0.5).any()
    with pytest.raises(careshed.InputError, match="shape"):
        careshed.zonal_sum(np.ones((3, 3)), zr)
    with pytest.raises(careshed.InputError, match="ZoneRaster"):
        careshed.zonal_sum(v, zr.zone)


# ---- population rasters -------------------------------------------------------------------------------------

def test_comoros_worldpop_onto_utm_grid_preserves_total():
    from osgeo import gdal

    ds = gdal.Open(str(COMOROS_POP))
    band = ds.GetRasterBand(1)
    a = band.ReadAsArray().astype(np.float64)
    nodata = band.GetNoDataValue()
    source_total = a[a != nodata].sum()
    assert source_total == pytest.approx(869_595, abs=1)
    info = careshed.raster_info(COMOROS_POP)
    grid = careshed.make_grid(info["grid"].bounds, 250.0, bounds_crs="EPSG:4326")
    assert grid.epsg == 32738  # UTM 38S
    pop = careshed.population_grid(grid, raster=COMOROS_POP)
    # Stated tolerance: 1e-6 relative (GDAL's sum resampling with careshed's per-source normalisation).
    assert pop.total == pytest.approx(source_total, rel=1e-6)
    assert pop.report.relative_difference == pytest.approx(0.0, abs=1e-6)
    assert np.isnan(pop.people).any() and np.nanmin(pop.people) >= 0  # sea cells are no data, not zero


def _write_tif(path, values, nodata):
    from osgeo import gdal, osr

    h, w = values.shape
    ds = gdal.GetDriverByName("GTiff").Create(str(path), w, h, 1, gdal.GDT_Float32)
    ds.SetGeoTransform((500000.0, 100.0, 0.0, 1000000.0 + h * 100.0, 0.0, -100.0))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32631)
    ds.SetProjection(srs.ExportToWkt())
    b = ds.GetRasterBand(1)
    b.SetNoDataValue(nodata)
    b.WriteArray(values)
    ds = None
    return path


def test_population_raster_nodata_ignored_and_negative_refused(tmp_path):
    vals = np.array([[1, 2, -9999], [4, 5, 6]], dtype=np.float32)
    p = _write_tif(tmp_path / "pop.tif", vals, -9999)
    grid = careshed.make_grid((500000, 1000000, 500300, 1000200), 100.0, "EPSG:32631")
    pop = careshed.population_grid(grid, raster=p)
    assert np.isnan(pop.people[0, 2])
    assert pop.total == pytest.approx(18.0)
    vals[1, 0] = -3
    bad = _write_tif(tmp_path / "bad.tif", vals, -9999)
    with pytest.raises(careshed.InputError, match=r"bad\.tif.*row 1, col 0.*negative"):
        careshed.population_grid(grid, raster=bad)
    with pytest.raises(careshed.DataIOError, match="missing.tif"):
        careshed.population_grid(grid, raster=tmp_path / "missing.tif")
    # raster as weights, rescaled to zone totals: zone [0, 200 m] × all rows holds cells 1, 2, 4, 5 (sum 12)
    # → 120 people scale them ×10; zone [200, 300 m] holds the nodata cell and 6 → all 30 on the 6-cell.
    ok = _write_tif(tmp_path / "ok.tif", np.array([[1, 2, -9999], [4, 5, 6]], dtype=np.float32), -9999)
    zones = [box(500000, 1000000, 500200, 1000200), box(500200, 1000000, 500300, 1000200)]
    rescaled = careshed.population_grid(grid, raster=ok, zones=zones, totals=[120, 30])
    np.testing.assert_allclose(rescaled.people, [[10, 20, 0], [40, 50, 30]], rtol=1e-12)
    assert rescaled.source == "raster+zones" and rescaled.report.result_total == pytest.approx(18.0)


def test_population_from_zones_in_another_crs_and_weights(counties, grid500):
    """Zones in EPSG:4326 on a UTM grid are reprojected; covariate weights concentrate people."""
    w = np.zeros(grid500.shape)
    w[::2, ::2] = 1.0
    pop = careshed.population_grid(grid500, zones=counties, totals="pop_census2020", weights=w)
    assert np.all(pop.people[1::2, :] == 0) and np.all(pop.people[:, 1::2] == 0)
    np.testing.assert_allclose(careshed.zonal_sum(pop.people, pop.zones),
                               counties["pop_census2020"].to_numpy(float), rtol=1e-10)
    zr = careshed.rasterize_zones(counties, grid500, rule="fraction")  # a ZoneRaster remembers its frame
    again = careshed.population_grid(grid500, zones=zr, totals="pop_census2020")
    np.testing.assert_allclose(again.zone_sums(), counties["pop_census2020"].to_numpy(float), rtol=1e-10)
    with pytest.raises(careshed.InputError, match="weights"):
        careshed.population_grid(grid500, zones=counties, totals="pop_census2020", weights=-w)
    with pytest.raises(careshed.InputError, match="one total per zone"):
        careshed.population_grid(grid500, zones=counties, totals=[1, 2, 3])


# ---- urban / rural --------------------------------------------------------------------------------------------

def test_urban_rural_sources():
    grid = careshed.make_grid((500000, 1000000, 504000, 1000000 + 3000), 1000.0, "EPSG:32631")
    assert grid.shape == (3, 4)
    people = np.array([[2000, 2000, 0, 0], [0, 1600, 0, 0], [0, 0, 0, np.nan]])
    # urban cluster needs 5000 → no; with a rule of (300, 5000, 8) nothing, with (1500, 5000, 4): 5600 → centre
    cls = careshed.urban_rural(grid, population=people, rules=[(300, 6000, 8), (1500, 5600, 4)])
    expect = np.array([[2, 2, 0, 0], [0, 2, 0, 0], [0, 0, 0, 255]], dtype=np.uint8)
    np.testing.assert_array_equal(cls, expect)
    assert cls.dtype == np.uint8
    smod = np.array([[30, 23, 13, 11], [10, 21, 12, 11], [30, np.nan, 99, 11]])
    c2 = careshed.urban_rural(grid, values=smod, codes={30: 1, 23: 1, 21: 1, 13: 0, 12: 0, 11: 0, 10: 255})
    np.testing.assert_array_equal(c2, [[1, 1, 0, 0], [255, 1, 0, 0], [1, 255, 255, 0]])
    c3 = careshed.urban_rural(grid, values=smod / 100, breaks=[0.2, 0.3])
    np.testing.assert_array_equal(c3, [[2, 1, 0, 0], [0, 1, 0, 0], [2, 255, 2, 0]])
    zones = careshed.rasterize_zones([box(500000, 1000000, 502000, 1003000), box(502000, 1000000, 504000, 1003000)],
                                     grid, rule="fraction")
    c4 = careshed.urban_rural(grid, zones=zones, zone_classes=[1, 0])
    np.testing.assert_array_equal(c4, [[1, 1, 0, 0]] * 3)
    with pytest.raises(careshed.InputError, match="exactly one"):
        careshed.urban_rural(grid, population=people, zones=zones, zone_classes=[1, 0])


def test_bad_zone_inputs(grid500):
    bowtie = Polygon([(0, 0), (4, 4), (4, 0), (0, 4)])
    with pytest.raises(careshed.InputError, match="zone 0"):
        careshed.rasterize_zones([shapely_wkb.dumps(bowtie)], grid500)
    with pytest.raises(careshed.InputError, match="centre"):
        careshed.rasterize_zones([], grid500, rule="majority")
    import geopandas as gpd
    with pytest.raises(careshed.CRSError, match="no CRS"):
        careshed.rasterize_zones(gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)]), grid500)


def test_outside_as_zone_holds_what_no_zone_covers_random():
    """careshed.arrays.zonal.outside_as_zone: zone n takes every cell (share) no zone covers. Oracle: 1 - the
    shapely intersection areas of the zones with each cell, and the people weighted by it, summed with numpy."""
    from careshed.arrays.zonal import outside_as_zone

    rng = random.Random(_seed("outside every zone"))
    grid = careshed.Grid(30, 20, (700000.0, 50.0, 0.0, 3301000.0, 0.0, -50.0), _core.crs_to_wkt("EPSG:32650"))
    cells = [box(700000 + c * 50, 3301000 - (r + 1) * 50, 700000 + (c + 1) * 50, 3301000 - r * 50)
             for r in range(20) for c in range(30)]
    people = np.array([rng.uniform(0, 10) for _ in range(600)]).reshape(20, 30)
    people[0, :5] = np.nan                                          # no data = no people
    for trial in range(4):
        polys = []
        while len(polys) < 2:
            p = _random_star(rng, rng.uniform(700300, 701200), rng.uniform(3300300, 3300700), 40, 400,
                             rng.randint(5, 20), snap=0.0)
            if p.is_valid and not any(p.intersects(q) for q in polys):
                polys.append(p)
        wkb = [shapely_wkb.dumps(p) for p in polys]
        inside = np.array([sum(p.intersection(c).area for p in polys) / 2500.0 for c in cells])
        for rule in ("fraction", "centre"):
            zr = careshed.rasterize_zones(wkb, grid, rule=rule)
            arrays, outside_people = outside_as_zone(zr, people)
            assert arrays["n_zones"] == 3
            np.testing.assert_array_equal(arrays["zone"][zr.zone >= 0], zr.zone[zr.zone >= 0])  # zones unchanged
            weight = (arrays["zone"].reshape(-1) == 2).astype(float)
            np.add.at(weight, arrays["split_cell"][arrays["split_zone"] == 2],
                      arrays["split_fraction"][arrays["split_zone"] == 2])
            if rule == "fraction":
                oracle = 1.0 - inside
                oracle[oracle < 1e-9] = 0.0
            else:
                oracle = (zr.zone.reshape(-1) == -1).astype(float)
            np.testing.assert_allclose(weight, oracle, atol=1e-9, err_msg=f"trial {trial} {rule}")
            assert outside_people == pytest.approx(float(np.nansum(people.reshape(-1) * oracle)), rel=1e-12)
            # The zones plus the outside zone hold every person of the grid, once.
            held = careshed.zonal_sum(np.nan_to_num(people), careshed.ZoneRaster(
                arrays["zone"], arrays["split_cell"], arrays["split_zone"], arrays["split_fraction"], 3, rule,
                grid))
            assert held.sum() == pytest.approx(np.nansum(people), rel=1e-12)
            assert held[2] == pytest.approx(outside_people, rel=1e-12)
