"""study.outreach on the strip study (tests/python/strip_case.py: 3 x 10 cells of 100 m, 1 minute per rook step,
urban cols 0-2 at 4 min, rural at 6 min), against oracles written here: octile travel times (exact for uniform
friction on the 8-neighbour grid) for who a facility or a service point covers, brute force over the candidate sets
for the MCLP on the gap, and an independent check of every route (travel recomputed from octile times, within the
day, every chosen point at its visits). Plus the outputs and bad input."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import careshed
from careshed.errors import InputError, UsageError
from strip_case import cell_centre, points, strip_study

SQ2 = math.sqrt(2.0)
THRESHOLDS = {"urban": 2.5, "rural": 2.5}  # tighter than the strip's own: the gap needs several points


def octile(a, b):
    dr, dc = abs(a[0] - b[0]), abs(a[1] - b[1])
    return (max(dr, dc) - min(dr, dc)) + SQ2 * min(dr, dc)  # minutes: 1 per 100 m at 0.6 s/m


def covered(study, cells):
    pop = np.nan_to_num(study.population)
    thr = np.where(study.cell_class == study.class_names.index("urban"), THRESHOLDS["urban"], THRESHOLDS["rural"])
    rr, cc = np.indices(pop.shape)
    cov = np.zeros(pop.shape, bool)
    for r, c in cells:
        d = np.abs(rr - r), np.abs(cc - c)
        cov |= (np.maximum(*d) - np.minimum(*d)) + SQ2 * np.minimum(*d) <= thr + 1e-9
    return cov


FACILITY = (1, 0)
BASES = [(1, 0), (0, 9)]
CANDS = [(1, 4), (1, 5), (1, 6), (1, 7), (1, 8), (2, 9)]


def run(study, **kw):
    args = dict(facilities=points(["f"], [cell_centre(*FACILITY)]),
                bases=points(["west", "east"], [cell_centre(*b) for b in BASES], name=["West", "East"]),
                points=3, working_days=3, hours_per_day=0.5, service_hours=0.1, visits_per_month=2,
                thresholds_min=THRESHOLDS)
    args.update(kw)
    cand = points([f"c{k}" for k in range(len(CANDS))], [cell_centre(*c) for c in CANDS])
    return study.outreach(cand, **args)


def test_gap_selection_and_circuits_against_oracles():
    study = strip_study()
    res = run(study)
    pop = np.nan_to_num(study.population)
    fixed = covered(study, [FACILITY])
    # the MCLP on the gap: brute force over every set of 3 candidates
    best = max(float(pop[covered(study, [CANDS[k] for k in ks]) & ~fixed].sum())
               for ks in itertools.combinations(range(len(CANDS)), 3))
    region = res.table.iloc[-1]
    assert region["population"] == pytest.approx(pop.sum())
    assert region["fixed"] == pytest.approx(pop[fixed].sum())
    assert region["reached"] == pytest.approx(best)
    assert region["effective"] == pytest.approx(pop[fixed].sum() + best)
    assert res.table.iloc[:-1]["reached"].sum() == pytest.approx(region["reached"])
    chosen = [CANDS[int(i[1:])] for i in res.points.index[res.points["chosen"]]]
    assert float(pop[covered(study, chosen) & ~fixed].sum()) == pytest.approx(best)
    assert res.points["people_reached"].sum() == pytest.approx(best)
    assert res.diagnostics["people_reached_per_month"] == pytest.approx(best)
    # the effective-access raster: 1 fixed, 2 mobile only, 0 neither, 255 not a populated cell of a zone
    acc = res.effective_access
    populated = pop > 0
    assert np.all(acc[populated & fixed] == 1)
    assert np.all(acc[populated & ~fixed & covered(study, chosen)] == 2)
    assert np.all(acc[populated & ~fixed & ~covered(study, chosen)] == 0)
    # every route checked independently: octile travel, within 30 min with 6 min per visit, visits 2 a month
    base_cell = {"west": BASES[0], "east": BASES[1]}
    visits = {}
    for _, r in res.routes.iterrows():
        stops = [base_cell[r["team"]]] + [CANDS[int(p[1:])] for p in r["points"]] + [base_cell[r["team"]]]
        travel = sum(octile(a, b) for a, b in zip(stops, stops[1:]))
        assert r["travel_minutes"] == pytest.approx(travel, rel=1e-5)
        assert travel + 6.0 * len(r["points"]) <= 30.0 + 1e-6
        for p in r["points"]:
            visits.setdefault(p, set()).add((r["team"], r["day"]))
    assert {p: len(v) for p, v in visits.items()} == {p: 2 for p in res.points.index[res.points["chosen"]]}
    for p, v in visits.items():
        assert len({team for team, _ in v}) == 1 and res.points.loc[p, "team"] == next(iter(v))[0]
    assert (res.teams["days_used"] <= 3).all()
    # the exact solve is optimal: each chosen point served from its nearer base, alone or with the other
    assert res.diagnostics["solver"] == "exact" and res.diagnostics["proven_optimal"]
    # the schedule's clock: arrival at the first stop = travel from the base
    first = res.schedule[(res.schedule["stop"] == 1)].iloc[0]
    team_base = base_cell[first["team"]]
    assert first["arrive_minutes"] == pytest.approx(octile(team_base, CANDS[int(first["point"][1:])]), rel=1e-5)
    assert first["leave_minutes"] == pytest.approx(first["arrive_minutes"] + 6.0)


def test_outputs_all_together(tmp_path):
    import fiona

    res = run(strip_study(), solver="heuristic")
    assert res.diagnostics["solver"] == "heuristic" and 0.0 <= res.diagnostics["gap"] <= 1.0
    written = res.save(tmp_path, prefix="o")
    names = {p.name for p in written}
    assert {"o.csv", "o_schedule.csv", "o_routes.csv", "o_points.csv", "o_teams.csv", "o.gpkg", "o.png",
            "o_effective_access.tif"} <= names
    assert all((tmp_path / n).is_file() for n in names) and not any(n.startswith(".") for n in names)
    layers = fiona.listlayers(tmp_path / "o.gpkg")
    assert {"routes", "points", "chosen", "bases", "zones", "schedule", "report", "notes"} <= set(layers)
    with fiona.open(tmp_path / "o.gpkg", layer="routes") as src:
        feats = list(src)
    assert len(feats) == len(res.routes) and all(f["geometry"]["type"] == "LineString" for f in feats)
    n = int(res.points["chosen"].sum())
    assert n >= 2 and f"outreach: {n} service points" in res.summary()


def test_bad_input_in_python_words():
    study = strip_study()
    with pytest.raises(InputError, match=r"service point c\d.*hours_per_day"):
        run(study, hours_per_day=0.1, service_hours=0.09)
    with pytest.raises(InputError, match="working_days"):
        run(study, working_days=1, visits_per_month=2)
    with pytest.raises(UsageError, match="points"):
        run(study, points=0)
    with pytest.raises(UsageError, match="solver"):
        run(study, solver="fast")


def test_needs_closed_by_an_added_fixed_facility():
    """A second fixed facility at (1, 6) (a plan's project): the gap per zone falls by the people it newly covers
    (octile oracle), the points and team-days are each plan's own, and plans of two studies are refused."""
    from careshed.analyses.outreach import needs_closed

    study = strip_study()
    before = run(study)
    after = run(study, facilities=points(["f", "g"], [cell_centre(*FACILITY), cell_centre(1, 6)]))
    change = needs_closed(before, after)
    pop = np.nan_to_num(study.population)
    zone_of = np.where(np.arange(10) < 5, "A", "B")[None, :].repeat(3, axis=0)
    gap_b = ~covered(study, [FACILITY])
    gap_a = ~covered(study, [FACILITY, (1, 6)])
    for z in ("A", "B"):
        assert change.loc[z, "gap_before"] == pytest.approx(float(pop[gap_b & (zone_of == z)].sum()))
        assert change.loc[z, "gap_after"] == pytest.approx(float(pop[gap_a & (zone_of == z)].sum()))
    assert change["gap_closed"].iloc[-1] == pytest.approx(float(pop[gap_b & ~gap_a].sum())) and \
        change["gap_closed"].iloc[-1] > 0
    assert change["points_before"].iloc[-1] == int(before.points["chosen"].sum())
    assert change["points_after"].iloc[-1] == int(after.points["chosen"].sum())
    assert change["points_before"].iloc[:-1].sum() == change["points_before"].iloc[-1]
    assert change["team_days_after"].iloc[-1] == after.diagnostics["team_days"]
    with pytest.raises(InputError, match="same study"):
        needs_closed(before, run(strip_study()))
