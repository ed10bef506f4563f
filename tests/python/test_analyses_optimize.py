"""study.optimize on the strip study (tests/python/strip_case.py: 3 x 10 cells of 100 m, 1 minute per rook step,
urban cols 0-2 at 4 min, rural at 6 min), against an oracle written here: octile travel times (exact for uniform
friction on the 8-neighbour grid), coverage per cell by its class's threshold, and brute force over every set of
sites. Plus the lattice candidates, outputs, and bad input."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import careshed
from strip_case import cell_centre, points, strip_study

SQ2 = math.sqrt(2.0)


def octile_minutes(r0, c0, shape):
    rr, cc = np.indices(shape)
    dr, dc = np.abs(rr - r0), np.abs(cc - c0)
    return (np.maximum(dr, dc) - np.minimum(dr, dc)) + SQ2 * np.minimum(dr, dc)  # 1 min per 100 m at 0.6 s/m


def oracle_covered(study, site_cells, thresholds, dispatch=0.0):
    pop = np.nan_to_num(study.population)
    cls = study.cell_class
    thr = np.where(cls == study.class_names.index("urban"), thresholds["urban"], thresholds["rural"])
    cov = np.zeros(pop.shape, bool)
    for r, c in site_cells:
        cov |= octile_minutes(r, c, pop.shape) + dispatch <= thr + 1e-9
    return float(pop[cov].sum()), cov


CELLS = [(1, 0), (1, 2), (1, 4), (1, 6), (1, 8)]


def test_mclp_matches_brute_force_with_an_existing_site():
    study = strip_study()
    thresholds = {"urban": 4, "rural": 6}
    cand = points([f"c{k}" for k in range(len(CELLS))], [cell_centre(r, c) for r, c in CELLS])
    existing = points(["e"], [cell_centre(1, 9)])
    for dispatch in (0.0, 2.5):
        res = study.optimize(cand, model="mclp", p=2, existing=existing, dispatch_minutes=dispatch)
        # brute force: the existing site plus at most one candidate
        best = max(oracle_covered(study, [(1, 9)] + ([CELLS[k]] if k is not None else []), thresholds, dispatch)[0]
                   for k in [None] + list(range(len(CELLS))))
        region = res.table.iloc[-1]
        assert region["covered_after"] == pytest.approx(best)
        assert region["covered_before"] == pytest.approx(oracle_covered(study, [(1, 9)], thresholds, dispatch)[0])
        assert res.diagnostics["gap"] == pytest.approx(0.0) and res.diagnostics["proven_optimal"]
        assert res.sites.loc["existing:e", "open"] and res.sites["open"].sum() <= 2
        # the table's zone rows add up to the region row, and the curve's gains to what was gained
        assert res.table.iloc[:-1]["covered_after"].sum() == pytest.approx(region["covered_after"])
        assert res.curve["gain"].sum() == pytest.approx(region["gained"])
        # the chosen site's coverage recomputed by the oracle
        chosen = [CELLS[int(s.split("c")[-1])] for s in res.sites.index[res.sites["open"] & ~res.sites["fixed"]]]
        assert oracle_covered(study, [(1, 9)] + chosen, thresholds, dispatch)[0] == pytest.approx(best)
        # the covered cells before / after (what plot_change draws) are the oracle's populated covered cells
        populated = np.nan_to_num(study.population) > 0
        np.testing.assert_array_equal(res.covered_cells_before,
                                      oracle_covered(study, [(1, 9)], thresholds, dispatch)[1] & populated)
        np.testing.assert_array_equal(res.covered_cells_after,
                                      oracle_covered(study, [(1, 9)] + chosen, thresholds, dispatch)[1] & populated)


def test_lscp_on_a_lattice_is_the_fewest_sites():
    study = strip_study()
    thresholds = {"urban": 4, "rural": 6}
    res = study.optimize(model="lscp", candidate_spacing_m=300.0)
    lattice = [(int(r), int(c)) for r, c in res.sites[["row", "col"]].to_numpy()]
    pop = np.nan_to_num(study.population)
    _, coverable = oracle_covered(study, lattice, thresholds)
    need = float(pop[coverable].sum())
    fewest = next(k for k in range(1, len(lattice) + 1)
                  if any(oracle_covered(study, list(s), thresholds)[0] >= need - 1e-9
                         for s in itertools.combinations(lattice, k)))
    assert int(res.sites["open"].sum()) == fewest
    assert res.table.iloc[-1]["covered_after"] == pytest.approx(need)
    assert res.diagnostics["model"] == "lscp" and res.diagnostics["proven_optimal"]
    assert callable(res.report)  # Result.report(path), not hidden by the solver figures (.diagnostics)


def test_heuristic_reports_a_bound_that_holds():
    study = strip_study()
    cand = points([f"c{k}" for k in range(len(CELLS))], [cell_centre(r, c) for r, c in CELLS])
    exact = study.optimize(cand, model="mclp", p=2)
    heur = study.optimize(cand, model="mclp", p=2, solver="heuristic")
    assert heur.diagnostics["objective"] <= exact.diagnostics["objective"] + 1e-6 <= heur.diagnostics["bound"] + 2e-6


def test_outputs(tmp_path):
    import fiona
    import geopandas as gpd

    study = strip_study()
    cand = points(["a", "b"], [cell_centre(1, 1), cell_centre(1, 7)])
    res = study.optimize(cand, model="mclp", p=1)
    paths = res.save(tmp_path)
    assert all(p.exists() for p in paths)
    layers = set(fiona.listlayers(tmp_path / "optimize.gpkg"))
    assert {"sites", "chosen", "zones", "curve", "report", "notes"} <= layers
    chosen = gpd.read_file(tmp_path / "optimize.gpkg", layer="chosen")
    assert len(chosen) == 1
    import pandas as pd
    report = pd.read_csv(tmp_path / "optimize_report.csv", index_col=0)  # the solver report, one row
    assert report.loc["mclp", "gap"] == pytest.approx(res.solution.gap)
    assert report.loc["mclp", "bound"] == pytest.approx(res.solution.bound)
    curve = pd.read_csv(tmp_path / "optimize_curve.csv", index_col=0)  # indexed by rank
    assert curve.loc[1, "gain"] == pytest.approx(res.solution.marginal_gain[0])
    assert "gap" in repr(res)
    assert res.plot()._suptitle.get_text() == "Alpha and Beta: MCLP — 1 added sites, 0 existing kept"
    fig = res.plot_change(tmp_path / "change.png")
    gained = float(np.nan_to_num(study.population)[res.covered_cells_after & ~res.covered_cells_before].sum())
    assert gained == pytest.approx(res.table.iloc[-1]["gained"])
    assert f"+{gained:,.0f} people newly covered" in fig.careshed_panels[2].get_title().replace("\n", " ")
    assert (tmp_path / "change.png").read_bytes()[:4] == b"\x89PNG"


def test_bad_input_names_the_problem():
    study = strip_study()
    cand = points(["a"], [cell_centre(1, 1)])
    with pytest.raises(careshed.InputError, match="model"):
        study.optimize(cand, model="best")
    with pytest.raises(careshed.InputError, match="candidate_spacing_m"):
        study.optimize(model="mclp", p=1)
    with pytest.raises(careshed.InputError, match="larger than"):
        study.optimize(cand, model="mclp", p=3)


def test_capacitated_mclp_serves_at_most_each_sites_capacity():
    # p = 1, every candidate can serve `cap` people: the best site serves min(cap, people in its range) (demand may
    # be split, so a partly served cell counts its served share); oracle: that minimum, maximised over candidates.
    study = strip_study()
    thresholds = {"urban": 4, "rural": 6}
    cand = points([f"c{k}" for k in range(len(CELLS))], [cell_centre(r, c) for r, c in CELLS])
    in_range = [oracle_covered(study, [cell], thresholds)[0] for cell in CELLS]
    for cap in (250.0, 0.5 * max(in_range), 10 * max(in_range)):
        res = study.optimize(cand, model="mclp", p=1, capacity=cap)
        region = res.table.iloc[-1]
        assert region["covered_after"] == pytest.approx(max(min(cap, c) for c in in_range)), cap
        assert res.diagnostics["proven_optimal"]
        assert res.solution.site_load.sum() == pytest.approx(region["covered_after"])
    with pytest.raises(ValueError, match="capacity"):
        study.optimize(cand, model="lscp", capacity=100.0)
    with pytest.raises(ValueError, match="no field 'beds'"):
        study.optimize(cand, model="mclp", p=1, capacity="beds")


def test_relocating_an_existing_site_with_may_close():
    # One existing site at the strip's far end (1, 9); p = 1 and may_close=1: the model may move it to the best
    # single candidate; oracle: the best of keeping it or any candidate alone.
    study = strip_study()
    thresholds = {"urban": 4, "rural": 6}
    cand = points([f"c{k}" for k in range(len(CELLS))], [cell_centre(r, c) for r, c in CELLS])
    existing = points(["e"], [cell_centre(1, 9)])
    keep = oracle_covered(study, [(1, 9)], thresholds)[0]
    best = max([keep] + [oracle_covered(study, [cell], thresholds)[0] for cell in CELLS])
    res = study.optimize(cand, model="mclp", p=1, existing=existing, may_close=1)
    assert res.table.iloc[-1]["covered_after"] == pytest.approx(best)
    assert res.table.iloc[-1]["covered_before"] == pytest.approx(keep)
    assert best > keep and bool(res.sites.loc["existing:e", "closed"])  # it moved
    stay = study.optimize(cand, model="mclp", p=1, existing=existing, may_close=0)
    assert stay.table.iloc[-1]["covered_after"] == pytest.approx(keep)
    assert not stay.sites.loc["existing:e", "closed"]


def test_mclp_on_terrain_matches_brute_force_over_per_candidate_terrain_searches(tmp_path):
    """A Study with a DEM: each candidate's coverage is its own directed terrain search (the terrain model's
    direction). Oracle: brute force over the candidates with travel_time_terrain run per candidate; on flat ground
    the choice and coverage equal the same Study without the DEM."""
    from careshed.arrays.terrain import read_elevation, travel_time_terrain
    from strip_case import strip_grid, strip_zones

    cand = points([f"c{k}" for k in range(len(CELLS))], [cell_centre(r, c) for r, c in CELLS])

    def study_with(z, **travel):
        dem = {} if z is None else {"dem": careshed.write_geotiff(tmp_path / "dem.tif", z, strip_grid())}
        return careshed.Study(strip_zones(), zone_id="zone", population="pop", thresholds_min=60,
                              travel={"background_speed_kmh": 6, **dem, **travel})

    flat = study_with(np.zeros((3, 10))).optimize(cand, model="mclp", p=1, thresholds_min=3)
    plain = study_with(None).optimize(cand, model="mclp", p=1, thresholds_min=3)
    assert flat.table["covered_after"].tolist() == pytest.approx(plain.table["covered_after"].tolist())
    assert flat.sites["open"].tolist() == plain.sites["open"].tolist()

    z = np.tile(30.0 * np.arange(10), (3, 1)) + np.array([[0.0], [2.0], [-5.0]])
    for direction in ("toward", "away"):
        study = study_with(z, terrain_direction=direction)
        res = study.optimize(cand, model="mclp", p=1, thresholds_min=3)
        elevation, _ = read_elevation(tmp_path / "dem.tif", strip_grid())
        pop = np.nan_to_num(study.population)
        covered = []
        for rc in CELLS:
            t, _ = travel_time_terrain(study.friction.seconds_per_metre, elevation, np.array([rc]),
                                       cell_size=(100.0, 100.0), max_seconds=180.0, direction=direction)
            covered.append(float(pop[np.isfinite(t)].sum()))
        assert res.table.iloc[-1]["covered_after"] == pytest.approx(max(covered))
        chosen = [CELLS[int(s.split("c")[-1])] for s in res.sites.index[res.sites["open"]]]
        assert covered[CELLS.index(chosen[0])] == pytest.approx(max(covered))


def test_single_source_serves_whole_cells_within_each_sites_capacity():
    # p = 1, single_source: the best site serves the largest sum of WHOLE cells in its range that fits its capacity
    # (oracle: subset sums of the cells' people, per candidate); never more than the split answer.
    study = strip_study()
    thresholds = {"urban": 4, "rural": 6}
    cand = points([f"c{k}" for k in range(len(CELLS))], [cell_centre(r, c) for r, c in CELLS])
    pop = np.nan_to_num(study.population)
    cap = 0.37 * max(oracle_covered(study, [cell], thresholds)[0] for cell in CELLS)

    def best_whole(cell):
        sums = {0.0}
        for v in pop[oracle_covered(study, [cell], thresholds)[1] & (pop > 0)]:
            sums |= {s + float(v) for s in sums if s + float(v) <= cap + 1e-9}
        return max(sums)

    res = study.optimize(cand, model="mclp", p=1, capacity=cap, single_source=True)
    split = study.optimize(cand, model="mclp", p=1, capacity=cap)
    assert res.table.iloc[-1]["covered_after"] == pytest.approx(max(best_whole(cell) for cell in CELLS))
    assert res.table.iloc[-1]["covered_after"] <= split.table.iloc[-1]["covered_after"] + 1e-9
    assert set(np.unique(res.solution.served)) <= {0.0, 1.0} and res.diagnostics["proven_optimal"]
    with pytest.raises(ValueError, match="single_source: give capacity"):
        study.optimize(cand, model="mclp", p=1, single_source=True)


def test_closing_cost_counts_against_the_budget():
    # The existing site at (1, 9) may move (may_close=1); every site costs 1. Moving costs the new site (1) plus
    # closing the old one: with closing cost 1 a budget of 1.5 keeps it where it is, a budget of 2 lets it move.
    study = strip_study()
    thresholds = {"urban": 4, "rural": 6}
    cand = points([f"c{k}" for k in range(len(CELLS))], [cell_centre(r, c) for r, c in CELLS])
    existing = points(["e"], [cell_centre(1, 9)])
    keep = oracle_covered(study, [(1, 9)], thresholds)[0]
    best = max(oracle_covered(study, [cell], thresholds)[0] for cell in CELLS)
    kw = dict(model="mclp", p=1, existing=existing, may_close=1, site_cost=1.0, closing_cost=1.0)
    stay = study.optimize(cand, budget=1.5, **kw)
    assert stay.table.iloc[-1]["covered_after"] == pytest.approx(keep) and not stay.sites.loc["existing:e", "closed"]
    moved = study.optimize(cand, budget=2.0, **kw)
    assert moved.table.iloc[-1]["covered_after"] == pytest.approx(best) and moved.sites.loc["existing:e", "closed"]
    assert moved.solution.total_cost == pytest.approx(2.0)
    with pytest.raises(ValueError, match="give may_close"):
        study.optimize(cand, model="lscp", existing=existing, closing_cost=1.0)


def test_curve_objective_counts_back_from_the_answer_and_keeps_what_a_nan_gain_does_not_hide():
    """The curve's objective column, worked by hand: objective 100 after gains 30, 40, 20 reads 40, 80, 100; with the
    second gain unknown (NaN: its sets could not be scored), the rows from that gain on are still known (80, 100)."""
    from careshed.analyses.optimize import curve_objective

    assert curve_objective(100.0, [30.0, 40.0, 20.0]).tolist() == [40.0, 80.0, 100.0]
    got = curve_objective(100.0, [30.0, float("nan"), 20.0])
    assert math.isnan(got[0]) and got[1:].tolist() == [80.0, 100.0]
    assert curve_objective(7.0, [7.0]).tolist() == [7.0]
    assert curve_objective(7.0, []).tolist() == []
