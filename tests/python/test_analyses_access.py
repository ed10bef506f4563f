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

