"""careshed.analyses.round_trip (Study.round_trip): the ambulance's response + transport to definitive care.

Oracles: the hand-worked strip of strip_case.py (1 minute per cell step); on random frictions, the totals equal the
sum of the two legs computed independently with careshed.arrays.travel_time_grid (stations with their offsets;
the suitable hospitals) and the per-zone coverage equals a numpy count of those totals; on terrain, each leg is
costed in its own direction (travel_time_terrain away from the stations, toward the hospitals)."""
from __future__ import annotations

import math
import os

import numpy as np
import pytest

import careshed
from careshed.arrays import travel_time_grid, travel_time_terrain
from strip_case import SQ2, cell_centre, points, strip_grid, strip_study, strip_zones


def places(*cells, **fields):
    return points([f"p{i}" for i in range(len(cells))], [cell_centre(r, c) for r, c in cells], **fields)


def test_hand_worked_strip_response_plus_transport_to_the_suitable_level():
    study = strip_study(thresholds_min=60)
    stations = places((1, 0))
    hospitals = places((1, 5), (1, 9), level=[1, 2])
    r = study.round_trip(stations, hospitals, dispatch_minutes=2, level="level", min_level=2, threshold_minutes=11)
    minutes = r.total_seconds / 60.0
    # Row 1: c minutes out from the station, 9 - c minutes to the level-2 hospital at col 9, + 2 of dispatch.
    np.testing.assert_allclose(minutes[1], 11.0, rtol=0, atol=1e-5)
    # Row 0, col 4: response sqrt2 + 3, transport 4 + sqrt2 (to (1, 9)), + 2.
    assert minutes[0, 4] == pytest.approx(2 + 2 * SQ2 + 7, abs=1e-5)
    assert (r.nearest_hospital[np.isfinite(r.total_seconds)] == 1).all()  # the level-1 hospital is no destination
    assert (r.nearest_station == 0).all()
    # Inclusive threshold: row 1 (exactly 11 minutes) is covered, rows 0 and 2 (>= 2 + 7 + 2 sqrt2) are not.
    # People: zone A 1500 over 15 cells, B 3000 over 15 cells -> row 1 holds 500 + 1000.
    assert r.table.loc["A", "covered"] == pytest.approx(500) and r.table.loc["B", "covered"] == pytest.approx(1000)
    assert r.table.loc["region", "covered_share"] == pytest.approx(1 / 3)
    tight = study.round_trip(stations, hospitals, dispatch_minutes=2, level="level", min_level=2,
                             threshold_minutes=10.99)
    assert tight.table.loc["region", "covered"] == 0
    assert list(r.hospitals["suitable"]) == [False, True]


def test_totals_are_the_sum_of_independent_legs_on_random_frictions():
    seed = int(os.environ.get("CARESHED_TEST_SEED", np.random.SeedSequence().entropy % 2**32))
    print(f"CARESHED_TEST_SEED={seed}")
    rng = np.random.default_rng(seed)
    grid = strip_grid()
    for _ in range(5):
        f = rng.uniform(0.1, 2.0, grid.shape)
        f[rng.random(grid.shape) < 0.1] = np.nan
        study = strip_study(friction=f, thresholds_min=60)
        passable = np.argwhere(np.isfinite(f))
        pick = passable[rng.choice(len(passable), 5, replace=False)]
        st_cells, ho_cells = [tuple(p) for p in pick[:2]], [tuple(p) for p in pick[2:]]
        levels = rng.integers(1, 4, size=3).astype(float)
        levels[0] = 3  # at least one suitable
        turnout = rng.uniform(0, 120, 2)
        T = float(rng.uniform(5, 20))
        r = study.round_trip(places(*st_cells, turnout=turnout), places(*ho_cells, level=levels),
                             turnout_seconds="turnout", dispatch_minutes=1.5, level="level", min_level=2,
                             threshold_minutes=T)
        resp, _ = travel_time_grid(f, np.array(st_cells), cell_size=(100.0, 100.0),
                                   start_offsets_seconds=90.0 + turnout)
        ok = levels >= 2
        trans, _ = travel_time_grid(f, np.array(ho_cells)[ok], cell_size=(100.0, 100.0))
        np.testing.assert_array_equal(r.response_seconds, resp)
        np.testing.assert_array_equal(r.transport_seconds, trans)
        want = (resp.astype(np.float64) + trans.astype(np.float64)).astype(np.float32)
        np.testing.assert_array_equal(r.total_seconds, want)
        # coverage per zone: zone A = cols 0-4, B = cols 5-9; population spread uniformly over passable... the
        # study's people per cell, counted by numpy
        pop = np.nan_to_num(study.population)
        for zone, cols in (("A", slice(0, 5)), ("B", slice(5, 10))):
            cov = pop[:, cols][(want[:, cols] <= T * 60)].sum()
            assert r.table.loc[zone, "covered"] == pytest.approx(cov, rel=1e-9, abs=1e-9)
        reached = np.isfinite(want)
        with np.errstate(invalid="ignore"):  # 0/0 when nobody completes a round trip (CARESHED_TEST_SEED=4071697766)
            mean_resp = (pop * np.where(reached, resp, 0)).sum() / pop[reached].sum() / 60
        # no people reached: the mean is NaN (undefined), and must be NaN in the table too
        assert r.table.loc["region", "mean_response_minutes"] == pytest.approx(mean_resp, rel=1e-6, nan_ok=True)


def test_on_terrain_each_leg_is_costed_in_its_own_direction(tmp_path):
    grid = strip_grid()
    z = np.tile(20.0 * np.arange(10), (3, 1))
    dem = careshed.write_geotiff(tmp_path / "dem.tif", z, grid)
    study = careshed.Study(strip_zones(), zone_id="zone", population="pop", thresholds_min=60,
                           travel={"background_speed_kmh": 6, "dem": dem})
    r = study.round_trip(places((1, 0)), places((1, 9)), threshold_minutes=30)
    f = np.full(grid.shape, 0.6)
    zf = z.astype(np.float32)
    out, _ = travel_time_terrain(f, zf, np.array([[1, 0]]), cell_size=(100.0, 100.0), direction="away")
    back, _ = travel_time_terrain(f, zf, np.array([[1, 9]]), cell_size=(100.0, 100.0), direction="toward")
    np.testing.assert_array_equal(r.response_seconds, out)
    np.testing.assert_array_equal(r.transport_seconds, back)
    # both legs climb east: 9 uphill cells in all, whatever the cell
    np.testing.assert_allclose(r.total_seconds[1] / 60.0, 9 * math.exp(3.5 * 0.2), rtol=1e-5)


def test_errors_and_outputs(tmp_path):
    study = strip_study(thresholds_min=60)
    with pytest.raises(careshed.UsageError, match="together"):
        study.round_trip(places((1, 0)), places((1, 9), level=[1]), level="level")
    with pytest.raises(careshed.InputError, match="no hospital is a destination"):
        study.round_trip(places((1, 0)), places((1, 9), level=[1]), level="level", min_level=2)
    r = study.round_trip(places((1, 0)), places((1, 9)))
    written = {p.name for p in r.save(tmp_path / "out", draw_map=True)}
    assert written >= {"round_trip.csv", "round_trip.gpkg", "round_trip.png", "round_trip_total_minutes.tif"}
    assert "within 60 min" in r.summary()


def test_map_layout_names_the_place_and_says_the_clipped_minutes():
    from map_checks import check_map_layout

    study = strip_study(thresholds_min=60)
    stations = places((1, 0))
    hospitals = places((1, 5), (1, 9), level=[1, 2], name=["Cottage", "General"])
    r = study.round_trip(stations, hospitals, level="level", min_level=2, threshold_minutes=3)
    fig = r.plot()
    ax, labels = check_map_layout(fig, strip_zones().total_bounds, place="Alpha and Beta", unit="minutes")
    title = fig._suptitle.get_text().replace("\n", " ")
    assert title == "Alpha and Beta: definitive care within 3 minutes of an emergency call"
    # row 1: c minutes out + 9 - c back = 9 minutes everywhere, beyond twice the threshold (6): clipped, and said
    bar = fig.axes[1].get_ylabel().replace("\n", " ")
    assert "colours clipped to 0–6 min" in bar
    assert {t.get_text() for t in labels} == {"Cottage", "General"}
    legend = [t.get_text().replace("\n", " ") for t in fig.legends[0].get_texts()]
    assert "hospitals giving definitive care (1)" in legend
    assert "other hospitals (below the definitive-care level) (1)" in legend
