"""careshed.study: one method per analysis on a Study, and the deprecated entry points (they still work and warn)."""
from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

import careshed
from careshed.analyses import access as access_analysis
from careshed.analyses import catchments as catchments_analysis
from careshed.analyses import reach as reach_analysis
from strip_case import cell_centre, points, strip_grid, strip_study, strip_zones, urban_polygon


def hospitals():
    return points(["h1", "h2"], [cell_centre(1, 0), cell_centre(1, 9)], beds=[10.0, 30.0])


def test_methods_are_the_analysis_modules_run_functions():
    study = strip_study()
    st = points(["s1"], [cell_centre(1, 0)])
    pd.testing.assert_frame_equal(study.reach(st, dispatch_minutes=2).table,
                                  reach_analysis.run(study, st, dispatch_minutes=2).table)
    pd.testing.assert_frame_equal(study.catchments(hospitals(), resources="beds").table,
                                  catchments_analysis.run(study, hospitals(), resources="beds").table)
    pd.testing.assert_frame_equal(study.access(hospitals(), supply="beds", max_minutes=10).table,
                                  access_analysis.run(study, hospitals(), supply="beds", max_minutes=10).table)
    # the methods show the analysis' own parameters and documentation
    assert "dispatch_minutes" in inspect.signature(careshed.Study.reach).parameters
    assert careshed.Study.access.__doc__.startswith(access_analysis.run.__doc__)
    assert "progress :" in careshed.Study.access.__doc__ and "progress" in inspect.signature(careshed.Study.reach).parameters


def test_one_call_reach_is_deprecated_and_equals_study_then_reach(tmp_path):
    grid = strip_grid()
    st = points(["s1"], [cell_centre(1, 0)])
    with pytest.warns(DeprecationWarning, match=r"careshed.Study\(zones, ...\).reach"):
        one = careshed.reach(strip_zones(), st, zone_id="zone", population="pop", keep=["name"],
                             friction=careshed.FrictionSurface(np.full(grid.shape, 0.6), grid),
                             classes={"polygons": urban_polygon()}, thresholds_min={"urban": 4, "rural": 6},
                             dispatch_minutes=2, modelled="test")
    two = strip_study().reach(st, dispatch_minutes=2)
    pd.testing.assert_frame_equal(one.table, two.table)
    assert one.modelled and one.notes[0] == "MODELLED input: test"
    paths = one.to_geotiff({"minutes": tmp_path / "m.tif"})
    assert list(paths) == ["minutes"] and (tmp_path / "m.tif").is_file()
    with pytest.raises(careshed.InputError, match="unknown output"):
        one.to_geotiff({"speed": tmp_path / "s.tif"})


def test_study_catchments_and_study_access_are_deprecated_aliases():
    study = strip_study()
    with pytest.warns(DeprecationWarning, match=r"study.catchments\(...\)"):
        old = careshed.study_catchments(study, hospitals(), resources="beds", max_minutes=30)
    pd.testing.assert_frame_equal(old.table, study.catchments(hospitals(), resources="beds", max_minutes=30).table)
    with pytest.warns(DeprecationWarning, match=r"study.access\(...\)"):
        old = careshed.study_access(study, hospitals(), supply="beds", max_minutes=10)
    pd.testing.assert_frame_equal(old.table, study.access(hospitals(), supply="beds", max_minutes=10).table)


def test_station_id_keyword_is_deprecated_for_facility_id():
    study = strip_study()
    st = points(["s1"], [cell_centre(1, 0)], code=["A1"])
    with pytest.warns(DeprecationWarning, match="station_id= is deprecated; use facility_id="):
        old = study.reach(st, station_id="code", thresholds_min=5)
    new = study.reach(st, facility_id="code", thresholds_min=5)
    assert list(old.stations.index) == list(new.stations.index) == ["A1"]
    with pytest.raises(TypeError, match="give facility_id= only"):
        study.reach(st, station_id="code", facility_id="code", thresholds_min=5)


def test_quick_start_crs_is_the_stations_crs(quzhou_dir):
    """Issue 8: the documented one-call quick start ``careshed.reach(..., x="lon", y="lat", crs="EPSG:4326")`` —
    crs= is the CRS of the stations (it raised CRSError when it was taken as the grid's); the grid's is metric_crs=."""
    kw = dict(zone_id="adcode", population="pop_census2020", travel={"background_speed_kmh": 25}, cell_size_m=2000)
    with pytest.warns(DeprecationWarning):
        one = careshed.reach(quzhou_dir / "counties.geojson", quzhou_dir / "county_seats.csv", x="lon", y="lat",
                             crs="EPSG:4326", thresholds_min=60, **kw)
    study = careshed.Study(quzhou_dir / "counties.geojson", **kw)
    two = study.reach(quzhou_dir / "county_seats.csv", x="lon", y="lat", crs="EPSG:4326", thresholds_min=60)
    pd.testing.assert_frame_equal(one.table, two.table)
    assert len(two.stations) == 6 and (two.stations["status"] == "on grid").all()
    # the grid's CRS has its own keyword; the old Study(crs=) still works, with a warning
    utm = careshed.Study(quzhou_dir / "counties.geojson", metric_crs="EPSG:32650", **kw)
    with pytest.warns(DeprecationWarning, match="metric_crs="):
        old = careshed.Study(quzhou_dir / "counties.geojson", crs="EPSG:32650", **kw)
    assert old.grid == utm.grid and "32650" in str(utm.grid.crs)


def test_report_writes_the_html_of_this_studys_results(tmp_path):
    study = strip_study()
    catch = study.catchments(hospitals(), resources="beds")
    path = study.report([catch, study.access(hospitals(), supply="beds", max_minutes=10)], tmp_path / "r.html")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'id="catchments-table"' in page and 'id="access-table"' in page
    with pytest.raises(careshed.InputError, match="another study"):
        strip_study().report([catch], tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()


def test_a_study_walking_on_terrain_refuses_tiles(tmp_path):
    grid = strip_grid()
    dem = careshed.write_geotiff(tmp_path / "dem.tif", np.tile(20.0 * np.arange(10), (3, 1)), grid)
    with pytest.raises(careshed.errors.InputError, match="terrain.*not tiled"):
        careshed.Study(strip_zones(), zone_id="zone", population="pop", thresholds_min=60, tiles=2,
                       travel={"background_speed_kmh": 6, "dem": dem})


def test_a_study_walking_then_riding_refuses_tiles():
    from careshed import _core
    from strip_case import CRS
    road = careshed.RoadGraph.from_xy_lines([[cell_centre(1, 9), cell_centre(1, 0)]], [54.0],
                                            crs_wkt=_core.crs_to_wkt(CRS))
    with pytest.raises(careshed.errors.InputError, match="riding.*not tiled"):
        careshed.Study(strip_zones(), zone_id="zone", population="pop", cell_size_m=100.0, thresholds_min=4,
                       travel={"background_speed_kmh": 6.0, "modes": {"road": {"network": road}}}, tiles=2)
