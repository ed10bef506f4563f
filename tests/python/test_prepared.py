"""careshed.prepared: the study area prepared once — zones on the grid, people per cell, classes, thresholds."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import careshed
from careshed import _core
from conftest import QUZHOU, QUZHOU_CENSUS_TOTAL
from strip_case import CRS, X0, Y1, cell_centre, gdf, points, strip_grid, strip_study, strip_zones


@pytest.mark.parametrize("counting", ["centre", "fraction"])
def test_quzhou_zone_totals_equal_the_census_under_both_rules(counting):
    study = careshed.Study(QUZHOU / "counties.geojson", zone_id="adcode", population="pop_census2020",
                           travel={"background_speed_kmh": 25}, cell_size_m=1000, counting=counting,
                           thresholds_min=60)
    census = study.zones.set_index("adcode")["pop_census2020"]
    r = study.reach(QUZHOU / "county_seats.csv", x="lon", y="lat", crs="EPSG:4326", facility_id="county_adcode")
    t = r.table
    for code, pop in census.items():
        assert t.loc[code, "population"] == pytest.approx(pop, rel=1e-9)
    assert t.iloc[-1]["population"] == pytest.approx(QUZHOU_CENSUS_TOTAL, rel=1e-9)


def test_quzhou_demo_spreads_ghsl_urban_shares_into_the_urban_cores():
    from careshed.demo import quzhou_reach, quzhou_study

    study = quzhou_study(cell_size_m=500)
    r = quzhou_reach(study=study)
    ghsl = pd.read_csv(QUZHOU / "census2020_ghsl.csv").set_index("CODE")["GHSL_URB"]
    t = r.table
    for code in ghsl.index:
        assert t.loc[code, "population_urban"] / t.loc[code, "population"] == pytest.approx(ghsl[code], rel=1e-9)
    assert t.iloc[-1]["population"] == pytest.approx(QUZHOU_CENSUS_TOTAL, rel=1e-9)
    assert r.modelled and sum(n.startswith("MODELLED") for n in r.notes) >= 4
    assert list(r.stations.index) == [str(c) for c in [330802, 330803, 330822, 330824, 330825, 330881]]
    assert (r.stations["status"] == "on grid").all()
    assert 0.05 < t.iloc[-1]["covered_share"] < 0.95


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "soon"])
def test_thresholds_must_be_positive_minutes(bad):
    st = points(["s1"], [cell_centre(1, 0)])
    with pytest.raises(careshed.InputError, match="threshold"):
        strip_study().reach(st, thresholds_min={"urban": bad, "rural": 6})
    with pytest.raises(careshed.InputError, match="threshold"):
        strip_study().reach(st, thresholds_min=bad)


def test_thresholds_text_is_how_the_notes_state_the_standard():
    from careshed.prepared import check_thresholds, thresholds_text
    assert thresholds_text(check_thresholds({"urban": 11, "rural": 15.5}, ["urban", "rural"])) == \
        "urban 11 min, rural 15.5 min"
    assert thresholds_text(check_thresholds(60, None)) == "all 60 min"


def test_a_class_without_a_threshold_is_refused():
    st = points(["s1"], [cell_centre(1, 0)])
    with pytest.raises(careshed.InputError, match="'rural'"):
        strip_study().reach(st, thresholds_min={"urban": 4})
    from shapely.geometry import box
    polys = gdf({"kind": ["urban", "suburban"]},
                [box(X0, Y1 - 300, X0 + 300, Y1), box(X0 + 300, Y1 - 300, X0 + 500, Y1)])
    with pytest.raises(careshed.InputError, match="'suburban'"):
        strip_study(classes={"polygons": polys, "field": "kind", "outside": "rural"})


def test_unclassified_populated_cells_are_refused(tmp_path):
    grid = strip_grid()
    codes = np.zeros(grid.shape, dtype=np.int32)
    codes[:, :3] = 30
    codes[:, 3:] = 12
    codes[0, 9] = 99
    path = careshed.write_geotiff(tmp_path / "smod.tif", codes, grid)
    with pytest.raises(careshed.InputError, match="no class"):
        strip_study(classes={"raster": path, "codes": {30: "urban", 12: "rural"}})
    s = strip_study(classes={"raster": path, "codes": {30: "urban", 12: "rural"}, "other": "rural"})
    assert (s.cell_class[:, :3] == 0).all() and (s.cell_class[:, 3:] == 1).all()


def test_population_raster_negative_refused_other_crs_reprojected(tmp_path):
    grid = strip_grid()
    neg = np.full(grid.shape, 10.0)
    neg[2, 3] = -5
    bad = careshed.write_geotiff(tmp_path / "neg.tif", neg, grid)
    with pytest.raises(careshed.InputError, match="negative"):
        strip_study(population=None, population_raster=bad)
    # nodata is ignored (not refused as negative): -99999 cells hold no people
    nod = np.full(grid.shape, 10.0)
    nod[0, :] = -99999.0
    ok = careshed.write_geotiff(tmp_path / "nodata.tif", nod, grid, nodata=-99999.0)
    s = strip_study(population=None, population_raster=ok)
    assert np.nansum(s.population) == pytest.approx(10.0 * 20)
    assert np.isnan(s.population[0]).all()
    # A lon/lat population raster inside the strip: people are warped onto the UTM grid, the total kept.
    xs, ys = _core.transform_xy(np.array([X0 + 120, X0 + 880]), np.array([Y1 - 260, Y1 - 40]), CRS, "EPSG:4326")
    lonlat = careshed.make_lonlat_grid((xs[0], ys[0], xs[1], ys[1]), 0.0002)
    rng = np.random.default_rng(5)
    vals = rng.uniform(0, 10, lonlat.shape)
    src = careshed.write_geotiff(tmp_path / "pop4326.tif", vals, lonlat)
    s = strip_study(population=None, population_raster=src)
    inside_total = careshed.read_raster(src, return_report=False)[0].sum()
    assert np.nansum(s.population) == pytest.approx(inside_total, rel=1e-3)
    r = s.reach(points(["s1"], [cell_centre(1, 0)]))
    assert r.table.loc["region", "population"] == pytest.approx(np.nansum(s.population), rel=1e-9)


def test_travel_with_a_dem_walks_on_terrain_also_per_facility(tmp_path):
    """Study(travel={"dem": ...}): the study's search is the terrain engine on the study's own friction and the DEM
    read onto the grid (checked against travel_time_terrain called directly); so are the per-facility reach lists of
    access and optimize (each facility searched alone, in the terrain model's direction)."""
    from careshed.arrays.terrain import read_elevation, travel_time_terrain

    grid = strip_grid()
    z = np.tile(20.0 * np.arange(10), (3, 1)) + np.array([[0.0], [5.0], [-3.0]])
    z[0, 9] = np.nan  # a hole in the DEM: that cell becomes impassable
    dem = careshed.write_geotiff(tmp_path / "dem.tif", z, grid)
    study = careshed.Study(strip_zones(), zone_id="zone", population="pop", thresholds_min=60,
                           travel={"background_speed_kmh": 6, "dem": dem, "terrain_direction": "away"})
    assert study.terrain["direction"] == "away" and study.terrain["model"] == "tobler"
    assert np.isnan(study.friction.seconds_per_metre[0, 9])
    assert any("walking on terrain" in n and "1 passable cell" in n for n in study.notes)
    x, y = cell_centre(1, 0)
    r = study.reach(points(["s1"], [(x, y)]))
    elevation, _ = read_elevation(dem, grid)
    friction = np.full(grid.shape, 0.6)
    friction[0, 9] = np.nan
    want, _ = travel_time_terrain(friction, elevation, np.array([[1, 0]]), cell_size=(100.0, 100.0), direction="away")
    np.testing.assert_array_equal(r.seconds, want)
    assert r.seconds[1, 9] > 1.5 * 9 * 60  # uphill all the way: much slower than the flat 9 minutes
    sources = np.array([[1, 0], [2, 6]])
    offsets, cells, secs = study.reach_lists(sources, 9 * 60.0, 8, np.array([0.0, 30.0]))
    for j, (rc, off) in enumerate(zip(sources, (0.0, 30.0))):
        alone, _ = travel_time_terrain(friction, elevation, rc[None], cell_size=(100.0, 100.0), direction="away",
                                       max_seconds=9 * 60.0, start_offsets_seconds=[off])
        want = np.flatnonzero(np.isfinite(alone.ravel()))
        np.testing.assert_array_equal(cells[offsets[j]:offsets[j + 1]], want)
        np.testing.assert_array_equal(secs[offsets[j]:offsets[j + 1]], alone.ravel()[want])
    assert offsets[1] > 0 and offsets[2] > offsets[1]
    with pytest.raises(careshed.UsageError, match="need a DEM"):
        careshed.Study(strip_zones(), zone_id="zone", population="pop", thresholds_min=60,
                       travel={"background_speed_kmh": 6, "terrain_model": "rwalk"})


def test_grid_memory_keeps_careshed_memory_errors_and_names_the_grid_for_others():
    """Issue 8: a MemoryLimitError from the core (its estimate, its limit, its advice) keeps its class, its text and
    itself as the cause, with the grid and what to change added; a plain MemoryError (here a real failed NumPy
    allocation) becomes a MemoryLimitError naming the grid and what to change."""
    from careshed.errors import MemoryLimitError
    from careshed.prepared import grid_memory

    grid = strip_grid()
    refusal = MemoryLimitError("travel time needs 9.1 GB, 2.0 GB available: use a larger cell size")
    with pytest.raises(MemoryLimitError) as caught:
        with grid_memory(grid):
            raise refusal
    assert type(caught.value) is MemoryLimitError and caught.value.__cause__ is refusal
    assert str(refusal) in str(caught.value) and f"{grid.width:,} x {grid.height:,} cells" in str(caught.value)

    with pytest.raises(MemoryLimitError) as caught:
        with grid_memory(grid):
            np.empty(2**62, dtype=np.uint8)  # more than any address space: NumPy raises a plain MemoryError
    assert isinstance(caught.value, MemoryError)
    assert f"{grid.width:,} x {grid.height:,} cells" in str(caught.value) and "cell_size_m" in str(caught.value)


def test_referral_and_outreach_refuse_travel_models_their_searches_would_ignore(tmp_path):
    """referral and outreach search the friction surface itself: on a Study that walks then rides, or walks on
    terrain, they would silently answer for plain walking. They refuse instead; the plain Study runs the guard
    through."""
    road = careshed.RoadGraph.from_xy_lines([[cell_centre(1, 9), cell_centre(1, 0)]], [54.0],
                                            crs_wkt=_core.crs_to_wkt(CRS))
    rides = careshed.Study(strip_zones(), zone_id="zone", population="pop", cell_size_m=100.0,
                           travel={"background_speed_kmh": 6.0, "modes": {"road": {"network": road}}},
                           thresholds_min=4)
    dem = careshed.write_geotiff(tmp_path / "dem.tif", np.zeros((3, 10)), strip_grid())
    slopes = careshed.Study(strip_zones(), zone_id="zone", population="pop", thresholds_min=60,
                            travel={"background_speed_kmh": 6, "dem": dem})
    clinics = points(["c1", "c2"], [cell_centre(1, 0), cell_centre(1, 9)], level=["township", "county"])
    for study, what in ((rides, "walk then ride"), (slopes, "walking on terrain")):
        with pytest.raises(careshed.UsageError, match=f"referral does not support {what}"):
            study.referral(clinics, level_field="level")
        with pytest.raises(careshed.UsageError, match=f"outreach does not support {what}"):
            study.outreach(clinics, facilities=clinics, bases=clinics)
    strip_study().require_isotropic_friction("referral")  # the plain friction surface passes
