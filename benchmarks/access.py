"""Benchmark: gridded floating catchment accessibility (2SFCA / E2SFCA), careshed vs scipy.sparse.

Input (seeded, --seed): a --side × --side grid (default 3163² ≈ 10 M cells) of 100 m cells, a rural region:
off-road friction for 3–6 km/h (smooth random field), a lattice of roads every 40 cells (4 km) at 40–80 km/h,
NaN lakes; population on ~60 % of the cells (log-normal, denser near roads); --facilities (default 1000) on
random passable cells with 10–500 beds; catchment --minutes (default 30), 8 neighbours.

careshed: careshed.grid_accessibility — per-facility bounded searches (travel_time_grid_reach_lists, parallel over
facilities) kept as sparse (facility, cell, seconds) lists, then the FCA passes; results per cell and per zone
(a 10 × 10 block zone grid). Timed end to end (Python call), with its own split search / model.

Peer, on the SAME reach lists (careshed's, from one more search, not timed): the textbook scipy.sparse
formulation — W = csr_matrix((weights, cells, offsets)) (facility × cell), D = W @ P, R = S / D, A = Wᵀ @ R,
cells with no facility in reach masked to NaN — against careshed's model stage on the same lists
(_core.fca_reach). End to end the peer would add the same search.
Scores are checked to agree (rtol 1e-9). Peak RSS is the process's ru_maxrss after each stage; the CPU time
(all threads) is printed next to the wall time because the shared 2-core machine is often busy.

    python benchmarks/access.py [--side 3163] [--facilities 1000] [--minutes 30] [--seed 7] [--repeat 2]
"""
import argparse
import os
import resource
import time

import numpy as np


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_region(side, n_fac, seed):
    rng = np.random.default_rng(seed)
    # smooth off-road speed 3-6 km/h: bilinear upsampling of a coarse random field (every 64 cells)
    m = side // 64 + 2
    coarse = rng.uniform(3.0, 6.0, (m, m))
    y = np.arange(side) / 64.0
    i = y.astype(int)
    a = (y - i)[:, None]
    rows = (1 - a) * coarse[i] + a * coarse[i + 1]  # (side, m)
    b = (y - i)[None, :]
    speed = (1 - b) * rows[:, i] + b * rows[:, i + 1]
    speed = speed.astype(np.float32)
    road_speed = rng.choice(np.array([40.0, 60.0, 80.0], dtype=np.float32), size=side)
    speed[20::40, :] = road_speed[20::40, None]
    speed[:, 20::40] = np.maximum(speed[:, 20::40], road_speed[None, 20::40])
    friction = (3.6 / speed).astype(np.float32)  # s/m
    for _ in range(side * side // 400_000):  # lakes
        cr, cc, rad = rng.integers(0, side), rng.integers(0, side), rng.integers(5, 40)
        r0, r1, c0, c1 = max(0, cr - rad), min(side, cr + rad), max(0, cc - rad), min(side, cc + rad)
        rr, cc2 = np.ogrid[r0:r1, c0:c1]
        disc = (rr - cr) ** 2 + (cc2 - cc) ** 2 < rad * rad
        friction[r0:r1, c0:c1][disc] = np.nan
    pop = rng.lognormal(2.0, 1.0, (side, side))
    near_road = np.zeros((side, side), bool)
    near_road[15::40, :] = near_road[:, 15::40] = True
    pop[near_road] *= 4
    pop[rng.random((side, side)) < 0.4] = 0.0
    pop[np.isnan(friction)] = np.nan
    fac = []
    while len(fac) < n_fac:
        r, c = rng.integers(0, side, 2)
        if np.isfinite(friction[r, c]):
            fac.append((r, c))
    fac = np.array(fac, dtype=np.int64)
    beds = rng.integers(10, 500, n_fac).astype(np.float64)
    zones = ((np.arange(side)[:, None] * 10 // side) * 10 + np.arange(side)[None, :] * 10 // side).astype(np.int32)
    return friction, pop, fac, beds, zones


def scipy_fca(first, cells, secs, pop, beds, weights_fn):
    import scipy.sparse as sp

    n_cells = pop.size
    w = weights_fn(secs)
    W = sp.csr_matrix((w, cells.astype(np.int64), first), shape=(len(beds), n_cells))
    P = np.where(pop > 0, pop, 0.0).ravel()
    D = W @ P
    with np.errstate(divide="ignore", invalid="ignore"):
        R = np.where(D > 0, beds / D, 0.0)
    A = W.T @ R
    reached = np.bincount(cells, minlength=n_cells) > 0
    A[~reached | ~(P > 0)] = np.nan
    return A.reshape(pop.shape)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--side", type=int, default=3163)
    ap.add_argument("--facilities", type=int, default=1000)
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()

    import careshed
    from careshed import _core

    t = time.perf_counter()
    print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
          f"(wall times on a busy machine are inflated; CPU seconds are not)")
    friction, pop, fac, beds, zones = make_region(args.side, args.facilities, args.seed)
    print(f"input: {args.side}x{args.side} = {args.side ** 2 / 1e6:.2f} M cells (100 m), {len(fac)} facilities, "
          f"{args.minutes:g} min catchment; built in {time.perf_counter() - t:.1f} s; RSS {rss_mb():.0f} MB")
    max_s = args.minutes * 60.0
    steps_s = {max_s / 3: 1.0, 2 * max_s / 3: 0.68, max_s: 0.22}

    for method in ("2sfca", "e2sfca"):
        best = cpu = None
        for _ in range(args.repeat):
            t, c = time.perf_counter(), time.process_time()
            res = careshed.grid_accessibility(friction, pop, fac, beds, max_minutes=args.minutes, method=method,
                                              cell_size_m=100.0, zones=zones)
            dt, dc = time.perf_counter() - t, time.process_time() - c
            if best is None or dt < best:
                best, cpu = dt, dc
        r = res.report
        print(f"careshed {method}: {best:.2f} s wall, {cpu:.2f} s CPU over all threads (search "
              f"{r['search_seconds']:.2f} s, model "
              f"{r['model_seconds']:.2f} s); pairs {r['pairs'] / 1e6:.1f} M ({r['reach_bytes'] / 2 ** 20:.0f} MiB of "
              f"reach lists); conservation error {r['conservation_relative_error']:.1e}; "
              f"empty-catchment cells {r['empty_catchments']}; peak RSS {rss_mb():.0f} MB")
        if method == "2sfca":
            score_2 = res.score
        else:
            score_e = res.score

    first, cells, secs = _core.access_reach_lists(friction, 100.0, 100.0, None, fac, max_s, 8, None)
    bounds = np.array(list(steps_s))
    vals = np.array(list(steps_s.values()))

    def e2_w(s):
        idx = np.searchsorted(bounds, s, side="left")
        return vals[np.minimum(idx, 2)] * (idx < 3)

    P = np.where(pop > 0, pop, 0.0).ravel()
    specs = {"2sfca": {"kind": "binary"},
             "e2sfca": {"kind": "steps", "upper": list(steps_s), "weight": list(steps_s.values())}}
    for name, wfn, ref in (("2sfca", lambda s: np.ones(s.size), score_2), ("e2sfca", e2_w, score_e)):
        cs = ps = None
        for _ in range(args.repeat):
            t, c = time.perf_counter(), time.process_time()
            mine = _core.fca_reach(P, beds, first, cells, secs, "two", max_s, specs[name])["score"]
            m = (time.perf_counter() - t, time.process_time() - c)
            t, c = time.perf_counter(), time.process_time()
            A = scipy_fca(first, cells, secs, pop, beds, wfn)
            q = (time.perf_counter() - t, time.process_time() - c)
            cs = m if cs is None or m[0] < cs[0] else cs
            ps = q if ps is None or q[0] < ps[0] else ps
        mine[~(P > 0)] = np.nan
        np.testing.assert_allclose(A, ref, rtol=1e-9, equal_nan=True)
        np.testing.assert_allclose(mine.reshape(A.shape), ref, rtol=1e-12, equal_nan=True)
        print(f"model stage only, same reach lists, {name}: careshed {cs[0]:.2f} s wall / {cs[1]:.2f} s CPU; "
              f"scipy.sparse {ps[0]:.2f} s wall / {ps[1]:.2f} s CPU -> careshed {ps[0] / cs[0]:.1f}x faster "
              f"(wall), {ps[1] / cs[1]:.1f}x less CPU; scores agree (rtol 1e-9); peak RSS {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
