"""careshed.placement: facilities snapped off impassable cells / into the grid, refused or skipped, reported."""
from __future__ import annotations

import math

import numpy as np
import pytest

import careshed
from careshed.placement import UnplacedStationsWarning
from strip_case import X0, cell_centre, points, strip_study


def test_station_on_impassable_cell_is_snapped_and_reported():
    f = np.full((3, 10), 0.6)
    f[1, 0] = np.nan
    r = strip_study(friction=f).reach(points(["s1"], [cell_centre(1, 0)]))
    st = r.stations.loc["s1"]
    # passable neighbours (0,0), (1,1), (2,0) are all 100 m away: the lowest row-major cell (0,0) wins
    assert st["status"] == "snapped" and (st["row"], st["col"]) == (0, 0)
    assert st["snapped_m"] == pytest.approx(100.0)
    assert any("moved to the nearest passable cell" in n and "'s1' 100 m" in n for n in r.notes)


def test_station_just_outside_the_grid_is_snapped_far_outside_refused_or_skipped():
    x, y = cell_centre(1, 0)
    r = strip_study().reach(points(["w"], [(X0 - 30.0, y)]))
    assert r.stations.loc["w", "status"] == "snapped"
    assert r.stations.loc["w", "snapped_m"] == pytest.approx(80.0)   # 30 m to the edge + 50 m to the centre
    far = points(["ok", "far"], [(x, y), (X0 - 5000.0, y)])
    with pytest.raises(careshed.InputError, match=r"'far' \(outside grid\)"):
        strip_study().reach(far)
    with pytest.raises(careshed.InputError, match="'far'"):
        strip_study().reach(far, snap_max_m=1000)
    with pytest.warns(UnplacedStationsWarning, match="far"):
        r = strip_study().reach(far, unplaced="skip")
    assert r.stations.loc["far", "status"] == "outside grid"
    assert math.isnan(r.stations.loc["far", "population_nearest"])
    assert r.stations.loc["ok", "population_nearest"] == pytest.approx(4500)
    assert (r.nearest == 0).all()     # indices refer to the full station table
    r2 = strip_study().reach(far, snap_max_m=5100)
    assert r2.stations.loc["far", "status"] == "snapped"
