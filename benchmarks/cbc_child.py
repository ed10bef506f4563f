#!/usr/bin/env python3
"""What running CBC / CLP in a child process costs: careshed's exact solves with the solver in a child (the
default) and in the calling process (CARESHED_CBC_IN_PROCESS=1, no protection), same build, same instances,
interleaved, each run in a fresh Python process; wall and CPU (the process and its children) per case.

Cases:
  capacitated   the exact capacitated solves of test_capacitated_random_instances_equal_pulp_cbc's instances for
                --seeds seeds (MCLP / p-median x split / single-source x 6 rounds each: 24 solves a seed, most of
                them many small MIPs: one child serves each solve's MIPs)
  mclp          exact MCLP on benchmarks/optimize.py's random instance at --sizes (one or a few larger MIPs)
  large-parent  a small exact MCLP solved --solves times by a process holding --parent-gb of touched memory (a
                fork's cost grows with the parent's page tables: the 1 M-cell MCLP's parent holds ~3 GB)

This is not a peer comparison: there is no peer for "CBC in a child"; the in-process run is the baseline.
Usage: PYTHONPATH=python:build/cpp/python .venv/bin/python benchmarks/cbc_child.py [--repeat 3]
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import _common

WORKER = r"""
import json, os, sys, time
import numpy as np
sys.path.insert(0, sys.argv[2])
case, args = sys.argv[1], json.loads(sys.argv[3])
from careshed.arrays import locate
from careshed.errors import InputError


def cpu():
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


solves = 0
if case == "capacitated":
    sys.path.insert(0, os.path.join(args["root"], "tests", "python"))
    from test_arrays_locate import _instance
    t0, c0 = time.perf_counter(), cpu()
    for seed in range(args["seed"], args["seed"] + args["seeds"]):
        for model in ["p-median", "mclp"]:
            for single_source in [False, True]:
                rng = np.random.default_rng(seed)
                for rnd in range(6):  # the test's draws (tests/python/test_arrays_locate.py)
                    nd, nc = int(rng.integers(5, 30 if not single_source else 25)), int(rng.integers(3, 10))
                    cost, w, std = _instance(rng, nd, nc, density=0.6)
                    p = int(rng.integers(1, min(nc, 4) + 1))
                    cap = np.floor(w.sum() * rng.uniform(0.2, 1.2, nc) / p) + (100 if single_source else 1)
                    fixed = [int(rng.integers(0, nc))] if rng.random() < 0.3 else []
                    kw = dict(capacity=cap, fixed=fixed or None, single_source=single_source, solver="exact")
                    solves += 1
                    try:
                        if model == "mclp":
                            locate.mclp(cost, w, p, std, **kw)
                        else:
                            locate.p_median(cost, w, p, **kw)
                    except InputError:
                        pass
    objective = None
else:
    sys.path.insert(0, os.path.join(args["root"], "benchmarks"))
    from optimize import mclp_site_costs, random_case
    nd, nc = args["size"]
    dxy, cxy, pop, std, p = random_case(nd, nc, args["seed"])
    costs = mclp_site_costs(dxy, cxy)
    ballast = None
    if case == "large-parent":
        ballast = np.ones(int(args["parent_gb"] * 2**30 / 8))  # touched: resident
    t0, c0 = time.perf_counter(), cpu()
    for _ in range(args.get("solves", 1)):
        r = locate.mclp(costs, pop, p, std)
        solves += 1
    objective = r.objective
print(json.dumps(dict(wall=time.perf_counter() - t0, cpu=cpu() - c0, solves=solves, objective=objective)))
"""


def run(case, args, in_process, build):
    env = dict(os.environ, CARESHED_CBC_IN_PROCESS="1" if in_process else "0")
    out = subprocess.run([sys.executable, "-c", WORKER, case, build, json.dumps(args)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = _common.parser(__doc__, repeat=3, seed=1000)
    ap.add_argument("--seeds", type=int, default=60, help="capacitated: seeds from --seed")
    ap.add_argument("--sizes", default="500x50,5000x500", help="mclp: demand x candidates")
    ap.add_argument("--parent-gb", type=float, default=2.0)
    ap.add_argument("--solves", type=int, default=20)
    ap.add_argument("--build", default=str(_common.ROOT / "build" / "cpp" / "python"))
    a = ap.parse_args()
    root = str(_common.ROOT)
    cases = [("capacitated", f"{a.seeds} seeds from {a.seed}", dict(root=root, seed=a.seed, seeds=a.seeds))]
    for s in a.sizes.split(","):
        nd, nc = (int(v) for v in s.split("x"))
        cases.append(("mclp", f"exact MCLP {nd:,} x {nc:,}", dict(root=root, seed=3, size=[nd, nc])))
    cases.append(("large-parent", f"exact MCLP 500 x 50, {a.solves} solves, parent holding {a.parent_gb:g} GB",
                  dict(root=root, seed=3, size=[500, 50], parent_gb=a.parent_gb, solves=a.solves)))
    print("| case | load | in process: wall s (CPU s), best of {0} | child: wall s (CPU s), best of {0} | "
          "child / in process (CPU) | solves |".format(a.repeat))
    print("|---|---|---|---|---|---|")
    for case, title, args in cases:
        l0 = os.getloadavg()[0]
        best = {True: None, False: None}
        for _ in range(a.repeat):
            for in_process in (True, False):  # interleaved
                r = run(case, args, in_process, a.build)
                if best[in_process] is not None and r["objective"] != best[in_process]["objective"]:
                    raise SystemExit(f"{title}: objectives differ between runs")
                if best[in_process] is None or r["wall"] < best[in_process]["wall"]:
                    best[in_process] = r
        i, c = best[True], best[False]
        if i["objective"] != c["objective"]:
            raise SystemExit(f"{title}: in process {i['objective']} vs child {c['objective']}")
        print(f"| {title} | {l0:.1f}-{os.getloadavg()[0]:.1f} | {i['wall']:.2f} ({i['cpu']:.2f}) | "
              f"{c['wall']:.2f} ({c['cpu']:.2f}) | {c['wall'] / i['wall']:.2f}x ({c['cpu'] / i['cpu']:.2f}x) | "
              f"{c['solves']} |", flush=True)


if __name__ == "__main__":
    main()
