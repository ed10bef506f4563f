"""careshed.arrays.outreach against oracles written here from the definitions in docs/outreach.md:

* ``validate`` — an independent check of a schedule: each route's travel recomputed from the matrix and, with its
  service, within the team's day; distinct points per day; every point visited exactly its visits a month, by one
  team; no team over its working days; the reported figures recomputed;
* ``brute_force`` — the least objective over every schedule (every assignment of points to teams, and per team
  every covering of the visits by day routes, each route a permutation of a subset), on tiny random instances with
  a logged seed (replay with CARESHED_TEST_SEED);
* ``travel_matrix_grid`` against the test suite's own Dijkstra (tests/python/oracles.py).
"""
from __future__ import annotations

import itertools
import math
import os

import numpy as np
import pytest

from careshed.arrays import outreach
from careshed.errors import InputError
from oracles import dijkstra


def _seed() -> int:
    seed = int(os.environ.get("CARESHED_TEST_SEED", np.random.SeedSequence().entropy % 2**32))
    print(f"CARESHED_TEST_SEED={seed}")
    return seed


def route_travel(t, base, nodes, pts):
    at, s = base, 0.0
    for i in pts:
        s += t[at, nodes[i]]
        at = nodes[i]
    return s + t[at, base]


def validate(inst, c: outreach.Circuits) -> list[str]:
    """Everything wrong with schedule `c` of instance `inst` (empty: valid)."""
    t, nodes, base, days, day_s, svc, visits, day_cost = (inst[k] for k in (
        "t", "nodes", "base", "days", "day_s", "svc", "visits", "day_cost"))
    bad, count, team_of, used = [], np.zeros(len(nodes), int), {}, {}
    travel = 0.0
    for r, (team, day, pts) in enumerate(c.routes):
        if len(set(pts)) != len(pts) or not pts:
            bad.append(f"route {r}: empty or a point twice")
        if (team, day) in used or not 0 <= day < days[team]:
            bad.append(f"route {r}: day {day} of team {team} used twice or out of the month")
        used[(team, day)] = True
        tr = route_travel(t, base[team], nodes, pts)
        dur = tr + sum(svc[i] for i in pts)
        if not dur <= day_s[team] + 1e-6:
            bad.append(f"route {r}: {dur} s > day {day_s[team]} s")
        if abs(tr - c.route_travel_seconds[r]) > 1e-6:
            bad.append(f"route {r}: reported travel {c.route_travel_seconds[r]} != {tr}")
        travel += tr
        for i in pts:
            count[i] += 1
            if team_of.setdefault(i, team) != team:
                bad.append(f"point {i} served by two teams")
    for i in range(len(nodes)):
        if count[i] != visits[i]:
            bad.append(f"point {i} visited {count[i]} times, needs {visits[i]}")
        if team_of.get(i, -1) != c.point_team[i]:
            bad.append(f"point {i}: point_team disagrees")
    obj = travel + day_cost * len(c.routes)
    if abs(obj - c.objective) > 1e-6 * max(1.0, obj):
        bad.append(f"objective {c.objective} != recomputed {obj}")
    return bad


def brute_force(inst) -> float:
    t, nodes, base, days, day_s, svc, visits, day_cost = (inst[k] for k in (
        "t", "nodes", "base", "days", "day_s", "svc", "visits", "day_cost"))
    n, K = len(nodes), len(base)

    def month(k, rem, d):
        left = [i for i in range(n) if rem[i] > 0]
        if not left:
            return 0.0
        if d == 0:
            return math.inf
        first, others, best = left[0], left[1:], math.inf
        for size in range(len(others) + 1):
            for extra in itertools.combinations(others, size):
                pts = (first,) + extra
                svc_sum = sum(svc[i] for i in pts)
                tr = min((route_travel(t, base[k], nodes, perm) for perm in itertools.permutations(pts)
                          if route_travel(t, base[k], nodes, perm) + svc_sum <= day_s[k]), default=math.inf)
                if math.isinf(tr):
                    continue
                rem2 = list(rem)
                for i in pts:
                    rem2[i] -= 1
                best = min(best, tr + day_cost + month(k, rem2, d - 1))
        return best

    best = math.inf
    for assign in itertools.product(range(K), repeat=n):
        best = min(best, sum(month(k, [visits[i] if assign[i] == k else 0 for i in range(n)], days[k])
                             for k in range(K)))
    return best


def random_instance(rng, K, n, max_days=3, max_visits=2):
    N = K + n
    xy = rng.uniform(0, 10, size=(N, 2))
    t = np.round(600 * np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
                 * rng.uniform(1.0, 1.5, size=(N, N)))
    np.fill_diagonal(t, 0)
    return dict(t=t, nodes=np.arange(K, N), base=np.arange(K), days=rng.integers(1, max_days + 1, K),
                day_s=3600.0 * rng.integers(5, 10, K).astype(float), svc=1800.0 * rng.integers(1, 4, n).astype(float),
                visits=rng.integers(1, max_visits + 1, n), day_cost=float(rng.choice([0.0, 900.0])))


def solve(inst, solver):
    return outreach.plan_circuits(inst["t"], inst["nodes"], inst["base"], inst["days"], inst["day_s"],
                                  service_seconds=inst["svc"], visits=inst["visits"], day_cost_seconds=inst["day_cost"],
                                  solver=solver)


def test_exact_equals_brute_force_heuristic_valid_and_bound_below_optimum():
    seed = _seed()
    rng = np.random.default_rng(seed)
    solved = 0
    for rnd in range(25):
        inst = random_instance(rng, int(rng.integers(1, 3)), int(rng.integers(1, 4)))
        truth = brute_force(inst)
        what = f"round {rnd} (CARESHED_TEST_SEED={seed})"
        try:
            ex = solve(inst, "exact")
        except InputError:
            assert math.isinf(truth), what
            continue
        solved += 1
        assert validate(inst, ex) == [], what
        assert ex.objective == pytest.approx(truth, rel=1e-9, abs=1e-6), what
        assert ex.proven_optimal and ex.gap == 0.0, what
        lb = outreach.lower_bound(inst["t"], inst["nodes"], inst["base"], inst["days"], inst["day_s"],
                                  service_seconds=inst["svc"], visits=inst["visits"], day_cost_seconds=inst["day_cost"])
        assert lb <= truth + 1e-6, what
        lp, converged, _ = outreach.lp_bound(inst["t"], inst["nodes"], inst["base"], inst["days"], inst["day_s"],
                                             service_seconds=inst["svc"], visits=inst["visits"],
                                             day_cost_seconds=inst["day_cost"])
        assert lp <= truth + 1e-6 and converged, what
        try:
            h = solve(inst, "heuristic")
        except InputError as e:
            assert "no schedule found" in str(e), what
            continue
        assert validate(inst, h) == [], what
        assert h.objective >= truth - 1e-6, what
        assert h.bound <= truth + 1e-6, what
        assert h.gap == pytest.approx((h.objective - h.bound) / max(h.objective, 1e-9)), what
    assert solved >= 10


def test_walking_hospital_size_exact_and_heuristic():
    """6 teams x 18 points, monthly visits, 13 working days of 8 h, 2 h per visit: exact is optimal and valid; the
    heuristic is valid, never better than exact, and its bound is below the exact optimum."""
    seed = _seed()
    rng = np.random.default_rng(seed)
    inst = random_instance(rng, 6, 18)
    inst.update(days=np.full(6, 13), day_s=np.full(6, 8 * 3600.0), svc=np.full(18, 7200.0),
                visits=np.ones(18, int), day_cost=0.0)
    ex = solve(inst, "exact")
    assert validate(inst, ex) == []
    assert ex.proven_optimal and ex.solver == "exact"
    h = solve(inst, "heuristic")
    assert validate(inst, h) == []
    assert h.objective >= ex.objective - 1e-6
    assert h.bound <= ex.objective + 1e-6 and 0 <= h.gap < 1
    # the column-generation bound: below the optimum, above the assignment bound, and what the heuristic reports
    # (unless the heuristic proved its own optimality first)
    assert h.relaxation_bound <= h.bound
    assert h.proven_optimal or not math.isnan(h.lp_bound)       # run unless the assignment bound proved optimality
    if not math.isnan(h.lp_bound):
        assert h.lp_converged and h.relaxation_bound <= h.lp_bound <= ex.objective + 1e-6
        assert h.bound == pytest.approx(min(h.lp_bound, h.objective)) and h.bound_source == "column generation"
    no_lp = outreach.plan_circuits(inst["t"], inst["nodes"], inst["base"], inst["days"], inst["day_s"],
                                   service_seconds=inst["svc"], visits=inst["visits"], solver="heuristic",
                                   bound_seconds=0)
    assert math.isnan(no_lp.lp_bound) and no_lp.bound == h.relaxation_bound
    assert solve(inst, "auto").solver == "exact"


def test_hand_worked_two_copies_of_one_route():
    # base 0, points at nodes 1 and 2: 0-1 10 min, 1-2 5 min, 2-0 10 min; 1 h service, 3 h day, two visits each,
    # two days: the route 0-1-2-0 (25 min) twice.
    t = np.array([[0, 600, 600], [600, 0, 300], [600, 300, 0]], float)
    c = outreach.plan_circuits(t, [1, 2], [0], 2, 3 * 3600.0, service_seconds=3600.0, visits=2)
    assert c.travel_seconds == 3000.0 and c.team_days == 2
    assert sorted(d for _, d, _ in c.routes) == [0, 1]
    with pytest.raises(InputError, match="no schedule visits every point"):
        outreach.plan_circuits(t, [1, 2], [0], 2, 1499.0 + 7200.0, service_seconds=3600.0, visits=2, solver="exact")


def test_bad_input_names_what_to_change():
    t = np.array([[0, 100], [100, 0]], float)
    with pytest.raises(InputError, match=r"service point 0: no team can serve it"):
        outreach.plan_circuits(t, [1], [0], 5, 200.0, service_seconds=60.0)
    with pytest.raises(InputError, match="square"):
        outreach.plan_circuits(np.zeros((2, 3)), [1], [0], 5, 3600.0, service_seconds=60.0)
    with pytest.raises(InputError, match="solver"):
        outreach.plan_circuits(t, [1], [0], 5, 3600.0, service_seconds=60.0, solver="fast")
    with pytest.raises(InputError, match="visits"):
        outreach.plan_circuits(t, [1], [0], 5, 3600.0, service_seconds=60.0, visits=1.5)
    with pytest.raises(ValueError):  # InputError is a ValueError
        outreach.plan_circuits(t, [3], [0], 5, 3600.0, service_seconds=60.0)


def test_travel_matrix_matches_dijkstra():
    seed = _seed()
    rng = np.random.default_rng(seed)
    f = rng.uniform(0.02, 0.2, size=(12, 15))
    f[rng.random(f.shape) < 0.1] = np.nan
    cells = np.argwhere(np.isfinite(f))
    nodes = cells[rng.choice(len(cells), 5, replace=False)]
    nodes = np.vstack([nodes, nodes[:1]])  # two nodes on one cell (teams sharing a base): one search, same rows
    m = outreach.travel_matrix_grid(f, nodes, cell_size=(100.0, 100.0))
    ref = dijkstra(f, [tuple(x) for x in nodes], [0.0] * 6, 100.0)
    for a in range(6):
        for b in range(6):
            want = 0.0 if a == b else ref[a][tuple(nodes[b])]
            assert m[a, b] == pytest.approx(want, rel=1e-5), f"CARESHED_TEST_SEED={seed} ({a}, {b})"


def test_progress_and_interruption():
    """A long heuristic run reports progress and stops within a second when the progress callable raises (the
    same path as Ctrl-C: bindings/run_watch.hpp)."""
    import time

    from careshed.progress import reporting

    rng = np.random.default_rng(3)
    K, n = 10, 150
    xy = rng.uniform(0, 60, size=(K + n, 2))
    t = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) * 120.0
    seen, raised_at = [], []

    class Stop(Exception):
        pass

    def reporter(fraction, phase):
        seen.append((fraction, phase))
        if fraction > 0.25:
            raised_at.append(time.monotonic())
            raise Stop

    with pytest.raises(Stop), reporting(reporter):
        outreach.plan_circuits(t, np.arange(K, K + n), np.arange(K), 20, 8 * 3600.0, service_seconds=5400.0,
                               visits=2, solver="heuristic")
    assert raised_at and time.monotonic() - raised_at[0] < 1.0
    assert all(0.0 <= f <= 1.0 for f, _ in seen)
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)
    assert {"bound", "construction"} & {ph for _, ph in seen}


def test_docs_outreach_examples_run(tmp_path, monkeypatch, capsys):
    """docs/outreach.md's Python blocks run as published, and the array example prints what the page shows."""
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "outreach.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", doc, flags=re.S)
    assert len(blocks) == 3
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    exec(compile(blocks[0], "docs/outreach.md", "exec"), {})
    shown = re.search(r"prints\n\n```\n(.*?)```", doc, flags=re.S).group(1)
    assert capsys.readouterr().out.startswith(shown)
    exec(compile(blocks[1], "docs/outreach.md", "exec"), {})
    assert (tmp_path / "out" / "quzhou_outreach_routes.csv").is_file()
    capsys.readouterr()
    exec(compile(blocks[2], "docs/outreach.md", "exec"), {})    # the plan's projects and the circuits
    shown = re.findall(r"prints\n\n```\n(.*?)```", doc, flags=re.S)[1]
    assert capsys.readouterr().out == shown
