#!/usr/bin/env python3
"""Site optimisation: careshed (sparse model, CBC through its C++ driver; greedy + swap with a certified bound)
against PuLP + CBC on the dense formulation spopt builds, on the same instances in one run.

Cases:
  random   seeded Euclidean instances: demand points and candidate sites uniform in a square of side 30 km x
           sqrt(n_demand / 2000), travel seconds = distance / 40 km/h, demand-specific standards (half the demand
           11 min "urban", half 15 min "rural"), population gamma-distributed. MCLP with p = n_candidates / 10.
           careshed: site_costs from the reachable pairs (within 15 min), then exact (CBC) and heuristic.
           peer: what spopt's MCLP.from_cost_matrix does — a dense (n_demand, n_candidates) cost matrix, the
           coverage matrix from it, a PuLP model (binary x, binary y as spopt declares them, one coverage row per
           demand), solved by Debian's CBC binary (pulp.COIN_CMD). Objectives are checked equal before the ratio.
  quzhou   the Quzhou study's 250 m grid (MODELLED roads and population, careshed.demo.quzhou_study): demand = the
           populated cells, candidates = passable cells on a 2.5 km lattice, coverage from
           travel_time_grid_reach_lists within 15 min of travel plus 3 min dispatch, 11 min urban / 15 min rural
           cells; MCLP for the p stations the plan's 1-per-30,000 target implies (ceil(population / 30,000)),
           with the 6 county seats fixed open.
           careshed exact and heuristic; the peer is run only when its dense matrix fits in --peer-max-mb.

  pulp-mclp / pulp-median
           issue 10's "100x at the largest size PuLP + CBC solves within 10 minutes": grow the size (one PuLP run
           at a time) until PuLP + CBC misses its --pulp-limit; careshed's heuristic beside it on each size.
  scale-mclp / scale-median
           issue 10's scale targets (careshed alone; sparse instances built without a dense matrix).

Usage: .venv/bin/python benchmarks/optimize.py [random] [quzhou] [--sizes 1000x100,4000x400] [--seed 3]
       .venv/bin/python benchmarks/optimize.py pulp-median --gap-target 0.0001 [--pulp-median-sizes 500x50,700x70]
       (PYTHONPATH=python:build/cpp/python for a development build)
"""
from __future__ import annotations

import argparse
import ctypes
import glob
import math
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import scipy.sparse

import careshed
from careshed.arrays import locate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))


def random_instance(nd, nc, seed):
    rng = np.random.default_rng(seed)
    side = 30000.0 * math.sqrt(nd / 2000.0)
    dxy = rng.uniform(0, side, (nd, 2))
    cxy = rng.uniform(0, side, (nc, 2))
    pop = rng.gamma(0.8, 500.0, nd).round()
    std = np.where(rng.random(nd) < 0.5, 660.0, 900.0)
    return dxy, cxy, pop, std


def pairs_within(dxy, cxy, max_s, speed_ms=40 / 3.6):
    """(demand, candidate, seconds) within max_s, candidate by candidate (never the dense matrix)."""
    d_idx, c_idx, sec = [], [], []
    for j, (x, y) in enumerate(cxy):
        s = np.hypot(dxy[:, 0] - x, dxy[:, 1] - y) / speed_ms
        i = np.flatnonzero(s <= max_s)
        d_idx.append(i)
        c_idx.append(np.full(i.size, j))
        sec.append(s[i])
    return np.concatenate(d_idx), np.concatenate(c_idx), np.concatenate(sec)


def peer_mclp(dxy, cxy, pop, std, p, fixed=(), speed_ms=40 / 3.6, time_limit=None):
    """spopt's MCLP path: dense cost matrix -> coverage matrix -> PuLP model -> CBC. Returns (objective, sites, s)
    or, with time_limit (s of wall time, model building included), (objective, sites, s, solved)."""
    import pulp

    t0 = time.perf_counter()
    cost = np.hypot(dxy[:, None, 0] - cxy[None, :, 0], dxy[:, None, 1] - cxy[None, :, 1]) / speed_ms
    cost = cost.astype(np.float32).astype(np.float64)  # the same float32 seconds careshed stores
    cover = (cost <= std[:, None]).astype(int)
    nd, nc = cost.shape
    prob = pulp.LpProblem("mclp", pulp.LpMaximize)
    x = [pulp.LpVariable(f"x{j}", cat="Binary") for j in range(nc)]
    y = [pulp.LpVariable(f"y{i}", cat="Binary") for i in range(nd)]
    prob += pulp.lpSum(pop[i] * y[i] for i in range(nd))
    for i in range(nd):
        prob += pulp.lpSum(cover[i, j] * x[j] for j in range(nc)) >= y[i]
    prob += pulp.lpSum(x) == p
    for j in fixed:
        prob += x[j] == 1
    if time_limit is None:
        prob.solve(pulp.COIN_CMD(msg=False))
        sites = [j for j in range(nc) if x[j].value() > 0.5]
        return pulp.value(prob.objective), sites, time.perf_counter() - t0
    solved = _pulp_solve(prob, t0, time_limit)
    sites = [j for j in range(nc) if (x[j].value() or 0) > 0.5]
    return pulp.value(prob.objective), sites, time.perf_counter() - t0, solved


def peer_median(dxy, cxy, pop, p, time_limit=None, speed_ms=40 / 3.6):
    """spopt's PMedian.from_cost_matrix path: a dense cost matrix, a PuLP model with binary facility variables y_j
    and binary assignment variables z_ij (one assignment row per demand, z_ij <= y_j, sum y = p, objective
    sum w_i c_ij z_ij), solved by Debian's CBC binary (pulp.COIN_CMD). time_limit (s of wall time, model building
    included): CBC gets what is left. Returns (objective, sites, wall s, solved to proven optimality)."""
    import pulp

    t0 = time.perf_counter()
    cost = np.hypot(dxy[:, None, 0] - cxy[None, :, 0], dxy[:, None, 1] - cxy[None, :, 1]) / speed_ms
    cost = cost.astype(np.float32).astype(np.float64)  # the same float32 seconds careshed stores
    nd, nc = cost.shape
    prob = pulp.LpProblem("p_median", pulp.LpMinimize)
    y = [pulp.LpVariable(f"y{j}", cat="Binary") for j in range(nc)]
    z = [[pulp.LpVariable(f"z{i}_{j}", cat="Binary") for j in range(nc)] for i in range(nd)]
    prob += pulp.lpSum(pop[i] * cost[i, j] * z[i][j] for i in range(nd) for j in range(nc))
    for i in range(nd):
        prob += pulp.lpSum(z[i]) == 1
    prob += pulp.lpSum(y) == p
    for i in range(nd):
        for j in range(nc):
            prob += z[i][j] <= y[j]
    solved = _pulp_solve(prob, t0, time_limit)
    sites = [j for j in range(nc) if (y[j].value() or 0) > 0.5]
    return pulp.value(prob.objective), sites, time.perf_counter() - t0, solved


def _pulp_solve(prob, t0, time_limit):
    """CBC through PuLP with what is left of time_limit (wall); True when it proved optimality within the limit."""
    import pulp

    if time_limit is None:
        prob.solve(pulp.COIN_CMD(msg=False))
        return prob.status == pulp.LpStatusOptimal
    left = time_limit - (time.perf_counter() - t0)
    if left <= 1:
        return False
    prob.solve(pulp.COIN_CMD(msg=False, timeLimit=left, options=["timeMode elapsed"]))
    return (prob.status == pulp.LpStatusOptimal and prob.sol_status == pulp.LpSolutionOptimal
            and time.perf_counter() - t0 <= time_limit)


def cpu_with_children():
    """CPU seconds of this process and of its finished children (PuLP runs CBC as a child process)."""
    t = os.times()
    return time.process_time() + t.children_user + t.children_system


def table_header(title, columns):
    """A case's Markdown heading and table header (as BENCHMARKS.md takes them)."""
    print(f"## {title}")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))


def random_case(nd, nc, seed):
    """The random Euclidean instance of the `random` and `pulp-*` cases with its p (candidates / 10):
    (dxy, cxy, pop, std, p)."""
    dxy, cxy, pop, std = random_instance(nd, nc, seed)
    return dxy, cxy, pop, std, max(1, nc // 10)


def mclp_site_costs(dxy, cxy):
    """careshed's sparse coverage of an MCLP instance: every pair within the rural 15-minute standard."""
    di, ci, s = pairs_within(dxy, cxy, 900.0)
    return locate.site_costs(scipy.sparse.coo_matrix((s, (di, ci)), shape=(len(dxy), len(cxy))))


def run_random(sizes, seed, exact=True, gap_target=0.0):
    table_header("random Euclidean MCLP (p = candidates / 10)",
                 ["demand x candidates", "pairs", "load", "careshed exact s", "objective", "gap",
                  "careshed heuristic wall s (CPU s)", "objective", "bound", "gap", "PuLP+CBC wall s (CPU s)",
                  "objective", "exact ratio", "heuristic ratio (CPU ratio)"])
    for nd, nc in sizes:
        dxy, cxy, pop, std, p = random_case(nd, nc, seed)
        l0 = load()
        t0, c0 = time.perf_counter(), cpu_with_children()
        costs = mclp_site_costs(dxy, cxy)
        t_build, c_build = time.perf_counter() - t0, cpu_with_children() - c0
        ex = None
        if exact:
            t0 = time.perf_counter()
            ex = locate.mclp(costs, pop, p, std)
            t_ex = time.perf_counter() - t0 + t_build
        t0, c0 = time.perf_counter(), cpu_with_children()
        he = locate.mclp(costs, pop, p, std, solver="heuristic", gap_target=gap_target)
        t_he, c_he = time.perf_counter() - t0 + t_build, cpu_with_children() - c0 + c_build
        c0 = cpu_with_children()
        peer_obj, _, t_peer = peer_mclp(dxy, cxy, pop, std, p)
        c_peer = cpu_with_children() - c0
        if ex is not None and abs(peer_obj - ex.objective) > 1e-6 * max(1.0, peer_obj):
            raise SystemExit(f"objectives differ at {nd}x{nc}: careshed {ex.objective} vs PuLP {peer_obj}")
        if he.objective < peer_obj - 1e-6 * max(1.0, peer_obj):
            print(f"NOTE: the heuristic's objective {he.objective:,.0f} is below PuLP's {peer_obj:,.0f}")
        ex_cols = (f"{t_ex:.3f} | {ex.objective:,.0f} | {ex.gap:.2%}" if ex else "not run | | ")
        ex_ratio = f"{t_peer / t_ex:.0f}x" if ex else ""
        print(f"| {nd:,} x {nc:,} | {costs.n_pairs:,} | {l0:.1f}-{load():.1f} | {ex_cols} | "
              f"{t_he:.3f} ({c_he:.3f}) | {he.objective:,.0f} | {he.bound:,.0f} | {he.gap:.3%} | "
              f"{t_peer:.2f} ({c_peer:.2f}) | {peer_obj:,.0f} | {ex_ratio} | "
              f"{t_peer / t_he:.0f}x ({c_peer / max(c_he, 1e-6):.0f}x) |", flush=True)


def run_pulp_limit(model, sizes, seed, limit=600.0, careshed_limit=60.0, gap_target=0.0):
    """Issue 10's "100x faster at the largest size PuLP + CBC solves within 10 minutes": the sizes in turn (one
    PuLP run at a time), careshed's heuristic (it stops when its bound proves the answer within gap_target of the
    optimum, or at careshed_limit) and PuLP + CBC (at most `limit` s of wall time, model building included) on the same
    random Euclidean instance (MCLP: as the random case; p-median: every pair, dense, p = candidates / 10), until
    PuLP + CBC does not prove its answer optimal within the limit. CPU = this process + CBC's child process."""
    table_header(f"{model} against PuLP + CBC, growing until PuLP + CBC needs more than {limit:.0f} s",
                 ["demand x candidates", "pairs", "load", "careshed heuristic wall s (CPU s)", "objective", "bound",
                  "gap", "PuLP+CBC wall s (CPU s)", "objective", "solved", "ratio wall (CPU)"])
    for nd, nc in sizes:
        dxy, cxy, pop, std, p = random_case(nd, nc, seed)
        l0 = load()
        t0, c0 = time.perf_counter(), cpu_with_children()
        if model == "mclp":
            costs = mclp_site_costs(dxy, cxy)
            r = locate.mclp(costs, pop, p, std, solver="heuristic", time_limit_s=careshed_limit,
                             gap_target=gap_target)
        else:
            cost = (np.hypot(dxy[:, None, 0] - cxy[None, :, 0], dxy[:, None, 1] - cxy[None, :, 1])
                    / (40 / 3.6)).astype(np.float32)
            costs = locate.site_costs(cost)
            del cost
            r = locate.p_median(costs, pop, p, solver="heuristic", time_limit_s=careshed_limit,
                                gap_target=gap_target)
        t_cs, c_cs = time.perf_counter() - t0, cpu_with_children() - c0
        c0 = cpu_with_children()
        if model == "mclp":
            peer_obj, _, t_peer, solved = peer_mclp(dxy, cxy, pop, std, p, time_limit=limit)
        else:
            peer_obj, _, t_peer, solved = peer_median(dxy, cxy, pop, p, time_limit=limit)
        c_peer = cpu_with_children() - c0
        if peer_obj is None:  # no integer solution within the limit
            better = True
        elif model == "mclp":
            better = r.objective >= peer_obj - 1e-9 * abs(peer_obj)
        else:
            better = r.objective <= peer_obj + 1e-9 * abs(peer_obj)
        peer_txt = "n/a" if peer_obj is None else f"{peer_obj:,.0f}"
        ratio = (f"{t_peer / t_cs:.0f}x ({c_peer / max(c_cs, 1e-6):.0f}x)" if solved else "PuLP over the limit")
        print(f"| {nd:,} x {nc:,} | {costs.n_pairs:,} | {l0:.1f}-{load():.1f} | {t_cs:.2f} ({c_cs:.2f}) | "
              f"{r.objective:,.0f} | {r.bound:,.0f} | {r.gap:.4%} | {t_peer:.1f} ({c_peer:.1f}) | {peer_txt} | "
              f"{'yes' if solved else 'no'} | {ratio}{'' if better or not solved else ' (careshed objective WORSE)'} |",
              flush=True)
        if not solved:
            break


# ---- scale instances (issue 10's speed targets): sparse from the start, never a dense matrix ------------------

def settlement_population(side, n_towns, rng):
    """Population per cell of a side x side grid (row-major): towns with an exponential density around random
    centres and lognormal sizes, over a thin gamma-distributed rural background; urban = town density > 50."""
    pop = rng.gamma(0.6, 2.0, side * side)
    urban = np.zeros(side * side, bool)
    cx, cy = rng.uniform(0, side, n_towns), rng.uniform(0, side, n_towns)
    size = rng.lognormal(8.0, 1.2, n_towns)
    scale = np.sqrt(size) / 30 + 2.0
    for k in range(n_towns):
        r = int(6 * scale[k]) + 1
        x0, x1 = max(0, int(cx[k]) - r), min(side, int(cx[k]) + r + 1)
        y0, y1 = max(0, int(cy[k]) - r), min(side, int(cy[k]) + r + 1)
        gy, gx = np.mgrid[y0:y1, x0:x1]
        dens = (size[k] / (2 * math.pi * scale[k] ** 2) * np.exp(-np.hypot(gx + 0.5 - cx[k], gy + 0.5 - cy[k])
                                                                  / scale[k])).ravel()
        idx = (gy * side + gx).ravel()
        pop[idx] += dens
        urban[idx] |= dens > 50
    return pop, urban


def coverage_instance(n_demand, n_candidates, target_pairs, seed, cell_m=100.0):
    """MCLP at scale: demand = the cells of a square grid (n_demand cells of cell_m), population from
    settlement_population, standards 11 min (urban) / 15 min (rural), candidates = distinct random cells, straight
    line travel at a speed chosen so the coverage pairs come to about target_pairs. Built candidate by candidate
    from one precomputed disc of cell offsets, straight into scipy's CSC arrays (demand ascending per candidate):
    8 bytes per pair, never a dense matrix. Returns (csc_matrix of float32 seconds, population, standards)."""
    rng = np.random.default_rng(seed)
    side = int(round(math.sqrt(n_demand)))
    nd = side * side
    pop, urban = settlement_population(side, max(1, nd // 5000), rng)
    std = np.where(urban, 660.0, 900.0)
    cand = np.sort(rng.choice(nd, n_candidates, replace=False))
    crow, ccol = np.divmod(cand, side)

    def disc(radius_cells):
        r = int(math.ceil(radius_cells))
        dr, dc = np.mgrid[-r:r + 1, -r:r + 1]
        d = np.hypot(dr, dc).ravel() * cell_m
        keep = d <= radius_cells * cell_m
        return dr.ravel()[keep], dc.ravel()[keep], d[keep]  # row-major order: flat index ascending

    def lists(radius_cells, which):
        dr, dc, dist = disc(radius_cells)
        speed = radius_cells * cell_m / 900.0  # the disc's edge is the 15 min (rural) standard
        for j in which:
            r, c = crow[j] + dr, ccol[j] + dc
            ok = (r >= 0) & (r < side) & (c >= 0) & (c < side)
            idx = (r[ok] * side + c[ok]).astype(np.int32)
            sec = (dist[ok] / speed).astype(np.float32)
            keep = sec.astype(np.float64) <= std[idx]
            yield idx[keep], sec[keep]

    r0 = math.sqrt(target_pairs / n_candidates / math.pi)
    sample = rng.choice(n_candidates, min(n_candidates, 300), replace=False)
    est = sum(i.size for i, _ in lists(r0, sample)) * n_candidates / sample.size
    radius = r0 * math.sqrt(target_pairs / est)
    idx_l, sec_l = [], []
    for i, s in lists(radius, range(n_candidates)):
        idx_l.append(i)
        sec_l.append(s)
    indptr = np.zeros(n_candidates + 1, np.int64)
    indptr[1:] = np.cumsum([i.size for i in idx_l])
    indices = np.concatenate(idx_l)
    del idx_l
    data = np.concatenate(sec_l)
    del sec_l
    return scipy.sparse.csc_matrix((data, indices, indptr), shape=(nd, n_candidates)), pop, std


def median_instance(n_demand, n_candidates, k_nearest, seed, cell_m=300.0):
    """p-median at scale: demand = the cells of a square grid (population from settlement_population),
    candidates = distinct random cells, each demand's k_nearest candidates by straight line at 40 km/h (a k-d
    tree query), as scipy's CSR arrays (k pairs per demand, float32 seconds). Returns (csr_matrix, population)."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    side = int(round(math.sqrt(n_demand)))
    nd = side * side
    pop, _ = settlement_population(side, max(1, nd // 5000), rng)
    cand = np.sort(rng.choice(nd, n_candidates, replace=False))
    yx = lambda flat: np.column_stack(np.divmod(flat, side)) * cell_m
    dist, nearest = cKDTree(yx(cand)).query(yx(np.arange(nd)), k=k_nearest)
    indptr = np.arange(nd + 1, dtype=np.int64) * k_nearest
    secs = (dist / (40 / 3.6)).astype(np.float32).ravel()
    return scipy.sparse.csr_matrix((secs, nearest.astype(np.int32).ravel(), indptr), shape=(nd, n_candidates)), pop


class PeakRss:
    """Peak resident memory of this process during a `with` block, beyond what it held when the block started:
    the kernel's high-water mark (VmHWM) is reset on entry (/proc/self/clear_refs, "5"). Freed heap memory is given
    back to the system first (glibc's malloc_trim): building the instance frees ~2 x 10,000 small arrays whose
    pages otherwise stay resident, count in the starting RSS and get reused by the solver unseen (that made the
    1 M MCLP figure vary 12.8-18.3 B/pair between runs).

    CBC and CLP solve in forked children (docs/optimize.md, "CBC and CLP in a child process"). A child's own RSS
    also counts the parent's pages it shares copy-on-write, so adding it would count them twice; what the machine
    pays on top of the parent is the child's private memory (Private_Clean + Private_Dirty of
    /proc/<pid>/smaps_rollup). A thread samples it every 50 ms (a sampled peak: a spike between two samples is
    missed) and `child_peak` keeps the largest sum over the children alive at one time."""

    SAMPLE_S = 0.05

    @staticmethod
    def _children_private():
        total = 0
        for task in glob.glob(f"/proc/{os.getpid()}/task/*/children"):
            try:
                with open(task) as f:
                    pids = f.read().split()
            except OSError:
                continue
            for pid in pids:
                try:
                    with open(f"/proc/{pid}/smaps_rollup") as f:
                        for line in f:
                            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                                total += int(line.split()[1]) * 1024
                except OSError:
                    pass  # the child ended between the listing and the read
        return total

    def _sample_children(self):
        while not self._stop.wait(self.SAMPLE_S):
            self.child_peak = max(self.child_peak, self._children_private())

    @staticmethod
    def _status(key):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
        return 0

    def __enter__(self):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        self.start = self._status("VmRSS:")
        self.child_peak = 0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample_children, daemon=True)
        self._sampler.start()
        return self

    def __exit__(self, *exc):
        self.peak = self._status("VmHWM:") - self.start
        self._stop.set()
        self._sampler.join()

    @property
    def total(self):
        """The parent's peak beyond its start plus the children's sampled private peak (an upper estimate: the
        two peaks need not be at the same moment)."""
        return self.peak + self.child_peak


def _cpu_with_children():
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(fn):
    """(result, wall s, CPU s of this process and its ended children: CBC / CLP solve in forked children)."""
    w0, c0 = time.perf_counter(), _cpu_with_children()
    r = fn()
    return r, time.perf_counter() - w0, _cpu_with_children() - c0


def load():
    return os.getloadavg()[0]


def run_scale_mclp(nd, nc, pairs, p, seed, time_limit, gap_target):
    print(f"## MCLP at scale: {nd:,} demand cells x {nc:,} candidates, ~{pairs:,.0f} coverage pairs, p = {p}")
    (cost, pop, std), t_gen, _ = timed(lambda: coverage_instance(nd, nc, pairs, seed))
    print(f"instance: {cost.shape[0]:,} x {cost.shape[1]:,}, {cost.nnz:,} pairs (scipy CSC, float32), "
          f"built in {t_gen:.1f} s; total population {pop.sum():,.0f}", flush=True)
    l0 = load()
    with PeakRss() as mem:
        r, wall, cpu = timed(lambda: locate.mclp(cost, pop, p, std, solver="heuristic", time_limit_s=time_limit,
                                                 gap_target=gap_target))
    print(f"| careshed heuristic | load {l0:.1f} -> {load():.1f} | wall {wall:.1f} s | CPU {cpu:.1f} s | "
          f"peak RSS beyond the input {mem.peak / 1e6:,.0f} MB + solver children's private "
          f"{mem.child_peak / 1e6:,.0f} MB = {mem.total / cost.nnz:.1f} B/pair | "
          f"covered {r.objective:,.0f} ({r.objective / pop.sum():.2%}) | bound {r.bound:,.0f} ({r.bound_source}) | "
          f"gap {r.gap:.4%} | {r.status} |", flush=True)
    return r


def run_scale_median(nd, nc, k, p, seed, time_limit, gap_target):
    print(f"## p-median at scale: {nd:,} demand x {nc:,} candidates, nearest {k} per demand, p = {p}")
    (cost, pop), t_gen, _ = timed(lambda: median_instance(nd, nc, k, seed))
    print(f"instance: {cost.nnz:,} pairs (scipy CSR, float32), built in {t_gen:.1f} s", flush=True)
    l0 = load()
    with PeakRss() as mem:
        r, wall, cpu = timed(lambda: locate.p_median(cost, pop, p, solver="heuristic", time_limit_s=time_limit,
                                                     gap_target=gap_target))
    print(f"| careshed heuristic | load {l0:.1f} -> {load():.1f} | wall {wall:.1f} s | CPU {cpu:.1f} s | "
          f"peak RSS beyond the input {mem.peak / 1e6:,.0f} MB + solver children's private "
          f"{mem.child_peak / 1e6:,.0f} MB = {mem.total / cost.nnz:.1f} B/pair | "
          f"objective {r.objective:,.0f} | bound {r.bound:,.0f} ({r.bound_source}) | gap {r.gap:.4%} | "
          f"{r.status} |", flush=True)
    return r


def run_quzhou(seed, lattice_m=2500.0, peer_max_mb=2000.0):
    from careshed.demo import quzhou_study

    t0 = time.perf_counter()
    study = quzhou_study(cell_size_m=250.0)
    prep = getattr(study, "prepared", study)
    friction = np.asarray(prep.friction.seconds_per_metre, dtype=np.float64)
    pop = np.asarray(prep.population, dtype=np.float64)
    cls = np.asarray(prep.cell_class)
    rows, cols = pop.shape
    dx, dy = abs(prep.grid.transform[1]), abs(prep.grid.transform[5])
    # candidates: passable cells on a regular lattice
    step = max(1, int(round(lattice_m / dx)))
    rr, cc = np.meshgrid(np.arange(step // 2, rows, step), np.arange(step // 2, cols, step), indexing="ij")
    rr, cc = rr.ravel(), cc.ravel()
    ok = np.isfinite(friction[rr, cc]) & (prep.zone_raster.zone[rr, cc] != -1)
    src = np.column_stack([rr[ok], cc[ok]]).astype(np.int64)
    populated = np.flatnonzero(np.nan_to_num(pop.ravel()) > 0)
    cell_demand = np.full(rows * cols, -1, np.int32)
    cell_demand[populated] = np.arange(populated.size, dtype=np.int32)
    urban = prep.class_names.index("urban")
    std = np.where(cls.ravel()[populated] == urban, 11 * 60.0, 15 * 60.0) + 0.0
    dispatch = 180.0
    t_prep = time.perf_counter() - t0
    t0 = time.perf_counter()
    offsets, cells, secs = careshed.arrays.travel_time_grid_reach_lists(
        friction, src, max_seconds=15 * 60.0, cell_size=(dx, dy), start_offsets_seconds=np.full(len(src), dispatch))
    costs = locate.site_costs_from_reach_lists(offsets, cells, secs, cell_demand, populated.size, max_cost=std)
    t_cov = time.perf_counter() - t0
    w = pop.ravel()[populated]
    total = float(w.sum())
    p = math.ceil(total / 30000.0)
    print(f"## Quzhou MCLP, 250 m grid: {populated.size:,} populated cells, {len(src):,} candidates "
          f"({lattice_m / 1000:g} km lattice), {costs.n_pairs:,} coverage pairs, p = {p} (1 per 30,000 of "
          f"{total:,.0f}); study {t_prep:.1f} s, reach lists + coverage {t_cov:.2f} s")
    for solver, limit in (("heuristic", 120.0), ("exact", 300.0)):
        t0 = time.perf_counter()
        r = locate.mclp(costs, w, p, std, solver=solver, time_limit_s=limit)
        t = time.perf_counter() - t0
        print(f"| careshed {solver} | {t:.2f} s | covered {r.objective:,.0f} ({r.objective / total:.2%}) | "
              f"bound {r.bound:,.0f} ({r.bound_source}) | gap {r.gap:.3%} | {r.status} |", flush=True)
    dense_mb = populated.size * len(src) * 8 / 1e6
    print(f"PuLP + CBC peer: dense matrix would be {dense_mb:,.0f} MB "
          + ("(not run: above --peer-max-mb)" if dense_mb > peer_max_mb else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cases", nargs="*", default=["random", "quzhou"])
    ap.add_argument("--sizes", default="500x50,2000x200,5000x500")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--mclp-size", default="1000000x10000x100000000x100",
                    help="scale-mclp: demand x candidates x coverage pairs x p")
    ap.add_argument("--median-size", default="100000x10000x200x200",
                    help="scale-median: demand x candidates x nearest candidates per demand x p")
    ap.add_argument("--pulp-mclp-sizes", default="5000x500,7000x700,10000x1000",
                    help="pulp-mclp: the sizes to grow through (stops at the first PuLP + CBC cannot solve in time)")
    ap.add_argument("--pulp-median-sizes", default="500x50,700x70,1000x100,1500x150",
                    help="pulp-median: the sizes to grow through (dense: every pair)")
    ap.add_argument("--pulp-limit", type=float, default=600.0, help="pulp-*: PuLP + CBC's wall-time limit (s)")
    ap.add_argument("--no-exact", action="store_true", help="random: skip careshed's exact (CBC) path")
    ap.add_argument("--time-limit", type=float, default=None, help="scale cases: the solver's time limit (s)")
    ap.add_argument("--gap-target", type=float, default=None,
                    help="scale cases: stop once the certified gap is at most this (default 0.001 MCLP, 0.01 p-median)")
    a = ap.parse_args()
    if "scale-mclp" in a.cases:
        nd, nc, pairs, p = (int(float(v)) for v in a.mclp_size.split("x"))
        run_scale_mclp(nd, nc, pairs, p, a.seed, a.time_limit or 60.0,
                       0.001 if a.gap_target is None else a.gap_target)
    if "scale-median" in a.cases:
        nd, nc, k, p = (int(v) for v in a.median_size.split("x"))
        run_scale_median(nd, nc, k, p, a.seed, a.time_limit or 600.0, 0.01 if a.gap_target is None else a.gap_target)
    sizes = [tuple(int(v) for v in s.split("x")) for s in a.sizes.split(",")]
    for model in ("mclp", "median"):
        if f"pulp-{model}" in a.cases:
            grow = [tuple(int(v) for v in s.split("x")) for s in getattr(a, f"pulp_{model}_sizes").split(",")]
            run_pulp_limit("mclp" if model == "mclp" else "p-median", grow, a.seed, a.pulp_limit,
                           gap_target=a.gap_target or 0.0)
    if "random" in a.cases:
        run_random(sizes, a.seed, exact=not a.no_exact, gap_target=a.gap_target or 0.0)
    if "quzhou" in a.cases:
        run_quzhou(a.seed)


if __name__ == "__main__":
    main()
