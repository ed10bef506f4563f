"""careshed.analyses.access (study.access) on the strip study of strip_case.py, by hand (see
test_analyses_catchments.py for the strip): within 2 minutes hospital h1 (10 beds) serves 700 people of zone A, h2
(30 beds) 1400 people of zone B, and nobody reaches both."""
from __future__ import annotations

import numpy as np
import pytest

import careshed
from careshed.analyses.access import parse_steps
from strip_case import cell_centre, points, strip_study


def hospitals():
    return points(["h1", "h2"], [cell_centre(1, 0), cell_centre(1, 9)], beds=[10.0, 30.0])


def test_2sfca_by_hand_and_conservation():
    r = strip_study().access(hospitals(), supply="beds", method="2sfca", max_minutes=2)
    assert isinstance(r, careshed.AccessMap)
    t = r.table
    assert t.loc["A", "beds_per_1000"] == pytest.approx(10 / 700 * 1000)
    assert t.loc["B", "beds_per_1000"] == pytest.approx(30 / 1400 * 1000)
    assert t.loc["region", "beds_per_1000"] == pytest.approx(40 / 2100 * 1000)
    assert t.loc["A", "population_no_access"] == pytest.approx(800)
    assert r.facilities["supply_ratio"].tolist() == pytest.approx([10 / 700, 30 / 1400])
    assert r.diagnostics["conservation_relative_error"] < 1e-12
    assert callable(r.report)  # Result.report(path), not hidden by a data attribute (the figures are .diagnostics)
    assert np.isnan(r.score[0, 2]) and r.score[1, 0] == pytest.approx(10 / 700)


def test_e2sfca_default_steps_are_luo_and_qi_on_thirds():
    r = strip_study().access(hospitals(), supply="beds", method="e2sfca", max_minutes=3)
    assert r.steps == pytest.approx({1.0: 1.0, 2.0: 0.68, 3.0: 0.22})
    assert "steps <= 1 min: 1" in " ".join(r.notes)


def test_parse_steps_and_bad_arguments():
    assert parse_steps("20:0.68,10:1") == {10.0: 1.0, 20.0: 0.68}
    assert parse_steps({"5": 1}) == {5.0: 1.0} and parse_steps(None) is None
    for bad, msg in (("10=1", "MINUTES:WEIGHT"), ("10:x", "must be numbers"), ("10:1,10:2", "given twice")):
        with pytest.raises(careshed.InputError, match=msg):
            parse_steps(bad)
    study = strip_study()
    with pytest.raises(careshed.InputError, match="method 'x'"):
        study.access(hospitals(), supply="beds", method="x", max_minutes=2)
    with pytest.raises(careshed.InputError, match="lies beyond max_minutes"):
        study.access(hospitals(), supply="beds", max_minutes=2, steps="5:1")



def terrain_study(tmp_path, z, **kw):
    from strip_case import strip_grid, strip_zones
    dem = careshed.write_geotiff(tmp_path / "dem.tif", z, strip_grid())
    return careshed.Study(strip_zones(), zone_id="zone", population="pop", thresholds_min=60,
                          travel={"background_speed_kmh": 6, "dem": dem, **kw})


def test_access_on_terrain_equals_a_2sfca_worked_from_per_facility_terrain_searches(tmp_path):
    """A Study with a DEM: each facility's catchment is its own directed terrain search (patients walking to it).
    Oracle: 2SFCA computed here from travel_time_terrain run per facility; on flat ground the result equals the
    same Study without the DEM."""
    from careshed.arrays.terrain import read_elevation, travel_time_terrain
    from strip_case import strip_grid, strip_zones

    flat = terrain_study(tmp_path, np.zeros((3, 10)))
    plain = careshed.Study(strip_zones(), zone_id="zone", population="pop", thresholds_min=60,
                           travel={"background_speed_kmh": 6})
    a, b = (s.access(hospitals(), supply="beds", method="2sfca", max_minutes=3) for s in (flat, plain))
    np.testing.assert_allclose(a.score, b.score, rtol=1e-12)
    np.testing.assert_allclose(a.table["beds_per_1000"], b.table["beds_per_1000"], rtol=1e-12)

    z = np.tile(25.0 * np.arange(10), (3, 1)) + np.array([[0.0], [4.0], [-6.0]])
    study = terrain_study(tmp_path, z)
    r = study.access(hospitals(), supply="beds", method="2sfca", max_minutes=3)
    elevation, _ = read_elevation(tmp_path / "dem.tif", strip_grid())
    pop = np.nan_to_num(study.population)
    score = np.zeros(pop.shape)
    for rc, beds in (((1, 0), 10.0), ((1, 9), 30.0)):
        t, _ = travel_time_terrain(study.friction.seconds_per_metre, elevation, np.array([rc]),
                                   cell_size=(100.0, 100.0), max_seconds=180.0, direction="toward")
        inside = np.isfinite(t)
        score += np.where(inside, beds / pop[inside].sum(), 0.0)
    reached = (pop > 0) & (score > 0)
    np.testing.assert_allclose(r.score[reached], score[reached], rtol=1e-9)
    assert np.isnan(r.score[(pop > 0) & (score == 0)]).all()
    # walking down to h1 from its slope is quicker than up to h2: the catchments are not the flat ones
    assert not np.array_equal(np.isfinite(r.score), np.isfinite(a.score))
