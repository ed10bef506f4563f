#!/usr/bin/env python3
"""Catchments and capacity-aware coverage: careshed against a plain-Python reference of the AccessMod algorithm.

Cases (synthetic, seeded, 100 m cells, random speeds 3–30 km/h with 5 % impassable cells):
  large      2000 x 2000 (4 M cells), 200 facilities, capacity coverage within 60 min in one-minute bands
             (population order), plus the nearest-facility catchment table and polygons on the same grid.
             Reported: pairs searched, wall time, peak RSS of the process (measured in a child process).
  reference  the same algorithm in plain Python (heapq Dijkstra per facility + loops, as in
             tests/python/test_catchment.py) vs careshed on the SAME smaller input (200 x 200, 20 facilities,
             30 min); the two results are checked equal before the ratio is printed.

Usage: .venv/bin/python benchmarks/catchment.py [large] [reference]
       (PYTHONPATH=python:build/<dir>/python for a development build)
"""
from __future__ import annotations

import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path
import warnings

import numpy as np

import careshed


def synthetic(h, w, k, seed):
    rng = np.random.default_rng(seed)
    speed = rng.uniform(3.0, 30.0, (h, w))
    friction = 3.6 / speed / 1.0  # s/m from km/h
    friction[rng.random((h, w)) < 0.05] = np.nan
    pop = rng.gamma(0.5, 40.0, (h, w))
    src = np.column_stack([rng.integers(0, h, k), rng.integers(0, w, k)])
    capacity = rng.uniform(5e3, 1e5, k)
    return friction, pop, src, capacity


def run_large():
    friction, pop, src, cap = synthetic(2000, 2000, 200, 1)
    out = {"cells": int(friction.size), "facilities": 200, "max_minutes": 60}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        t, c = time.perf_counter(), time.process_time()
        r = careshed.capacity_coverage(friction, src, pop, cap, cell_size=100, max_minutes=60, order="population")
        out["capacity_s"] = time.perf_counter() - t
        out["capacity_cpu_s"] = time.process_time() - c  # all threads; on a busy machine wall time >> CPU time
        out["peak_rss_after_capacity_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        out["pairs"] = r.pairs
        out["covered_share"] = r.covered_share
        t = time.perf_counter()
        seconds, nearest = careshed.arrays.travel_time_grid(friction, src, cell_size=(100, 100))
        out["travel_time_s"] = time.perf_counter() - t
    grid = careshed.Grid(2000, 2000, (500000.0, 100.0, 0.0, 3300000.0, 0.0, -100.0), "EPSG:32650")
    t = time.perf_counter()
    careshed.catchments(seconds, nearest, pop, grid, resources={"capacity": cap})
    out["catchment_table_s"] = time.perf_counter() - t
    t = time.perf_counter()
    tab = careshed.catchments(seconds, nearest, pop, grid, polygons=True)
    out["catchment_table_and_polygons_s"] = time.perf_counter() - t
    out["polygons_valid"] = bool(tab.polygons.is_valid.all())
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return out


# ---- the plain-Python reference (independent of careshed) ------------------------------------------------------
# The same plain-loop AccessMod algorithm (heapq Dijkstra + one-minute bands) the test suite uses as its oracle.

def reference(friction, pop, src, cap, max_s, band_s=60.0):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))
    from test_catchment import _accessmod_reference

    covered, _, uncovered, _ = _accessmod_reference(friction, 100.0, 100.0, [tuple(s) for s in src], pop, cap,
                                                    max_s, band_s, "population")
    return np.array(covered), uncovered


def run_reference():
    friction, pop, src, cap = synthetic(200, 200, 20, 2)
    cap = cap / 20.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        best = math.inf
        for _ in range(3):
            t = time.perf_counter()
            r = careshed.capacity_coverage(friction, src, pop, cap, cell_size=100, max_minutes=30,
                                           order="population")
            best = min(best, time.perf_counter() - t)
    t = time.perf_counter()
    cov, unc = reference(friction, pop, src, cap, 30 * 60.0)
    t_ref = time.perf_counter() - t
    # The two round times differently (exact integer ticks → float32 vs double sums), so a cell whose time lies
    # within ~1e-4 s of a minute edge may fall in the neighbouring band; count what differs rather than hide it.
    differing = int(np.count_nonzero(~np.isclose(r.uncovered, unc, rtol=1e-9, atol=1e-6)))
    cov_diff = float(np.max(np.abs(r.facilities["covered"].to_numpy() - cov) / np.maximum(cap, 1.0)))
    return {"cells": int(friction.size), "facilities": len(src), "pairs": r.pairs, "careshed_s": best,
            "python_reference_s": t_ref, "ratio": t_ref / best, "cells_differing": differing,
            "max_covered_rel_diff": cov_diff, "same_result": differing <= friction.size // 1000}


def main(argv):
    if argv[:1] == ["--child"]:
        print(json.dumps(run_large()))
        return 0
    cases = argv or ["large", "reference"]
    if "large" in cases:
        out = subprocess.run([sys.executable, __file__, "--child"], check=True, capture_output=True, text=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"large: {r['cells']:,} cells, {r['facilities']} facilities, {r['max_minutes']} min, "
              f"{r['pairs']:,} pairs: capacity coverage {r['capacity_s']:.2f} s wall, {r['capacity_cpu_s']:.2f} s "
              f"CPU, peak RSS so far {r['peak_rss_after_capacity_mb']:.0f} MB (covered share "
              f"{r['covered_share']:.3f}); travel time {r['travel_time_s']:.2f} s; catchment table "
              f"{r['catchment_table_s']:.2f} s; table + polygons {r['catchment_table_and_polygons_s']:.2f} s "
              f"(valid: {r['polygons_valid']}); peak RSS of the whole run {r['peak_rss_mb']:.0f} MB")
    if "reference" in cases:
        r = run_reference()
        print(f"reference: {r['cells']:,} cells, {r['facilities']} facilities, 30 min, {r['pairs']:,} pairs: "
              f"careshed {r['careshed_s'] * 1000:.1f} ms, plain Python {r['python_reference_s']:.2f} s, "
              f"ratio {r['ratio']:.0f}x; cells differing {r['cells_differing']} of {r['cells']:,}, max covered "
              f"difference {r['max_covered_rel_diff']:.1e} of capacity")
        if not r["same_result"]:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
