#!/usr/bin/env python3
"""Outreach circuits: careshed's exact solver against the same MIP in PuLP + CBC at the walking-hospital size, and
careshed's heuristic with its proven bound at 200 service points x 20 teams.

Instances: bases and points uniform in a square, travel = straight line x 1.3 detour at 40 km/h (the circuit solver
takes any travel matrix; the study-level analysis reads it from the engine). Service 2 h (seed size) / 1.5 h
(200 points), 8 h days.

1. Seed size (6 teams x 18 points, 13 days, monthly visits, 30 km square): careshed ``solver="exact"`` (Held-Karp
   route enumeration in C++ + CBC's C interface) vs the peer: the same set-partitioning MIP written with PuLP (routes
   enumerated in Python, each subset's cheapest order by trying every permutation), solved by Debian's CBC binary
   (``pulp.COIN_CMD``). Objectives are checked equal before the ratio is printed.
2. Scale (20 teams x 200 points, 20 days, 1-2 visits a month, 60 km square): careshed ``solver="heuristic"``: wall
   and CPU time, objective, proven lower bound (the larger of the assignment bound and the column-generation LP
   bound, within its default 10 s budget) and gap; beside it the assignment bound alone and the naive plan (every
   visit its own round trip from the nearest base) for scale. No peer solves this size exactly.
3. Quality: on seeded 6 x 18 (monthly) and 6 x 30 (1-2 visits) instances, 1.5 h visits, 14 days, the heuristic's
   objective, its reported bound and the assignment bound alone as multiples of the exact optimum.

Usage: nice .venv/bin/python benchmarks/outreach.py [--seed 7] [--repeat 1]
"""
import itertools
import sys
import time

import numpy as np

from _common import best_of, parser

from careshed.arrays import outreach


def instance(rng, teams, points, side_km, service_h, max_visits, days):
    xy = rng.uniform(0, side_km, size=(teams + points, 2))
    t = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) * 1.3 / 40.0 * 3600.0
    return dict(travel_seconds=t, point_node=np.arange(teams, teams + points), team_base=np.arange(teams),
                team_days=np.full(teams, days), team_day_seconds=np.full(teams, 8 * 3600.0),
                service_seconds=np.full(points, service_h * 3600.0),
                visits=rng.integers(1, max_visits + 1, points))


def peer_pulp(inst):
    """The set-partitioning MIP in PuLP; routes enumerated in Python (every subset that fits a day, its cheapest
    order by permutations)."""
    import pulp

    t, nodes, bases = inst["travel_seconds"], inst["point_node"], inst["team_base"]
    svc, visits, days, day = inst["service_seconds"], inst["visits"], inst["team_days"], inst["team_day_seconds"]
    n, K = len(nodes), len(bases)
    routes = []  # (team, points, travel)
    for k in range(K):
        b = bases[k]

        def cheapest(pts):
            return min(t[b, nodes[p[0]]] + sum(t[nodes[p[a]], nodes[p[a + 1]]] for a in range(len(p) - 1))
                       + t[nodes[p[-1]], b] for p in itertools.permutations(pts))
        frontier = [(i,) for i in range(n)]
        while frontier:
            nxt = []
            for s in frontier:
                c = cheapest(s)
                if c + sum(svc[i] for i in s) <= day[k]:
                    routes.append((k, s, c))
                    nxt.extend(s + (j,) for j in range(s[-1] + 1, n))
            frontier = nxt
    m = pulp.LpProblem("outreach", pulp.LpMinimize)
    x = [pulp.LpVariable(f"x{r}", 0, int(min([days[k]] + [visits[i] for i in s])), cat="Integer")
         for r, (k, s, _) in enumerate(routes)]
    y = {(k, i): pulp.LpVariable(f"y{k}_{i}", cat="Binary") for k in range(K) for i in range(n)}
    m += pulp.lpSum(c * x[r] for r, (_, _, c) in enumerate(routes))
    by = {}
    for r, (k, s, _) in enumerate(routes):
        for i in s:
            by.setdefault((k, i), []).append(x[r])
    for (k, i), v in y.items():
        m += pulp.lpSum(by.get((k, i), [])) == int(visits[i]) * v
    for i in range(n):
        m += pulp.lpSum(y[k, i] for k in range(K)) == 1
    for k in range(K):
        m += pulp.lpSum(x[r] for r, (kk, _, _) in enumerate(routes) if kk == k) <= int(days[k])
    m.solve(pulp.COIN_CMD(msg=False))
    assert pulp.LpStatus[m.status] == "Optimal", pulp.LpStatus[m.status]
    return pulp.value(m.objective), len(routes)


def main(argv):
    ap = parser(__doc__, repeat=1, seed=7)
    ap.add_argument("--points", type=int, default=200)
    ap.add_argument("--teams", type=int, default=20)
    ap.add_argument("--compare-seeds", type=int, default=4,
                    help="seeded 6x18 and 6x30 instances solved both ways (heuristic and bound vs the optimum)")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    with open("/proc/loadavg") as f:
        print(f"seed {args.seed}; load average before the run: {' '.join(f.read().split()[:3])}")
    seed_inst = instance(rng, 6, 18, 30.0, 2.0, 1, 13)
    te, ex = best_of(args.repeat, lambda: outreach.plan_circuits(**seed_inst, solver="exact"))
    tp, (peer_obj, peer_routes) = best_of(args.repeat, lambda: peer_pulp(seed_inst))
    assert abs(peer_obj - ex.objective) <= 1e-6 * ex.objective, (peer_obj, ex.objective)
    print(f"6 teams x 18 points (exact): careshed {te:.3f} s ({ex.routes_enumerated} route columns, "
          f"{ex.objective / 3600:.3f} h travel, {ex.team_days} team-days, {ex.status}); PuLP + CBC {tp:.3f} s "
          f"({peer_routes} columns, {peer_obj / 3600:.3f} h): ratio {tp / te:.1f}x")

    big = instance(rng, args.teams, args.points, 60.0, 1.5, 2, 20)
    cpu0 = time.process_time()
    th, h = best_of(args.repeat, lambda: outreach.plan_circuits(**big, solver="heuristic"))
    cpu = (time.process_time() - cpu0) / args.repeat
    with open("/proc/loadavg") as f:
        load_after = " ".join(f.read().split()[:3])
    t = big["travel_seconds"]
    nodes, bases = big["point_node"], big["team_base"]
    naive = sum(v * min(t[b, p] + t[p, b] for b in bases) for p, v in zip(nodes, big["visits"]))
    print(f"{args.teams} teams x {args.points} points ({int(big['visits'].sum())} visits, heuristic): {th:.2f} s wall, "
          f"{cpu:.2f} s CPU; "
          f"travel {h.objective / 3600:.2f} h in {h.team_days} team-days; proven lower bound {h.bound / 3600:.2f} h "
          f"({h.bound_source}, {h.lp_iterations} master LPs); gap {h.gap:.1%}; status {h.status}; the assignment "
          f"bound alone {h.relaxation_bound / 3600:.2f} h (gap {1 - h.relaxation_bound / h.objective:.1%}); naive "
          f"one-visit-per-day plan {naive / 3600:.2f} h; load average after: {load_after}")

    # How far the heuristic and its bound are from the optimum where exact finishes (30 km square, 14 days).
    ratios = []
    for seed in range(args.compare_seeds):
        for teams, points, max_visits in ((6, 18, 1), (6, 30, 2)):
            inst = instance(np.random.default_rng(seed), teams, points, 30.0, 1.5, max_visits, 14)
            ex = outreach.plan_circuits(**inst, solver="exact")
            h = outreach.plan_circuits(**inst, solver="heuristic")
            ratios.append((h.objective / ex.objective, h.bound / ex.objective, h.relaxation_bound / ex.objective))
            print(f"  seed {seed}, {teams} teams x {points} points: exact {ex.objective / 3600:.2f} h "
                  f"({ex.seconds_elapsed:.2f} s), heuristic {h.objective / ex.objective:.3f} x optimum, "
                  f"bound {h.bound / ex.objective:.3f} x optimum ({h.bound_source}; assignment bound "
                  f"{h.relaxation_bound / ex.objective:.3f})")
    if ratios:
        r = np.array(ratios)
        print(f"heuristic / optimum {r[:, 0].min():.3f}-{r[:, 0].max():.3f}; bound / optimum "
              f"{r[:, 1].min():.3f}-{r[:, 1].max():.3f} (assignment bound alone {r[:, 2].min():.3f}-"
              f"{r[:, 2].max():.3f}) over {len(r)} instances")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
