"""careshed.analyses.catchments (study.catchments) on the strip study of strip_case.py, by hand.

The strip: 100 people per cell in zone A (cols 0-4), 200 in zone B (cols 5-9), one minute per rook step. Hospitals
at (1, 0) with 10 beds and (1, 9) with 30 beds: every cell of A is nearer the first, every cell of B the second.
Within 2 minutes each reaches row 1 cols 0-2 and rows 0/2 cols 0-1 of its end (7 cells; col 2 of rows 0/2 is
sqrt(2) + 1 minutes away).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import careshed
from strip_case import cell_centre, points, strip_study


def hospitals():
    return points(["h1", "h2"], [cell_centre(1, 0), cell_centre(1, 9)], beds=[10.0, 30.0], name=["West", "East"])


def test_catchments_without_a_limit_are_the_two_zones():
    r = strip_study().catchments(hospitals(), resources="beds")
    assert isinstance(r, careshed.Catchments)
    assert r.table["population"].tolist() == pytest.approx([1500.0, 3000.0])
    assert r.table["beds_per_1000"].tolist() == pytest.approx([10 / 1.5, 10.0])
    assert r.table["zone"].tolist() == ["A", "B"] and r.table["name"].tolist() == ["West", "East"]
    assert (r.nearest[:, :5] == 0).all() and (r.nearest[:, 5:] == 1).all()
    assert r.zones.loc["region", "population_unreached"] == pytest.approx(0.0)


def test_catchments_within_two_minutes_by_hand():
    r = strip_study().catchments(hospitals(), resources={"beds": "beds"}, max_minutes=2)
    assert r.table["population"].tolist() == pytest.approx([700.0, 1400.0])
    assert r.table["cells"].tolist() == [7, 7]
    z = r.zones
    assert z.loc["A", "population_reached"] == pytest.approx(700) and z.loc["B", "population_reached"] == \
        pytest.approx(1400)
    assert z.loc["region", "population_unreached"] == pytest.approx(4500 - 2100)
    assert np.isinf(r.seconds[0, 2]) and r.nearest[0, 2] == -1
    assert "within 2 min" in repr(r).splitlines()[0]


def test_capacity_coverage_takes_people_until_the_beds_run_out():
    # 30 people per bed: h1 can serve 300 of the 700 it reaches, h2 900 of 1400 — both run out
    r = strip_study().catchments(hospitals(), resources="beds", capacity="beds", patients_per_bed=30, max_minutes=2)
    assert r.table["covered"].tolist() == pytest.approx([300.0, 900.0])
    assert r.table["capacity_exhausted"].astype(bool).tolist() == [True, True]
    assert r.zones.loc["region", "covered"] == pytest.approx(1200.0)
    # 100 people per bed: both serve everybody within 2 minutes and keep capacity
    r = strip_study().catchments(hospitals(), resources="beds", capacity="beds", patients_per_bed=100, max_minutes=2)
    assert r.table["covered"].tolist() == pytest.approx([700.0, 1400.0])
    assert r.table["capacity_remaining"].tolist() == pytest.approx([300.0, 1600.0])
    assert r.zones.loc["A", "covered_share"] == pytest.approx(700 / 1500)


def test_bad_resources_and_limits_are_refused():
    study = strip_study()
    with pytest.raises(careshed.InputError, match="max_minutes"):
        study.catchments(hospitals(), max_minutes=-1)
    with pytest.raises(careshed.InputError, match="needs a maximum travel time"):
        study.catchments(hospitals(), capacity="beds")
    with pytest.raises(careshed.InputError, match="no field 'doctors'"):
        study.catchments(hospitals(), resources="doctors")
    assert isinstance(study.catchments(hospitals()).table, pd.DataFrame)
