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


def test_check_reachable_people_tells_impassable_cut_off_and_beyond_the_cut_off_apart():
    """Issue 8: who cannot reach any facility, and why. A 3 x 7 strip: a road (friction 0.036 s/m) from the station
    at column 0 to column 3, an impassable column 4, a separate road piece in columns 5-6; people everywhere on
    row 1, and one person on an impassable cell (row 0, column 4)."""
    import warnings

    from careshed.errors import InputError
    from careshed.placement import UnreachablePeopleWarning, check_reachable_people

    nan = np.nan
    friction = np.array([[nan, nan, nan, nan, nan, nan, nan],
                         [0.036, 0.036, 0.036, 0.036, nan, 0.036, 0.036],
                         [nan, nan, nan, nan, nan, nan, nan]])
    population = np.zeros((3, 7))
    population[1, :] = [10, 20, 30, 40, 0, 50, 60]
    population[0, 4] = 1
    sources = np.array([[1, 0]], np.int64)
    from careshed.arrays.travel_time import nearest_travel_time
    seconds, _ = nearest_travel_time(friction, sources, (100.0, 100.0), np.zeros(1), None, 8)
    with pytest.warns(UnreachablePeopleWarning) as caught:
        text = check_reachable_people(seconds, population, friction, sources, (100.0, 100.0), 8)
    assert str(caught[0].message) == text
    assert text.startswith("111 of 211 people (52.6%) cannot reach any station: "), text
    assert "1 people in 1 cells stand on impassable cells" in text
    assert "110 people in 2 cells are on passable ground that no path joins to any station" in text
    assert "cut-off" not in text

    # With a cut-off of 9 s (road cells are 3.6 s apart), column 3 (10.8 s) is beyond it, not cut off.
    seconds, _ = nearest_travel_time(friction, sources, (100.0, 100.0), np.zeros(1), 9.0, 8)
    with pytest.warns(UnreachablePeopleWarning):
        text = check_reachable_people(seconds, population, friction, sources, (100.0, 100.0), 8, max_seconds=9.0)
    assert "40 people in 1 cells are beyond the cut-off of 0.15 min" in text, text
    assert "110 people in 2 cells are on passable ground" in text, text

    # Everybody reached: nothing said.
    full = np.where(np.isnan(friction), 0.036, friction)
    seconds, _ = nearest_travel_time(full, sources, (100.0, 100.0), np.zeros(1), None, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_reachable_people(seconds, population, full, sources, (100.0, 100.0), 8) is None

    # Nobody reached: an error, with the same explanation.
    alone = np.full_like(friction, np.nan)
    alone[1, 0] = 0.036
    seconds, _ = nearest_travel_time(alone, sources, (100.0, 100.0), np.zeros(1), None, 8)
    with pytest.raises(InputError, match=r"nobody can reach any station: all 201 people \(6 populated cells\)"):
        check_reachable_people(seconds, np.where(np.arange(7) == 0, 0.0, population), alone, sources, (100.0, 100.0), 8)
