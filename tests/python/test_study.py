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
    assert careshed.Study.access.__doc__ == access_analysis.run.__doc__


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
