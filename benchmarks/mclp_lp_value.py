#!/usr/bin/env python3
"""Bracket the LP relaxation value of an MCLP instance of `optimize.py scale-mclp` (issue 10: 1 M demand x 10 k
candidates x 100 M pairs, p = 100), offline, with scipy's HiGHS and no time limit: how close can an LP-based
certificate (the LP itself, or a Lagrangian bound, whose best value equals the LP's for MCLP) come to the incumbent?

The LP:  max sum_i w_i y_i  s.t.  y_i <= (A x)_i,  y_i <= 1,  sum_j x_j <= p,  0 <= x_j <= 1   (A = coverage).
Column generation as core_lp_start does it in C++ (docs/optimize.md, "MCLP's multipliers from a core LP"): the LP
over a core of candidates (the incumbent's sites, then those pricing highest), its demand grouped into classes
with the same core candidates (checked exact by an independent hash), solved by HiGHS; candidates outside the core
whose C_j = sum of lam over their demand exceeds the LP's price of a site join, `--batch` a round. Two proofs a round:
- lower bound on the LP: f(x) = sum_i w_i min(1, (A x)_i) at the core LP's x, evaluated on ALL pairs (a feasible
  point of the whole LP);
- upper bound on the LP (and on the MCLP optimum): the Lagrangian L(lam) = sum_i (w_i - lam_i) + the sum of the p
  largest positive C_j, at the core duals (lam_i = w_i for demand no core candidate covers) and at the same lam
  "completed" (scaled down so no candidate's C_j exceeds the price), any 0 <= lam <= w being valid.
When no candidate prices in, the core LP's value is the LP value of the whole problem.
At 1 M the column generation does not finish, and its f(x) stays below the incumbent; `--ascent N` gives the LP's
lower side directly: N projected supergradient steps on the concave f(x) over {0 <= x <= 1, sum x <= p}, from
x = (incumbent + uniform p/n) / 2, the best f(x) found evaluated in float64 on all pairs. Every Lagrangian bound
(and CBC's root LP) is >= the LP value, so best f(x) / incumbent - 1 is the smallest gap any LP-based certificate
can show for that incumbent: see docs/optimize.md, "Why the 1 M certificate stops near 2 %". `--whole-lp` and
`--exact-seconds T` (small sizes): HiGHS's LP of the whole model, careshed's heuristic and exact MCLP beside it.

Usage: PYTHONPATH=python:build/cpp/python .venv/bin/python benchmarks/mclp_lp_value.py [--size 1000000x10000x100000000x100]
       [--seed 3] [--iterations 60 (rounds)] [--batch 200] [--incumbent-seconds 60] [--sites-file sites.npy]
       [--ascent 1000]  (lead, 2026-12-06: --incumbent-seconds 60 --ascent 1000 --iterations 0)
mclpbound's runs (2026-12-06, docs/optimize.md "The LP itself"): 40000x400x4000000x4 ends after 7 rounds at the
LP value HiGHS gives on the whole model (106,840.3); at 100000x1000x10000000x10 and 1 M it did not finish.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
from optimize import coverage_instance  # noqa: E402  (the scale-mclp instance, same seed -> same instance)


def lagrangian(A_T, w, lam, p):
    """L(lam) for 0 <= lam <= w: an upper bound on the MCLP optimum and on its LP relaxation."""
    C = A_T @ lam
    top = np.sort(C[C > 0])[::-1][:p]
    return float(np.sum(w - lam, dtype=np.float64) + np.sum(top, dtype=np.float64))


def cost_pattern(A):
    """The coverage as a cost matrix for locate.mclp: cost 0 on every pair (all within max_cost = 1)."""
    c = A.tocsc()
    return scipy.sparse.csc_matrix((np.zeros(c.nnz, np.float32), c.indices, c.indptr), shape=c.shape)


def whole_lp(A, w, p):
    """The LP relaxation of the whole model by HiGHS (max w.y, y <= A x, sum x <= p, 0 <= x, y <= 1)."""
    from scipy.optimize import linprog

    nd, nc = A.shape
    Aub = scipy.sparse.vstack([
        scipy.sparse.hstack([-A, scipy.sparse.identity(nd, format="csr")]),
        scipy.sparse.hstack([scipy.sparse.csr_matrix(np.ones((1, nc))), scipy.sparse.csr_matrix((1, nd))]),
    ]).tocsr()
    b = np.zeros(nd + 1)
    b[-1] = p
    t0 = time.perf_counter()
    res = linprog(np.concatenate([np.zeros(nc), -w]), A_ub=Aub, b_ub=b, bounds=(0, 1), method="highs")
    print(f"LP of the whole model (HiGHS, {time.perf_counter() - t0:.1f} s): {-res.fun:,.2f} ({res.message})",
          flush=True)
    return -res.fun


def f_value(A, w, x):
    """f(x) = sum_i w_i min(1, (A x)_i) in float64: the LP objective at its best y for this x."""
    return float(np.sum(w * np.minimum(1.0, A @ x), dtype=np.float64))


def project_capped_simplex(v, p):
    """The point of {0 <= x <= 1, sum x = p} nearest to v (bisection on the shift t of clip(v - t, 0, 1))."""
    lo, hi = float(v.min()) - 1.0, float(v.max())
    for _ in range(100):
        t = 0.5 * (lo + hi)
        if np.clip(v - t, 0.0, 1.0).sum() > p:
            lo = t
        else:
            hi = t
    x = np.clip(v - hi, 0.0, 1.0)
    return x * min(1.0, p / x.sum())  # the bisection leaves sum x <= p + 1e-12: scaled down, still feasible


def ascent_lower_bound(A, A_T, w, p, sites, steps):
    """A feasible point x of the LP (0 <= x <= 1, sum x <= p) with a high f(x): a proven lower bound on the LP.
    Projected supergradient ascent (f is concave; its supergradient at x is A^T (w where (A x)_i < 1)) with a
    normalised step 2 / sqrt(1 + k/10), restarted from the best x with 0.3 / sqrt(1 + k/10) after 40 % of the steps.
    Deterministic. Prints f at the start points, the best f and, given the incumbent, the smallest gap an LP-based
    certificate can show for it."""
    nc = A.shape[1]
    x = np.full(nc, p / nc)
    print(f"LP >= {f_value(A, w, x):,.1f}: f at the uniform x = p/n", flush=True)
    inc = None
    if sites is not None:
        xi = np.zeros(nc)
        xi[sites] = 1.0
        inc = f_value(A, w, xi)
        x = 0.5 * (xi + x)
        print(f"incumbent {inc:,.1f}; LP >= {f_value(A, w, x):,.1f}: f at (incumbent + uniform) / 2", flush=True)
    best, best_x = f_value(A, w, x), x.copy()
    first = int(0.4 * steps)
    t0 = time.perf_counter()
    for k in range(steps):
        if k == first:
            x = best_x.copy()
        eta = (2.0 if k < first else 0.3) / np.sqrt(1.0 + (k if k < first else k - first) / 10.0)
        g = A_T @ (w * (A @ x < 1.0))
        x = project_capped_simplex(x + eta * g / (np.linalg.norm(g) + 1e-300), p)
        v = f_value(A, w, x)
        if v > best:
            best, best_x = v, x.copy()
        if k % 50 == 0 or k == steps - 1:
            print(f"ascent step {k}: f {v:,.1f}, best {best:,.1f} ({best / w.sum():.4%} of the coverable population); "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
    assert best_x.min() >= 0 and best_x.max() <= 1 and best_x.sum() <= p * (1 + 1e-12)
    print(f"ASCENT RESULT: LP >= {best:,.1f} ({best / w.sum():.4%}), sum x = {best_x.sum():.6f}, "
          f"{int((best_x > 1e-6).sum())} candidates with x > 0", flush=True)
    if inc is not None:
        print(f"smallest gap any LP-based certificate can show for the incumbent {inc:,.1f}: "
              f"{(best - inc) / inc:.4%} (against (bound - objective) / objective)", flush=True)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="1000000x10000x100000000x100")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--sites-file", default=None, help="incumbent sites: read if it exists, else written (.npy)")
    ap.add_argument("--batch", type=int, default=200, help="candidates added to the core per round")
    ap.add_argument("--whole-lp", action="store_true",
                    help="also solve the LP of the whole model with HiGHS (small sizes: 91 s at 14,400 x 1,000)")
    ap.add_argument("--exact-seconds", type=float, default=0.0,
                    help="also run careshed's exact MCLP (CBC) with this time limit, after its heuristic (60 s)")
    ap.add_argument("--ascent", type=int, default=0,
                    help="projected supergradient steps on f(x) for the LP's lower side (0: none)")
    ap.add_argument("--incumbent-seconds", type=float, default=0.0,
                    help="also run careshed's heuristic MCLP with this time limit for the incumbent (0: do not)")
    a = ap.parse_args()
    nd, nc, pairs, p = (int(float(v)) for v in a.size.split("x"))
    t0 = time.perf_counter()
    cost, pop, std = coverage_instance(nd, nc, pairs, a.seed)
    print(f"instance {cost.shape[0]:,} x {cost.shape[1]:,}, {cost.nnz:,} pairs, built in "
          f"{time.perf_counter() - t0:.1f} s; load {os.getloadavg()[0]:.1f}", flush=True)
    w = np.asarray(pop, np.float64)
    start_sites = None
    if a.sites_file and Path(a.sites_file).exists():
        start_sites = np.load(a.sites_file)
        print(f"incumbent sites from {a.sites_file}: {start_sites.size}")
    elif a.incumbent_seconds > 0:
        from careshed.arrays import locate
        t1 = time.perf_counter()
        r = locate.mclp(cost, w, p, std, solver="heuristic", time_limit_s=a.incumbent_seconds, gap_target=0.001)
        print(f"careshed heuristic ({a.incumbent_seconds:g} s limit, {time.perf_counter() - t1:.1f} s wall): "
              f"covered {r.objective:,.1f} bound {r.bound:,.1f} ({r.bound_source}) gap {r.gap:.4%}", flush=True)
        start_sites = np.asarray(r.sites, np.int64)
        if a.sites_file:
            np.save(a.sites_file, start_sites)
    # coverage pattern (every stored pair is within the demand's standard in coverage_instance)
    # float64 pattern: float32 would be cast to float64 by every product with a float64 vector (a copy per product)
    A = scipy.sparse.csc_matrix((np.ones(cost.nnz), cost.indices, cost.indptr), shape=cost.shape)
    del cost
    A_T = A.T.tocsr()  # the same arrays read row-wise: C = A^T lam
    A = A.tocsr()      # c = A x, row-wise
    coverable = np.asarray(A.getnnz(axis=1)) > 0
    w = np.where(coverable, w, 0.0)
    simple = float(w.sum())
    print(f"simple bound (all coverable population) {simple:,.1f}", flush=True)
    if a.whole_lp:
        whole_lp(A, w, p)
    if a.exact_seconds > 0:
        from careshed.arrays import locate
        for solver, limit in (("heuristic", 60.0), ("exact", a.exact_seconds)):
            t1 = time.perf_counter()
            r = locate.mclp(cost_pattern(A), w, p, 1.0, solver=solver, time_limit_s=limit)
            print(f"careshed {solver} ({limit:g} s limit, {time.perf_counter() - t1:.1f} s wall): covered "
                  f"{r.objective:,.2f} ({r.objective / simple:.4%}), bound {r.bound:,.2f} ({r.bound_source}), "
                  f"gap {r.gap:.4%}, {r.status}", flush=True)
    if a.ascent > 0:
        ascent_lower_bound(A, A_T, w, p, start_sites, a.ascent)
    if a.iterations <= 0:
        return
    # Column generation over a core of candidates (as core_lp_start does in C++, here offline with HiGHS and no
    # time limit): the core LP over demand classes (demand with the same core candidates, weights summed) gives a
    # fractional x; f(x) on ALL pairs is the proven lower bound. Its duals, split over each class by weight, with
    # lam_i = w_i for demand no core candidate covers, give lam for the Lagrangian upper bound and price the
    # candidates outside the core: those with C_j above the price of a site enter, a batch at a time.
    from scipy.optimize import linprog

    rng = np.random.default_rng(12345)
    core = np.zeros(nc, bool)
    if start_sites is not None:
        core[start_sites] = True
        cov0 = A @ core.astype(np.float64)
        lam = np.where(cov0 > 0, 0.0, w)
    else:
        lam = w / np.maximum(1, np.asarray(A.getnnz(axis=1)))
    C = A_T @ lam
    order = np.argsort(-C, kind="stable")
    core[order[~core[order]][: a.batch * 2]] = True
    best_lb, best_ub = 0.0, simple
    t0 = time.perf_counter()
    for rnd in range(a.iterations):
        cols = np.flatnonzero(core)
        Ac = A[:, cols].tocsr()
        covered = np.diff(Ac.indptr) > 0
        keys = np.stack([Ac @ rng.random(cols.size) for _ in range(3)], axis=1)[covered]
        _, cls_first, cls = np.unique(np.round(keys, 9), axis=0, return_index=True, return_inverse=True)
        rows_cov = np.flatnonzero(covered)
        ncls = cls_first.size
        W = np.bincount(cls.ravel(), weights=w[rows_cov], minlength=ncls)
        # exactness of the classes: every member's pattern equals its representative's (a 4th independent hash)
        h4 = Ac @ rng.random(cols.size)
        assert np.allclose(h4[rows_cov], h4[rows_cov[cls_first]][cls.ravel()], rtol=0, atol=1e-9), "class collision"
        R = Ac[rows_cov[cls_first]].tocoo()  # one row per class: its core candidates
        # rows: y_r - sum_j x_j <= 0 (ncls), sum_j x_j <= p
        Aub = scipy.sparse.vstack([
            scipy.sparse.hstack([-scipy.sparse.csr_matrix((np.ones(R.nnz), (R.row, R.col)), shape=(ncls, cols.size)),
                                 scipy.sparse.identity(ncls, format="csr")]),
            scipy.sparse.hstack([scipy.sparse.csr_matrix(np.ones((1, cols.size))),
                                 scipy.sparse.csr_matrix((1, ncls))]),
        ]).tocsr()
        b = np.zeros(ncls + 1)
        b[-1] = p
        obj = np.concatenate([np.zeros(cols.size), -W])
        t1 = time.perf_counter()
        res = linprog(obj, A_ub=Aub, b_ub=b, bounds=(0, 1), method="highs")
        t_lp = time.perf_counter() - t1
        if res.status != 0:
            print("LP failed:", res.message)
            break
        x = np.zeros(nc)
        x[cols] = np.clip(res.x[: cols.size], 0, 1)
        if x.sum() > p:
            x *= p / x.sum()
        f = float(np.sum(w * np.minimum(1.0, A @ x), dtype=np.float64))
        best_lb = max(best_lb, f)
        dual = -res.ineqlin.marginals  # >= 0 for <= rows of a minimisation, sign flipped
        price = float(dual[-1])
        lam = np.where(covered, 0.0, w)
        lam[rows_cov] = np.minimum(W[cls.ravel()], dual[cls.ravel()]) * w[rows_cov] / np.maximum(W[cls.ravel()], 1e-300)
        ub = lagrangian(A_T, w, lam, p)
        C = A_T @ lam
        # dual completion: scale lam down on the demand of every candidate whose C_j exceeds the price, first the
        # demand no core candidate covers (lam = w there), then all of it, so that no C_j exceeds the price
        out_lam = np.where(covered, 0.0, lam)
        C_out = A_T @ out_lam
        C_core = C - C_out
        r_out = np.clip((price - C_core) / np.maximum(C_out, 1e-300), 0.0, 1.0)
        r_core = np.where(C_core > price, price / np.maximum(C_core, 1e-300), 1.0)
        # per demand: the smallest ratio over the candidates covering it (a min over each row of A)
        def row_min(r):
            vals = r[A.indices]
            m = np.minimum.reduceat(vals, A.indptr[:-1]) if vals.size else np.ones(A.shape[0])
            return np.where(np.diff(A.indptr) > 0, m, 1.0)
        lam2 = np.where(covered, lam * row_min(r_core), lam * row_min(r_out))
        ub2 = lagrangian(A_T, w, lam2, p)
        best_ub = min(best_ub, ub, ub2)
        print(f"   dual completion: L {ub:,.1f} -> {ub2:,.1f}", flush=True)
        out = np.flatnonzero(~core & (C > price * (1 + 1e-9) + 1e-9))
        add = out[np.argsort(-C[out], kind="stable")][: a.batch]
        print(f"round {rnd:3d}: core {cols.size:,} cands, {ncls:,} classes, LP {-res.fun:,.1f} in {t_lp:.1f} s; "
              f"LP >= {best_lb:,.1f} ({best_lb / simple:.4%} of simple)  LP <= {best_ub:,.1f} "
              f"({best_ub / simple:.4%}; this round {ub:,.1f})  price {price:,.1f}, {out.size} pricing in, "
              f"{int((x > 1e-6).sum())} x > 0; {time.perf_counter() - t0:.0f} s", flush=True)
        if add.size == 0:
            print("no candidate prices in: the core LP's value is the LP value of the whole problem")
            break
        core[add] = True
    best_x = x
    print(f"RESULT: {best_lb:,.1f} <= LP <= {best_ub:,.1f}; simple bound {simple:,.1f}; "
          f"total population {float(np.sum(pop)):,.1f}; sum x = {best_x.sum():.3f}, "
          f"{int((best_x > 1e-6).sum())} candidates fractional/open; load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
