"""careshed.Study / careshed.reach: hand-worked grids, a plain-Dijkstra oracle on random grids, Quzhou zone
totals under both counting rules, outputs (GeoPackage, COGs, PNG, CSV), the CLI, and every bad input of issue 4.

The hand-worked strip (used by most tests): 3 rows x 10 columns of 100 m cells in UTM 31N (EPSG:32631),
top-left corner (500000, 1000300); friction 0.6 s/m everywhere (6 km/h), so a rook step costs 100 m x 0.6 =
60 s = 1 minute and a diagonal step sqrt(2) minutes (GRASS r.cost rule: length x mean friction).

    col:      0    1    2  |  3    4  |  5 ... 9
    zone:     A    A    A  |  A    A  |  B ... B      A: 1500 people (100 per cell), B: 3000 (200 per cell)
    class:  urban urban urban | rural ...                urban threshold 4 min, rural 6 min
    station s1 at the centre of cell (row 1, col 0); dispatch 2 minutes.

Travel minutes from s1: row 1: t = c; rows 0 and 2: t = 1 at c = 0, else sqrt(2) + (c - 1) (one diagonal, then
rooks). Response = 2 + t. Covered (response <= threshold, inclusive):
  urban (cols 0-2, t <= 2): row 1 cols 0, 1, 2 (col 2 exactly 4 min: inclusive), rows 0/2 cols 0, 1 -> 7 cells
  rural (t <= 4): row 1 cols 3, 4 (col 4 exactly 6 min), rows 0/2 col 3 -> 4 cells in A, none in B (t >= 5)
  => A: urban 700 of 900, rural 400 of 600, covered 1100 of 1500; B: 0 of 3000; region 1100 of 4500.
"""
from __future__ import annotations

import math
import os
import warnings

import numpy as np
import pandas as pd
import pytest

import careshed
from careshed import _core
from careshed.placement import UnreachablePeopleWarning
from oracles import dijkstra
import strip_case
from strip_case import (CRS, SQ2, X0, Y1, cell_centre, gdf, hand_minutes, network_oracle, points, road_strip,
                        strip_grid, strip_study, strip_zones)


# ---- hand-worked numbers ------------------------------------------------------------------------------

def test_strip_hand_worked_coverage():
    study = strip_study()
    r = study.reach(points(["s1"], [cell_centre(1, 0)]), dispatch_minutes=2)
    t = r.table
    assert list(t.index) == ["A", "B", "region"]
    assert t.loc["A", "population"] == pytest.approx(1500) and t.loc["B", "population"] == pytest.approx(3000)
    assert t.loc["A", "population_urban"] == pytest.approx(900)
    assert t.loc["A", "population_rural"] == pytest.approx(600)
    assert t.loc["A", "covered_urban"] == pytest.approx(700)     # incl. row 1 col 2 at exactly 4 min
    assert t.loc["A", "covered_rural"] == pytest.approx(400)     # incl. row 1 col 4 at exactly 6 min
    assert t.loc["A", "covered"] == pytest.approx(1100)
    assert t.loc["A", "covered_share"] == pytest.approx(1100 / 1500)
    assert t.loc["B", "covered"] == pytest.approx(0)
    assert t.loc["region", "covered"] == pytest.approx(1100)
    assert t.loc["region", "uncovered"] == pytest.approx(3400)
    assert t.loc["region", "unreachable"] == pytest.approx(0)
    assert t.loc["region", "covered_share_urban"] == pytest.approx(700 / 900)
    assert math.isnan(t.loc["B", "covered_share_urban"])          # no urban people in B
    assert t.loc["A", "name"] == "Alpha"

    # Response minutes per cell = dispatch 2 + the hand travel time.
    expect = np.array([[2 + hand_minutes(r_, c) for c in range(10)] for r_ in range(3)])
    assert np.allclose(r.minutes, expect, atol=1e-5)
    assert (r.nearest == 0).all()

    # Population-weighted mean and the 90th percentile (reported as a 1-s bin's upper edge: never below the
    # exact value, less than one second above it).
    def stats(cols, per_cell):
        resp = np.array([2 + hand_minutes(r_, c) for r_ in range(3) for c in cols])
        w = np.full(resp.size, per_cell)
        order = np.argsort(resp)
        cum = np.cumsum(w[order])
        p90 = resp[order][np.searchsorted(cum, 0.9 * w.sum() - 1e-9)]
        return (resp * w).sum() / w.sum(), p90
    for zone, cols, per in (("A", range(5), 100.0), ("B", range(5, 10), 200.0)):
        mean, p90 = stats(cols, per)
        assert t.loc[zone, "mean_minutes"] == pytest.approx(mean, abs=1e-6)
        assert p90 - 1e-9 <= t.loc[zone, "p90_minutes"] < p90 + 1 / 60 + 1e-9
    resp_all = np.concatenate([[2 + hand_minutes(r_, c) for r_ in range(3) for c in range(10)]])
    w_all = np.array([100.0 if c < 5 else 200.0 for r_ in range(3) for c in range(10)])
    assert t.loc["region", "mean_minutes"] == pytest.approx((resp_all * w_all).sum() / w_all.sum(), abs=1e-6)

    # The curve: share of people with response <= m minutes (whatever the class).
    for m in (0, 2, 3, 4, 7, 11, 12, 60):
        exp = w_all[resp_all <= m + 1e-9].sum() / w_all.sum()
        assert r.curve.loc[m, "region"] == pytest.approx(exp), m
    assert r.curve.loc[3, "A"] == pytest.approx(400 / 1500)        # (1,0) (1,1) (0,0) (2,0)
    assert list(r.curve.index) == list(range(61))

    st = r.stations
    assert st.loc["s1", "population_nearest"] == pytest.approx(4500)
    assert st.loc["s1", "population_covered"] == pytest.approx(1100)
    assert st.loc["s1", "status"] == "on grid" and st.loc["s1", "zone"] == "A"
    assert st.loc["s1", "offset_minutes"] == pytest.approx(2.0)
    assert not r.modelled and not any(n.startswith("MODELLED") for n in r.notes)
    assert int(r.covered.sum()) == 11 and r.covered[1, 4] and not r.covered[0, 4]

    # A search cutoff: response beyond max_minutes counts as unreachable (inclusive at the cutoff).
    cut = study.reach(points(["s1"], [cell_centre(1, 0)]), dispatch_minutes=2, max_minutes=5)
    beyond = expect > 5 + 1e-9
    assert np.isinf(cut.seconds[beyond]).all() and np.isfinite(cut.seconds[~beyond]).all()
    assert (cut.nearest[beyond] == -1).all()
    people = np.where(np.arange(10) < 5, 100.0, 200.0)[None, :].repeat(3, axis=0)
    assert cut.table.loc["region", "unreachable"] == pytest.approx(people[beyond].sum())
    assert math.isinf(cut.table.loc["region", "p90_minutes"])


def test_turnout_offsets_and_ties_to_the_lowest_station():
    """s1 at (1,0), s2 at (1,9) with 60 s turnout: on every row the two responses tie at column 5 (s1: 5 min;
    s2: 1 + 4 min), so s1 (lower index) takes columns 0-5 and s2 columns 6-9."""
    study = strip_study()
    st = points(["s1", "s2"], [cell_centre(1, 0), cell_centre(1, 9)], turnout=[0.0, 60.0])
    r = study.reach(st, turnout_seconds="turnout", thresholds_min=4)
    assert (r.nearest[:, :6] == 0).all() and (r.nearest[:, 6:] == 1).all()
    assert r.stations.loc["s1", "population_nearest"] == pytest.approx(15 * 100 + 3 * 200)
    assert r.stations.loc["s2", "population_nearest"] == pytest.approx(12 * 200)
    assert r.minutes[1, 9] == pytest.approx(1.0) and r.minutes[1, 8] == pytest.approx(2.0)
    # One threshold for both classes (4 min): s1 covers row 1 cols 0-4 and rows 0/2 cols 0-3; s2 covers row 1
    # cols 6-9 (1..4 min) and rows 0/2 cols 7-9 (t = 1 + sqrt2 + ..., <= 4 for cols >= 7).
    assert r.table.loc["A", "covered"] == pytest.approx(100 * (5 + 4 + 4))
    assert r.table.loc["B", "covered"] == pytest.approx(200 * (4 + 3 + 3))
    assert r.stations.loc["s2", "offset_minutes"] == pytest.approx(1.0)


def test_one_hour_circle_is_another_call_and_scenarios_only_add_coverage():
    study = strip_study()
    one = study.reach(points(["h"], [cell_centre(1, 0)]), thresholds_min=60, label="top-tier hospitals")
    assert one.thresholds_min == {"urban": 60.0, "rural": 60.0}
    assert one.table.loc["region", "covered_share"] == pytest.approx(1.0)
    base = study.reach(points(["s1"], [cell_centre(1, 0)]), dispatch_minutes=2)
    more = study.reach(points(["s1", "new"], [cell_centre(1, 0), cell_centre(1, 7)]), dispatch_minutes=2)
    assert (more.table["covered"].to_numpy() >= base.table["covered"].to_numpy() - 1e-9).all()
    # the new station at (1,7) covers B's rural cells within 4 min of travel: all of B
    assert more.table.loc["B", "covered"] == pytest.approx(3000)


def test_ambulance_count_check_by_zone_and_station():
    study = strip_study()
    st = points(["s1", "s2"], [cell_centre(1, 0), cell_centre(1, 9)], vehicles=[1, 0])
    r = study.reach(st, vehicles="vehicles", residents_per_vehicle=1000)
    t = r.table
    # A 1500 -> 2 needed, 1 vehicle (s1 stands in A); B 3000 -> 3 needed, 0; region 4500 -> 5 needed, 1.
    assert list(t["vehicles"]) == [1, 0, 1]
    assert list(t["vehicles_needed"]) == [2, 3, 5]
    assert list(t["vehicles_shortfall"]) == [1, 3, 4]
    assert list(t["stations"]) == [1, 1, 2]
    # per station: vehicles needed = ceil(people it is nearest to / 1000)
    near = r.stations["population_nearest"].to_numpy()
    assert list(r.stations["vehicles_needed"]) == [math.ceil(near[0] / 1000), math.ceil(near[1] / 1000)]
    assert near.sum() == pytest.approx(4500)


def test_every_class_source_and_travel_model_gives_the_hand_numbers(tmp_path):
    """The strip's urban/rural split (cols 0-2 urban) from a zone field, a raster cut at breaks and a raster of
    codes, with the travel model as a speed raster (6 km/h) or a friction raster — same hand-worked numbers."""
    grid = strip_grid()
    speed = careshed.write_geotiff(tmp_path / "speed.tif", np.full(grid.shape, 6.0), grid)
    fric = careshed.write_geotiff(tmp_path / "fric.tif", np.full(grid.shape, 0.01), grid)   # 0.01 min/m = 0.6 s/m
    builtup = careshed.write_geotiff(tmp_path / "builtup.tif",
                                     np.tile(np.arange(10) / 10.0, (3, 1)), grid)        # 0.0 .. 0.9 by column
    st = points(["s1"], [cell_centre(1, 0)])
    travel = [dict(speed_raster=speed), dict(friction=fric, friction_unit="min/m")]
    for kw in travel:
        study = careshed.Study(strip_zones(), zone_id="zone", population="pop", cell_size_m=100, metric_crs=CRS,
                               classes={"raster": builtup, "breaks": [0.25], "names": ["urban", "rural"]},
                               thresholds_min={"urban": 4, "rural": 6}, **kw)
        assert study.grid.shape == (3, 10) and study.grid.transform == pytest.approx(grid.transform)
        r = study.reach(st, dispatch_minutes=2)
        assert r.table.loc["A", "covered_urban"] == pytest.approx(700)
        assert r.table.loc["A", "covered_rural"] == pytest.approx(400)
        assert r.table.loc["region", "covered"] == pytest.approx(1100)
    # Zone attribute: A urban (threshold 4 -> t <= 2: 7 cells of A), B rural (t <= 4: none of B's cells).
    zones = strip_zones()
    zones["kind"] = ["urban", "rural"]
    r = careshed.Study(zones, zone_id="zone", population="pop", friction=careshed.FrictionSurface(
        np.full(grid.shape, 0.6), grid), classes={"zone_field": "kind"},
        thresholds_min={"urban": 4, "rural": 6}).reach(st, dispatch_minutes=2)
    assert r.table.loc["A", "population_urban"] == pytest.approx(1500)
    assert r.table.loc["A", "covered"] == pytest.approx(700)
    assert r.table.loc["B", "population_rural"] == pytest.approx(3000) and r.table.loc["B", "covered"] == 0


# ---- a plain-Dijkstra oracle on random grids ------------------------------------------------------------


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_random_grids_against_dijkstra_and_brute_force_coverage(tmp_path, seed):
    rng = np.random.default_rng(seed)
    print(f"seed {seed}")
    rows, cols, cell = 12, 15, 100.0
    grid = strip_grid(rows, cols, cell)
    friction = rng.uniform(0.05, 1.0, (rows, cols))
    friction[rng.random((rows, cols)) < 0.1] = np.nan
    passable = np.argwhere(np.isfinite(friction))
    picks = passable[rng.choice(len(passable), 3, replace=False)]
    turnout = rng.uniform(0, 120, 3)
    people = rng.uniform(0, 50, (rows, cols))
    people[rng.random((rows, cols)) < 0.2] = 0.0
    pop_path = careshed.write_geotiff(tmp_path / "pop.tif", people, grid)
    classes = (rng.random((rows, cols)) >= 0.4).astype(np.uint8)   # class index 0 = urban (40 %), 1 = rural
    from shapely.geometry import box
    zones = gdf({"zone": ["W", "E"]}, [box(X0, Y1 - rows * cell, X0 + 7 * cell, Y1),
                                       box(X0 + 7 * cell, Y1 - rows * cell, X0 + 14 * cell, Y1)])
    study = careshed.Study(zones, zone_id="zone", population_raster=pop_path,
                           friction=careshed.FrictionSurface(friction, grid), classes=classes,
                           thresholds_min={"urban": 4, "rural": 7})
    assert np.allclose(study.population, people, rtol=1e-12, atol=1e-9)
    st = points(["a", "b", "c"], [cell_centre(r, c, cell) for r, c in picks], turnout=turnout)
    dispatch = 1.5
    res = study.reach(st, turnout_seconds="turnout", dispatch_minutes=dispatch)

    per_source = dijkstra(friction, [tuple(p) for p in picks], dispatch * 60 + turnout, cell)
    best = per_source.min(axis=0)
    assert np.allclose(np.where(np.isfinite(best), res.seconds, 0), np.where(np.isfinite(best), best, 0),
                       atol=1e-3)
    assert (np.isfinite(res.seconds) == np.isfinite(best)).all()
    srt = np.sort(per_source, axis=0)
    with np.errstate(invalid="ignore"):  # inf - inf where no source reaches a cell
        clear = np.isfinite(best) & ((srt[1] - srt[0]) > 1e-3)
    assert (res.nearest[clear] == per_source.argmin(axis=0)[clear]).all()

    thr = np.where(classes == 0, 4 * 60.0, 7 * 60.0)
    zone_of = np.full((rows, cols), -1)
    zone_of[:, :7], zone_of[:, 7:14] = 0, 1
    near_threshold = np.abs(best - thr) < 1e-3
    assert not near_threshold.any(), "an oracle time within 1 ms of a threshold: choose another seed"
    for z, name in enumerate(["W", "E"]):
        m = zone_of == z
        pop = people[m].sum()
        cov = people[m & (best <= thr)].sum()
        assert res.table.loc[name, "population"] == pytest.approx(pop)
        assert res.table.loc[name, "covered"] == pytest.approx(cov)
        for k, cname in enumerate(["urban", "rural"]):
            mk = m & (classes == k)
            assert res.table.loc[name, f"covered_{cname}"] == pytest.approx(people[mk & (best <= thr)].sum())
        reached = m & np.isfinite(best)
        assert res.table.loc[name, "unreachable"] == pytest.approx(people[m & ~np.isfinite(best)].sum())
        mean = (people[reached] * best[reached]).sum() / people[reached].sum() / 60
        assert res.table.loc[name, "mean_minutes"] == pytest.approx(mean, rel=1e-6)
        times = np.where(np.isfinite(best[m]), best[m], np.inf)
        order = np.argsort(times)
        cum = np.cumsum(people[m][order])
        p90 = times[order][np.searchsorted(cum, 0.9 * pop * (1 - 1e-12))] / 60
        got = res.table.loc[name, "p90_minutes"]
        if math.isinf(p90):
            assert math.isinf(got)
        else:
            assert p90 - 1e-6 <= got < p90 + 1 / 60 + 1e-6
    # column 14 is in no zone: its people are the "outside every zone" row, and the region counts everybody
    out = zone_of == -1
    assert list(res.table.index) == ["W", "E", "outside every zone", "region"]
    assert res.table.loc["outside every zone", "population"] == pytest.approx(people[out].sum())
    assert res.table.loc["outside every zone", "covered"] == pytest.approx(people[out & (best <= thr)].sum())
    assert res.table.loc["region", "population"] == pytest.approx(people.sum())
    # per station: people nearest, wherever they live on the grid
    for k, sid in enumerate(["a", "b", "c"]):
        mk = clear & (per_source.argmin(axis=0) == k)
        amb = np.isfinite(best) & ~clear
        got = res.stations.loc[sid, "population_nearest"]
        assert people[mk].sum() - 1e-9 <= got <= people[mk].sum() + people[amb].sum() + 1e-9


# ---- population: zone totals, both counting rules, class shares ---------------------------------------


# ---- outputs --------------------------------------------------------------------------------------------

def test_outputs_geopackage_geotiffs_png_csv(tmp_path):
    study = strip_study(modelled={"population": "spread uniformly (test)"})
    r = study.reach(points(["s1"], [cell_centre(1, 0)]), dispatch_minutes=2)
    gpkg = r.to_geopackage(tmp_path / "r.gpkg")
    layers = _core.list_layers(str(gpkg))
    assert set(layers) >= {"zones", "region", "stations", "isochrones", "curve", "notes"}
    zones = careshed.read_vector(gpkg, "zones")
    assert list(zones["zone"]) == ["A", "B"] and zones["covered"].tolist() == pytest.approx([1100, 0])
    iso = careshed.read_vector(gpkg, "isochrones")
    assert len(iso) == 2 and all(g.is_valid for g in iso.geometry)
    # cumulative bands at the thresholds 4 and 6 min: cells with response <= 4 (t <= 2) and <= 6 (t <= 4)
    resp = np.array([[2 + hand_minutes(r_, c) for c in range(10)] for r_ in range(3)])
    for k, m in enumerate([4, 6]):
        cells = int((resp <= m + 1e-9).sum())
        assert iso["cells"].iloc[k] == cells
        assert iso.geometry.iloc[k].area == pytest.approx(cells * 100 * 100)
    lonlat = careshed.read_vector(r.to_geopackage(tmp_path / "ll.gpkg", crs="EPSG:4326"), "isochrones")
    assert lonlat.crs.to_epsg() == 4326 and lonlat.geometry.iloc[0].bounds[0] == pytest.approx(3.0, abs=0.1)
    notes = careshed.read_table(gpkg, "notes")["note"].tolist()
    assert any(n.startswith("MODELLED population") for n in notes)

    tifs = r.to_geotiff(tmp_path, prefix="r")
    minutes, g = careshed.read_raster(tifs["minutes"])
    assert g.shape == r.grid.shape and np.allclose(minutes, resp, atol=1e-5)
    nearest, _ = careshed.read_raster(tifs["nearest"])
    assert (nearest == 0).all()
    cls, _ = careshed.read_raster(tifs["class"])
    assert (cls[:, :3] == 0).all() and (cls[:, 3:] == 1).all()
    info = careshed.raster_info(tifs["minutes"])
    assert info["grid"].transform == pytest.approx(r.grid.transform)

    fig = r.plot(tmp_path / "r.png")
    assert (tmp_path / "r.png").stat().st_size > 10_000
    assert "MODELLED" in fig._suptitle.get_text()
    csv = r.to_csv(tmp_path / "r.csv")
    back = pd.read_csv(csv, comment="#", index_col=0)
    assert back.loc["A", "covered"] == pytest.approx(1100)
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")], "temporary files left behind"

    plain = strip_study().reach(points(["s1"], [cell_centre(1, 0)]))
    assert "MODELLED" not in plain.plot()._suptitle.get_text()


def test_save_writes_every_output(tmp_path):
    r = strip_study().reach(points(["s1"], [cell_centre(1, 0)]), dispatch_minutes=2)
    written = r.save(tmp_path / "out", prefix="q")
    names = sorted(os.path.basename(p) for p in written)
    assert names == sorted(["q.csv", "q_stations.csv", "q_curve.csv", "q.gpkg", "q.png", "q_minutes.tif",
                            "q_minutes.qml", "q_nearest.tif", "q_population.tif", "q_class.tif",
                            "q.notes.txt", "q_stations.notes.txt", "q_curve.notes.txt"])


def test_save_is_all_or_nothing_when_the_fourth_file_fails(tmp_path, monkeypatch):
    """Issue 8: a failure mid-set (here the 4th file, the GeoPackage) leaves no new file and the earlier run's
    outputs untouched; the next good run replaces the whole set."""
    r = strip_study().reach(points(["s1"], [cell_centre(1, 0)]), dispatch_minutes=2)
    out = tmp_path / "out"
    first = r.save(out, prefix="q", draw_map=False)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(self, path):
        raise PermissionError(13, "Permission denied", str(path))
    monkeypatch.setattr(type(r), "to_geopackage", broken)
    r2 = strip_study().reach(points(["s1"], [cell_centre(1, 0)]), dispatch_minutes=5)
    with pytest.raises(PermissionError):
        r2.save(out, prefix="q", draw_map=False)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before      # nothing new, nothing changed
    monkeypatch.undo()
    assert sorted(r2.save(out, prefix="q", draw_map=False)) == sorted(first)
    assert (out / "q.csv").read_bytes() != before["q.csv"]                # dispatch 5 min: a new table


# ---- stations: snapping and refusal --------------------------------------------------------------------


# ---- bad input -----------------------------------------------------------------------------------------


def test_other_bad_inputs_name_the_problem():
    grid = strip_grid()
    fs = careshed.FrictionSurface(np.full(grid.shape, 0.6), grid)
    zones = strip_zones()
    with pytest.raises(careshed.InputError, match="exactly one travel model"):
        careshed.Study(zones, zone_id="zone", population="pop", friction=fs, speed_raster="x.tif", thresholds_min=5)
    with pytest.raises(careshed.InputError, match="give the people"):
        careshed.Study(zones, zone_id="zone", friction=fs, thresholds_min=5)
    with pytest.raises(careshed.InputError, match="class_shares"):
        careshed.Study(zones, zone_id="zone", population="pop", friction=fs, classes="density",
                       class_shares={"urban": 0.5, "rural": 0.5})
    dup = zones.copy()
    dup["zone"] = ["A", "A"]
    with pytest.raises(careshed.InputError, match="duplicate zone id"):
        careshed.Study(dup, zone_id="zone", population="pop", friction=fs, thresholds_min=5)
    nocrs = gdf({"zone": ["A"], "pop": [10]}, [zones.geometry.iloc[0]], crs=None)
    with pytest.raises(careshed.CRSError):
        careshed.Study(nocrs, zone_id="zone", population="pop", friction=fs, thresholds_min=5)
    one = careshed.Study(zones, zone_id="zone", population="pop", friction=fs)
    with pytest.raises(careshed.InputError, match="one class"):
        one.reach(points(["s1"], [cell_centre(1, 0)]))
    with pytest.raises(careshed.InputError, match="dispatch_minutes"):
        one.reach(points(["s1"], [cell_centre(1, 0)]), thresholds_min=5, dispatch_minutes=-1)
    with pytest.raises(careshed.InputError, match="duplicate station id"):
        one.reach(points(["s1", "s1"], [cell_centre(1, 0), cell_centre(1, 2)]), thresholds_min=5)


# ---- the command line ----------------------------------------------------------------------------------


def test_people_outside_every_zone_are_their_own_row_in_reach_access_and_catchments(tmp_path):
    """Strip with a population raster of 100 people per cell, zone A over cols 0-4 and B over cols 5-7 only:
    cols 8-9 (6 cells, 600 people) lie in no zone. Station s1 at (1, 0), s2 at (1, 9) (standing in no zone),
    dispatch 2 min, rural threshold 6 min outside the urban cols 0-2. Hand numbers: every cell of cols 8-9 is
    within 2 + sqrt(2) = 3.41 min of s2 (<= 6), so all 600 are covered; the region holds all 3000 people."""
    from shapely.geometry import box

    grid = strip_grid()
    pop_tif = tmp_path / "pop.tif"
    careshed.write_geotiff(pop_tif, np.full(grid.shape, 100.0), grid)
    zones = gdf({"zone": ["A", "B"], "name": ["Alpha", "Beta"]},
                [box(X0, Y1 - 300, X0 + 500, Y1), box(X0 + 500, Y1 - 300, X0 + 800, Y1)])
    study = careshed.Study(zones, zone_id="zone", population_raster=pop_tif,
                           friction=careshed.FrictionSurface(np.full(grid.shape, 0.6), grid),
                           classes={"polygons": strip_case.urban_polygon(), "inside": "urban", "outside": "rural"},
                           thresholds_min={"urban": 4, "rural": 6}, keep=["name"])
    r = study.reach(points(["s1", "s2"], [cell_centre(1, 0), cell_centre(1, 9)]), dispatch_minutes=2)
    t = r.table
    assert list(t.index) == ["A", "B", "outside every zone", "region"]
    assert t["population"].tolist() == pytest.approx([1500, 900, 600, 3000])
    assert t.loc["outside every zone", "covered"] == pytest.approx(600)
    assert t.loc["outside every zone", "stations"] == 1 and t.loc["region", "stations"] == 2
    assert t.loc["outside every zone", "name"] is None
    assert r.stations["population_nearest"].sum() == pytest.approx(3000)
    assert r.curve.columns.tolist() == list(t.index)
    gpkg = r.to_geopackage(tmp_path / "reach.gpkg")
    import geopandas as gpd
    assert len(gpd.read_file(gpkg, layer="zones")) == 2                     # the zone polygons
    assert gpd.read_file(gpkg, layer="region")["zone"].tolist() == ["outside every zone", "region"]
    # The same people in the access table (study.access): 2SFCA with a catchment holding the whole strip, so
    # each facility's ratio is its beds over all 3000 people and every cell scores (10 + 30) / 3000.
    acc = study.access(points(["s1", "s2"], [cell_centre(1, 0), cell_centre(1, 9)], beds=[10.0, 30.0]),
                       supply="beds", method="2sfca", max_minutes=60)
    assert list(acc.table.index) == ["A", "B", "outside every zone", "region"]
    assert acc.table["population"].tolist() == pytest.approx([1500, 900, 600, 3000])
    assert acc.table["score"].tolist() == pytest.approx([40 / 3000] * 4, rel=1e-12)
    assert acc.table["population_no_access"].tolist() == pytest.approx([0, 0, 0, 0])
    # And in the catchments' zone table (study.catchments), with capacity-aware coverage by zone (1-minute bands
    # of travel time, AccessMod's rule; equal reachable populations: s1 first). s1 (5 beds x 300 = 1500) takes
    # bands 1-4 (400, 300, 300, 300 people, all in A) and 200 of band 5's 300 (cells (0,4), (2,4) in A and
    # (1,5) in B at 2/3): A 1300 + 133.3, B 66.7. s2 (600) takes band 1 (400, outside) and 200 of band 2's 300
    # ((0,8), (2,8) outside, (1,7) in B at 2/3): outside 400 + 133.3, B 66.7.
    cat = study.catchments(points(["s1", "s2"], [cell_centre(1, 0), cell_centre(1, 9)], beds=[5.0, 2.0]),
                           max_minutes=60, capacity="beds", patients_per_bed=300)
    zt = cat.zone_table
    assert list(zt.index) == ["A", "B", "outside every zone", "region"]
    assert zt["population"].tolist() == pytest.approx([1500, 900, 600, 3000])
    assert zt["population_reached"].tolist() == pytest.approx([1500, 900, 600, 3000])
    assert zt["covered"].tolist() == pytest.approx([1300 + 400 / 3, 400 / 3, 400 + 400 / 3, 2100], rel=1e-9)
    # Without people outside the zones, there is no such row (the strip study spreads zone totals).
    assert "outside every zone" not in strip_study().reach(points(["s1"], [cell_centre(1, 0)])).table.index
    # A zone may not carry the row's label.
    with pytest.raises(careshed.InputError, match="outside every zone"):
        careshed.Study(gdf({"zone": ["outside every zone"]}, [box(X0, Y1 - 300, X0 + 500, Y1)]), zone_id="zone",
                       population_raster=pop_tif, friction=careshed.FrictionSurface(np.full(grid.shape, 0.6), grid),
                       thresholds_min=6)


# ---- walk then ride (travel={"modes": ...}) ---------------------------------------------------------------

def test_walk_then_ride_gives_the_hand_times_the_trip_mode_raster_and_the_people_by_mode(tmp_path):
    # The strip walked at 6 km/h (1 min per rook step) and a two-way road between the centres of cells (1, 9) and
    # (1, 0): 900 m at 54 km/h = 1 min, boarded in 1 min. From the station at (1, 0), a cell either walks all the
    # way (hand_minutes) or walks to (1, 9), boards and rides: 1 + 1 + hand_minutes mirrored (9 - c).
    road = careshed.RoadGraph.from_xy_lines([[cell_centre(1, 9), cell_centre(1, 0)]], [54.0],
                                            crs_wkt=_core.crs_to_wkt(CRS))
    study = careshed.Study(strip_zones(), zone_id="zone", population="pop", cell_size_m=100.0,
                           travel={"background_speed_kmh": 6.0,
                                   "modes": {"road": {"network": road, "board_minutes": 1}}},
                           thresholds_min=4)
    assert study.grid.shape == (3, 10)
    r = study.reach(points(["s1"], [cell_centre(1, 0)]))
    walk = np.array([[hand_minutes(i, c) for c in range(10)] for i in range(3)])
    ride = np.array([[2 + hand_minutes(i, 9 - c) for c in range(10)] for i in range(3)])
    assert np.allclose(r.minutes, np.minimum(walk, ride), atol=1e-5)
    assert np.array_equal(r.mode, (ride < walk).astype(np.uint8))  # 1 = walk + road
    assert r.table.loc["B", "covered"] == pytest.approx(3 * 200 + 2 * 2 * 200)  # col 9 all rows, col 8 rows 0, 2
    people = np.where(np.arange(10) < 5, 100.0, 200.0)[None, :].repeat(3, axis=0)
    split = r.mode_split
    for zone, cols in (("A", slice(0, 5)), ("B", slice(5, 10))):
        rides = (ride < walk)[:, cols]
        assert split.loc[zone, "people_walk_road"] == pytest.approx(people[:, cols][rides].sum())
        assert split.loc[zone, "people_walk_only"] == pytest.approx(people[:, cols][~rides].sum())
    assert split.loc["region", "people_walk_ferry"] == 0 and split.loc["region", "share_unreachable"] == 0
    assert split.loc["region", ["people_walk_only", "people_walk_road"]].sum() == pytest.approx(4500)
    written = r.save(tmp_path, draw_map=False)
    names = {p.name for p in written}
    assert {"reach_mode.tif", "reach_mode.qml", "reach_modes.csv"} <= names
    # The CSV holds whole people, as every people count careshed writes (the shares keep their decimals).
    csv = pd.read_csv(tmp_path / "reach_modes.csv", index_col=0)
    for c in ("people_walk_only", "people_walk_road", "people_walk_ferry", "people_unreachable"):
        assert csv[c].dtype.kind == "i", c
        assert csv[c].tolist() == np.round(split[c].to_numpy()).astype(int).tolist()
    assert csv["share_walk_road"].tolist() == pytest.approx(split["share_walk_road"].tolist(), abs=1e-12)
    assert careshed.read_raster(tmp_path / "reach_mode.tif")[0].tolist() == r.mode.tolist()
    with pytest.raises(careshed.UsageError, match="walk then ride"):
        study.require_symmetric_travel("access")
    # catchments search walk + ride too; their capacity coverage (per-facility searches) is refused, not ignored
    clinics = points(["s1"], [cell_centre(1, 0)], beds=[10])
    assert np.array_equal(study.catchments(clinics).seconds, r.seconds)
    with pytest.raises(careshed.UsageError, match="walk then ride"):
        study.catchments(clinics, capacity="beds", max_minutes=30)
    with pytest.raises(careshed.UsageError, match="modes has 'bus'"):
        careshed.Study(strip_zones(), zone_id="zone", population="pop", cell_size_m=100.0,
                       travel={"background_speed_kmh": 6.0, "modes": {"bus": road}})


def test_covered_compares_float32_seconds_exactly_with_the_threshold():
    # One class of 0.123 min = 7.38 s: float32(7.38) = 7.3800001 s lies above it, so a cell at that float32 time is
    # beyond the threshold, as in the table (C++ coverage compares exactly); NumPy 1.x would compare the float32
    # array with a float64 scalar in float32 and call it covered.
    import copy
    study = strip_study()
    r = copy.copy(study.reach(points(["s1"], [cell_centre(1, 0)]), dispatch_minutes=2))
    thr_s = 0.123 * 60.0
    above = np.float32(thr_s)
    assert float(above) > thr_s
    r.cell_class, r.class_names, r.thresholds_min = None, ["all"], {"all": 0.123}
    r.seconds = np.array([[np.float32(7.0), above, np.float32(np.inf)]], dtype=np.float32)
    assert r.covered.tolist() == [[True, False, False]]


def test_walk_then_ride_with_a_maximum_walking_leg():
    # The strip and road above (1 min per rook step, board 1 min, ride 1 min from (1, 9) to (1, 0)) with every
    # walking leg of a riding trip at most 2 minutes: only cells within 2 minutes' walk of (1, 9) may ride — (1, 7)
    # walks exactly 2 min (inclusive); (0, 7) walks 2.41 min and now walks all the way (7.41 min, not 4.41).
    road = careshed.RoadGraph.from_xy_lines([[cell_centre(1, 9), cell_centre(1, 0)]], [54.0],
                                            crs_wkt=_core.crs_to_wkt(CRS))
    travel = {"background_speed_kmh": 6.0, "modes": {"road": {"network": road, "board_minutes": 1}}}
    study = careshed.Study(strip_zones(), zone_id="zone", population="pop", cell_size_m=100.0,
                           travel={**travel, "max_walk_minutes": 2}, thresholds_min=4)
    r = study.reach(points(["s1"], [cell_centre(1, 0)]))
    walk = np.array([[hand_minutes(i, c) for c in range(10)] for i in range(3)])
    to_road = np.array([[hand_minutes(i, 9 - c) for c in range(10)] for i in range(3)])
    ride = 2 + to_road
    want = np.where(to_road <= 2, np.minimum(walk, ride), walk)
    assert np.allclose(r.minutes, want, atol=1e-5)
    assert np.array_equal(r.mode, ((to_road <= 2) & (ride < walk)).astype(np.uint8))
    assert r.mode[1, 7] == 1 and r.mode[0, 7] == 0 and r.minutes[0, 7] == pytest.approx(SQ2 + 6, abs=1e-5)
    assert any("at most 2 min" in n for n in r.notes)
    free = careshed.Study(strip_zones(), zone_id="zone", population="pop", cell_size_m=100.0, travel=travel,
                          thresholds_min=4).reach(points(["s1"], [cell_centre(1, 0)]))
    assert free.mode[0, 7] == 1 and (r.minutes >= free.minutes).all()
    with pytest.raises(careshed.UsageError, match="'max_walk_minutes' caps the walking legs"):
        careshed.Study(strip_zones(), zone_id="zone", population="pop", cell_size_m=100.0,
                       travel={"background_speed_kmh": 6.0, "max_walk_minutes": 2})


def test_people_reached_only_by_riding_beyond_the_cut_off_are_beyond_it_not_cut_off(tmp_path):
    # Issue 14: the strip as above, but land only in cols 0-3 and 5-9 (col 4 is sea) and a cut-off of 4 minutes.
    # Cols 5-9 are reached only by the road (board 1 min + ride 1 min from (1, 9)): 2 + hand_minutes(r, 9 - c), so
    # (1, 5), (1, 6) and rows 0 and 2 of cols 5-7 are beyond 4 minutes — reachable without the cut-off by riding,
    # which the check of who is unreachable must see (it ran a walking-only search and called them cut off).
    from shapely.geometry import box

    from careshed.placement import UnreachablePeopleWarning

    road = careshed.RoadGraph.from_xy_lines([[cell_centre(1, 9), cell_centre(1, 0)]], [54.0],
                                            crs_wkt=_core.crs_to_wkt(CRS))
    land = tmp_path / "land.gpkg"
    # (the mask keeps every cell it touches: the pieces stop 10 m short of col 4)
    gdf({"kind": ["west", "east"]}, [box(X0, Y1 - 300, X0 + 390, Y1), box(X0 + 510, Y1 - 300, X0 + 1000, Y1)]
        ).to_file(land)
    study_travel = {"background_speed_kmh": 6.0, "land": land,
                    "modes": {"road": {"network": road, "board_minutes": 1}}}
    study = careshed.Study(strip_zones(), zone_id="zone", population="pop", cell_size_m=100.0, travel=study_travel,
                           thresholds_min=4)
    assert np.isnan(study.friction.seconds_per_metre[:, 4]).all()
    with pytest.warns(UnreachablePeopleWarning) as caught:
        r = study.reach(points(["s1"], [cell_centre(1, 0)]), max_minutes=4)
    text = str(caught[0].message)
    ride = np.array([[2 + hand_minutes(i, 9 - c) for c in range(10)] for i in range(3)])
    beyond = np.zeros((3, 10), bool)
    beyond[:, 5:] = ride[:, 5:] > 4 + 1e-9
    assert beyond.sum() == 8 and np.isinf(r.seconds[beyond]).all()
    people = float(r.population[beyond].sum())
    assert people > 0
    assert f"{people:,.0f} people in 8 cells are beyond the cut-off of 4 min" in text, text
    assert "no path joins" not in text, text
    assert "stand on impassable cells" in text, text  # the sea column's people
    # With at most 1 minute's walk to the road, only (0..2, 9) and (1, 8) reach it: the rest of the east has no
    # trip at all, and the check says why.
    capped = careshed.Study(strip_zones(), zone_id="zone", population="pop", cell_size_m=100.0,
                            travel={**study_travel, "max_walk_minutes": 1}, thresholds_min=4)
    with pytest.warns(UnreachablePeopleWarning) as caught:
        r = capped.reach(points(["s1"], [cell_centre(1, 0)]))
    east = np.isfinite(r.seconds[:, 5:])
    assert east.sum() == 4 and east[:, 4].all() and east[1, 3]
    text = str(caught[0].message)
    assert "11 cells are on passable ground that no path joins to any station (a separate piece of the road " \
           "network or of land, or joined only through a walking leg longer than the maximum of 1 min" in text, text


# ---- reach on a road graph (network=) ---------------------------------------------------------------------
# Oracle: networkx's Dijkstra on the graph's edges, the nearest nodes found by brute force, the off-road legs added
# by hand: response = dispatch + station leg + graph time + cell leg, the minimum over the stations.

@pytest.mark.parametrize("oneway", [False, True])
def test_reach_on_a_road_graph_equals_dijkstra_plus_the_off_road_legs(oneway):
    study = strip_study()
    graph = road_strip(oneway=oneway)
    st_xy = [cell_centre(2, 1), cell_centre(0, 8)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnreachablePeopleWarning)  # one way: column 0 is cut off
        r = study.reach(points(["s1", "s2"], st_xy), network=graph, dispatch_minutes=1,
                        thresholds_min={"urban": 2, "rural": 3})
    want = network_oracle(graph, st_xy, 60.0)
    np.testing.assert_allclose(r.seconds, want, rtol=1e-6)
    assert any("travel on a road graph" in n for n in r.notes)
    assert np.isinf(want).any() == oneway  # one way east: column 0's node is behind both stations


def test_reach_on_a_road_graph_refuses_what_it_cannot_do():
    study = strip_study()
    graph = road_strip()
    with pytest.raises(careshed.UsageError, match="expected a careshed.RoadGraph"):
        study.reach(points(["s"], [cell_centre(1, 1)]), network="roads.osm.pbf", thresholds_min={"urban": 2,
                    "rural": 3})
    with pytest.raises(careshed.InputError, match="station 's' is farther than 10 m"):
        study.reach(points(["s"], [cell_centre(2, 1)]), network=graph, max_snap_distance_m=10,
                    thresholds_min={"urban": 2, "rural": 3})
    with pytest.raises(careshed.InputError, match="hour=8: give the road speed factors by hour"):
        study.reach(points(["s"], [cell_centre(1, 1)]), network=graph, hour=8,
                    thresholds_min={"urban": 2, "rural": 3})
