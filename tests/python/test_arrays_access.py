"""Tests of careshed.fca / accessibility / grid_accessibility (the 2SFCA family).

Oracles: hand-computed small cases (numbers worked out in the comments), and an independent pandas
reference of each published formula (written here from the papers, not from careshed's code) on random
sparse tables with a logged seed, on the spopt San Francisco fixture, and on a grid whose costs come from
a plain Dijkstra written in this file.
"""
from __future__ import annotations

import heapq
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import careshed
from careshed.errors import InputError

SEED = int(os.environ.get("CARESHED_TEST_SEED", "20261123"))
SF = Path(__file__).resolve().parents[1] / "data" / "validation" / "spopt_sf"  # shipped, see its README
E_HALF = math.exp(-0.5)


# ---------------------------------------------------------------- independent reference implementation
def ref_steps(bounds_weights):
    b = np.array(sorted(bounds_weights), dtype=float)
    v = np.array([bounds_weights[k] for k in sorted(bounds_weights)], dtype=float)

    def w(c):
        idx = np.searchsorted(b, c, side="left")  # first bound >= c (inclusive upper bounds)
        out = np.zeros(len(c))
        ok = idx < len(b)
        out[ok] = v[idx[ok]]
        return out
    return w


def ref_gaussian(d0):
    return lambda c: np.where(c <= d0, (np.exp(-0.5 * (c / d0) ** 2) - E_HALF) / (1 - E_HALF), 0.0)


def ref_gravity(beta, min_cost):
    return lambda c: np.maximum(c, min_cost) ** (-beta)


def ref_fca(P, S, o, d, c, max_cost, w=None, three=False):
    """Scores and supply ratios straight from the formulas, with pandas group-bys."""
    df = pd.DataFrame({"i": np.asarray(o), "j": np.asarray(d), "c": np.asarray(c, dtype=float)})
    df = df[df.c <= max_cost].copy()
    df["w"] = 1.0 if w is None else w(df.c.to_numpy())
    if three:  # Wan et al. 2012 selection weight G_ij = W_ij / sum_k W_ik over i's catchment
        wsum = df.groupby("i").w.transform("sum")
        df["g"] = np.where(wsum > 0, df.w / wsum.where(wsum > 0, 1.0), 0.0)
    else:
        df["g"] = 1.0
    df["pgw"] = np.asarray(P, dtype=float)[df.i] * df.g * df.w
    D = df.groupby("j").pgw.sum().reindex(range(len(S)), fill_value=0.0).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        R = np.where(D > 0, np.asarray(S, dtype=float) / D, np.nan)
    df["a"] = np.nan_to_num(R[df.j.to_numpy()]) * df.g * df.w
    A = df.groupby("i").a.sum().reindex(range(len(P))).to_numpy()  # NaN where i has no pair
    return A, R


def random_table(rng, n_demand, n_supply, density, max_cost=30.0):
    mask = rng.random((n_demand, n_supply)) < density
    o, d = np.nonzero(mask)
    perm = rng.permutation(o.size)  # any row order must work
    o, d = o[perm], d[perm]
    c = rng.uniform(0, max_cost * 1.3, o.size)
    # some costs exactly on the default step bounds and on the catchment edge
    k = rng.choice(o.size, size=min(o.size, 12), replace=False)
    c[k] = rng.choice([10.0, 20.0, 30.0, 0.0], size=k.size)
    P = rng.integers(0, 5000, n_demand).astype(float)
    P[rng.random(n_demand) < 0.1] = 0.0
    S = rng.integers(0, 40, n_supply).astype(float)
    return P, S, o, d, c


# ---------------------------------------------------------------- hand-computed cases
def test_2sfca_hand_case():
    # Demand P = [100, 200, 300]; supply S = [10, 20]; pairs (i, j, cost):
    # (0,0,5) (1,0,10) (1,1,20) (2,1,31). Catchment 30: (2,1,31) is out.
    # R0 = 10 / (100 + 200) = 1/30; R1 = 20 / 200 = 0.1.
    # A0 = 1/30; A1 = 1/30 + 0.1; A2 = NaN (no supply within 30).
    P, S = [100.0, 200.0, 300.0], [10.0, 20.0]
    o, d, c = [0, 1, 1, 2], [0, 0, 1, 1], [5.0, 10.0, 20.0, 31.0]
    r = careshed.accessibility(P, S, o, d, c, max_cost=30)
    np.testing.assert_allclose(r.score[:2], [1 / 30, 1 / 30 + 0.1], rtol=1e-14)
    assert np.isnan(r.score[2])
    np.testing.assert_allclose(r.supply_ratio, [1 / 30, 0.1], rtol=1e-14)
    assert r.report["empty_catchments"] == 1 and r.report["zero_demand_supplies"] == 0
    # Conservation: 100/30 + 200 (1/30 + 0.1) = 10 + 20 = 30 = sum of supply.
    assert r.report["supply_with_demand"] == 30.0
    assert r.report["demand_times_score"] == pytest.approx(30.0, rel=1e-14)
    assert r.conservation["conservation_relative_error"] < 1e-14


def test_catchment_is_inclusive():
    # Cost exactly max_cost is inside; the next double above it is outside.
    P, S = [1.0, 1.0], [6.0]
    c_in = [30.0, np.nextafter(30.0, 60.0)]
    r = careshed.fca(P, S, [0, 1], [0, 0], c_in, max_cost=30)
    assert r[0] == 6.0 and np.isnan(r[1])  # only demand 0 in catchment: R = 6 / 1


def test_infinite_cost_is_unreachable_even_without_a_limit():
    # pair (1, 0) has cost inf (unreachable): demand 1 has no supply -> NaN, and it adds no demand to supply 0
    r = careshed.fca([2.0, 5.0], [4.0], [0, 1], [0, 0], [3.0, np.inf], max_cost=np.inf)
    assert r[0] == 2.0 and np.isnan(r[1])
    r = careshed.fca([2.0, 5.0], [4.0], [0, 1], [0, 0], [3.0, np.inf], max_cost=np.inf, weights=lambda c: 1 + 0 * c)
    assert r[0] == 2.0 and np.isnan(r[1])


def test_e2sfca_step_bounds_inclusive():
    # Luo & Qi default for max_cost=30: bounds 10, 20, 30 -> 1.00, 0.68, 0.22 (inclusive upper bounds).
    # One supply S=1, three demand points of P=1 at costs 10 (w 1), 20 (w .68), nextafter(20) (w .22).
    # D = 1 + 0.68 + 0.22 = 1.9; R = 1/1.9; A = R * w.
    c = [10.0, 20.0, np.nextafter(20.0, 30.0)]
    r = careshed.accessibility([1.0, 1.0, 1.0], [1.0], [0, 1, 2], [0, 0, 0], c, method="e2sfca", max_cost=30)
    R = 1 / 1.9
    np.testing.assert_allclose(r.score, [R, 0.68 * R, 0.22 * R], rtol=1e-14)
    # the same with explicit steps, and as a callable
    s2 = careshed.fca([1.0, 1.0, 1.0], [1.0], [0, 1, 2], [0, 0, 0], c, method="2sfca", max_cost=30,
                      weights={10: 1.0, 20: 0.68, 30: 0.22})
    np.testing.assert_array_equal(s2, r.score)


def test_step_weights_beyond_last_bound_are_zero_not_nan():
    # Steps up to 10 but catchment 30: a demand point whose only supply is at 15 is in the catchment
    # with weight 0 -> score 0 (supply within reach, no weight), not NaN.
    r = careshed.accessibility([5.0, 5.0], [3.0], [0, 1], [0, 0], [5.0, 15.0], max_cost=30, weights={10: 1.0})
    # D = 5 * 1 + 5 * 0 = 5; R = 0.6; A = [0.6, 0]
    np.testing.assert_allclose(r.score, [0.6, 0.0])


def test_ties_both_supplies_count():
    # One demand point (P=50) at the same cost 7 from two supplies (S = 2 and 3): FCA has no
    # tie-breaking, both catchments hold it: R = 2/50, 3/50; A = 5/50.
    r = careshed.fca([50.0], [2.0, 3.0], [0, 0], [0, 1], [7.0, 7.0], max_cost=10)
    assert r[0] == pytest.approx(0.1, rel=1e-15)


def test_zero_demand_catchment_and_unreachable_facility():
    # Supply 0 (S=4) reaches only demand 1 whose population is 0 -> weighted demand 0, ratio NaN,
    # contributes nothing; demand 1 is in reach of a supply -> score 0 (not NaN).
    # Supply 1 (S=9) reaches demand 0 (P=3) -> R = 3, A0 = 3.
    # Supply 2 (S=5) has no pair in the table at all (a facility with no reachable cells).
    r = careshed.accessibility([3.0, 0.0], [4.0, 9.0, 5.0], [1, 0], [0, 1], [1.0, 1.0], max_cost=10)
    np.testing.assert_array_equal(r.score, [3.0, 0.0])
    assert np.isnan(r.supply_ratio[0]) and r.supply_ratio[1] == 3.0 and np.isnan(r.supply_ratio[2])
    assert r.report["zero_demand_supplies"] == 2
    assert r.report["supply_total"] == 18.0 and r.report["supply_with_demand"] == 9.0
    assert r.report["demand_times_score"] == 9.0


def test_gaussian_hand_case():
    # Dai (2010) weight with d0 = 20: W(0) = 1, W(20) = 0, W(10) = (e^-1/8 - e^-1/2) / (1 - e^-1/2).
    w10 = (math.exp(-0.125) - E_HALF) / (1 - E_HALF)
    # demand P = [10, 30] at costs 0 and 10 from one supply S = 4; a third demand at exactly 20 (W = 0).
    r = careshed.accessibility([10.0, 30.0, 7.0], [4.0], [0, 1, 2], [0, 0, 0], [0.0, 10.0, 20.0],
                               method="g2sfca", max_cost=20)
    R = 4 / (10 + 30 * w10)
    np.testing.assert_allclose(r.score, [R, R * w10, 0.0], rtol=1e-13)


def test_3sfca_hand_case():
    # Steps {10: 1, 20: 0.5}. Demand 0 (P=10) reaches supply 0 at 5 (w 1) and supply 1 at 15 (w .5):
    # G00 = 1/1.5 = 2/3, G01 = 1/3. Demand 1 (P=20) reaches only supply 1 at 5: G11 = 1.
    # D0 = G00 P0 W00 = 2/3 * 10 = 20/3 -> R0 = 6 / (20/3) = 0.9 (S0 = 6)
    # D1 = G01 P0 W01 + G11 P1 W11 = 1/3*10*.5 + 20 = 65/3 -> R1 = 13 / (65/3) = 0.6 (S1 = 13)
    # A0 = G00 R0 W00 + G01 R1 W01 = 2/3*0.9 + 1/3*0.6*0.5 = 0.6 + 0.1 = 0.7; A1 = 0.6.
    r = careshed.accessibility([10.0, 20.0], [6.0, 13.0], [0, 0, 1], [0, 1, 1], [5.0, 15.0, 5.0],
                               method="3sfca", max_cost=20, weights={10: 1.0, 20: 0.5})
    np.testing.assert_allclose(r.score, [0.7, 0.6], rtol=1e-14)
    np.testing.assert_allclose(r.supply_ratio, [0.9, 0.6], rtol=1e-14)
    # conservation holds for 3SFCA as well: 10*0.7 + 20*0.6 = 19 = 6 + 13
    assert r.report["demand_times_score"] == pytest.approx(19.0, rel=1e-14)


def test_gravity_hand_case_and_zero_distance_clamp():
    # beta = 2, min_cost = 1: W = max(d, 1)^-2. Demand 0 (P=4) on top of supply 0 (d=0 -> W=1),
    # demand 1 (P=1) at d=2 (W=1/4). S0 = 9. V0 = 4*1 + 1*1/4 = 4.25; A0 = 9/4.25; A1 = 9/4.25/4.
    r = careshed.fca([4.0, 1.0], [9.0], [0, 1], [0, 0], [0.0, 2.0], method="gravity", max_cost=np.inf,
                     beta=2.0, min_cost=1.0)
    np.testing.assert_allclose(r, [9 / 4.25, 9 / 4.25 / 4], rtol=1e-14)


def test_all_in_every_catchment_gives_supply_over_demand():
    # pysal/access's published behaviour: with every demand point in every catchment, plain 2SFCA gives
    # sum(supply) / sum(demand) everywhere.
    rng = np.random.default_rng(SEED)
    print("seed", SEED)
    P = rng.uniform(0, 1000, 40)
    S = rng.uniform(0, 10, 7)
    o, d = np.meshgrid(np.arange(40), np.arange(7), indexing="ij")
    c = rng.uniform(0, 30, o.size)
    r = careshed.fca(P, S, o.ravel(), d.ravel(), c, max_cost=30)
    np.testing.assert_allclose(r, S.sum() / P.sum(), rtol=1e-12)


def test_normalize_gives_population_weighted_mean_one():
    rng = np.random.default_rng(SEED + 1)
    print("seed", SEED + 1)
    P, S, o, d, c = random_table(rng, 60, 9, 0.3)
    raw = careshed.accessibility(P, S, o, d, c, method="e2sfca", max_cost=30)
    nrm = careshed.accessibility(P, S, o, d, c, method="e2sfca", max_cost=30, normalize=True)
    ok = np.isfinite(nrm.score)
    assert np.sum(P[ok] * nrm.score[ok]) / np.sum(P[ok]) == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose(nrm.score[ok], raw.score[ok] / raw.report["mean_score"], rtol=1e-13)


# ---------------------------------------------------------------- random tables against the reference
METHODS = [
    ("2sfca", None, None, False),
    ("e2sfca", None, ref_steps({10.0: 1.0, 20.0: 0.68, 30.0: 0.22}), False),
    ("g2sfca", None, ref_gaussian(30.0), False),
    ("3sfca", None, ref_steps({10.0: 1.0, 20.0: 0.68, 30.0: 0.22}), True),
    ("gravity", None, ref_gravity(1.0, 1.0), False),
    ("2sfca", {5: 1.0, 12.5: 0.4, 25: 0.1}, ref_steps({5: 1.0, 12.5: 0.4, 25: 0.1}), False),
    ("3sfca", {15: 1.0, 30: 0.3}, ref_steps({15: 1.0, 30: 0.3}), True),
]


@pytest.mark.parametrize("method,weights,ref_w,three", METHODS)
def test_random_tables_against_reference(method, weights, ref_w, three):
    for t in range(5):
        seed = SEED + 100 + t
        print("seed", seed)
        rng = np.random.default_rng(seed)
        P, S, o, d, c = random_table(rng, int(rng.integers(1, 300)), int(rng.integers(1, 40)), rng.uniform(0.02, 0.5))
        max_cost = np.inf if method == "gravity" else 30.0
        r = careshed.accessibility(P, S, o, d, c, method=method, max_cost=max_cost, weights=weights)
        A, R = ref_fca(P, S, o, d, c, max_cost, ref_w, three)
        np.testing.assert_allclose(r.score, A, rtol=1e-11, atol=0, equal_nan=True)
        np.testing.assert_allclose(r.supply_ratio, R, rtol=1e-11, equal_nan=True)
        # the conservation invariant: sum P_i A_i = sum of the supplies that have demand in reach
        target = S[np.isfinite(R)].sum()
        assert np.nansum(P * r.score) == pytest.approx(target, rel=1e-10, abs=1e-12)
        assert r.report["supply_with_demand"] == pytest.approx(target, rel=1e-14)
        assert r.report["conservation_relative_error"] < 1e-10


def test_callable_weights_evaluated_once_and_match_reference():
    rng = np.random.default_rng(SEED + 7)
    print("seed", SEED + 7)
    P, S, o, d, c = random_table(rng, 120, 15, 0.25)
    calls = []

    def decay(x):
        calls.append(np.array(x))
        return np.exp(-x / 12.0)
    r = careshed.fca(P, S, o, d, c, max_cost=30, weights=decay)
    assert len(calls) == 1 and calls[0].size == int(np.sum(c <= 30))
    A, _ = ref_fca(P, S, o, d, c, 30.0, lambda x: np.exp(-x / 12.0))
    np.testing.assert_allclose(r, A, rtol=1e-11, equal_nan=True)
    r3 = careshed.fca(P, S, o, d, c, method="3sfca", max_cost=30, weights=lambda x: np.exp(-x / 12.0))
    A3, _ = ref_fca(P, S, o, d, c, 30.0, lambda x: np.exp(-x / 12.0), three=True)
    np.testing.assert_allclose(r3, A3, rtol=1e-11, equal_nan=True)


def test_spopt_sf_fixture_against_reference():
    tracts = pd.read_csv(SF / "SF_demand_205_centroid_uniform_weight.csv", dtype={"NAME": str})
    stores = pd.read_csv(SF / "SF_store_site_16_longlat.csv")
    dist = pd.read_csv(SF / "SF_network_distance_candidateStore_16_censusTract_205_new.csv",
                       dtype={"DestinationName": str})
    t_index = {name: i for i, name in enumerate(tracts["NAME"].astype(str))}
    s_index = {name: j for j, name in enumerate(stores["NAME"])}
    o = dist["DestinationName"].map(t_index)
    d = dist["name"].map(s_index)
    assert o.notna().all() and d.notna().all()
    P = tracts["POP2000"].to_numpy(float)
    S = np.arange(1, len(stores) + 1, dtype=float) * 10  # capacities 10, 20, ..., 160 (synthetic)
    c = dist["distance"].to_numpy(float)  # network metres
    for method, ref_w, three in [("2sfca", None, False),
                                 ("e2sfca", ref_steps({1000: 1.0, 2000: 0.68, 3000: 0.22}), False),
                                 ("g2sfca", ref_gaussian(3000.0), False),
                                 ("3sfca", ref_steps({1000: 1.0, 2000: 0.68, 3000: 0.22}), True)]:
        r = careshed.accessibility(P, S, o.to_numpy(), d.to_numpy(), c, method=method, max_cost=3000)
        A, R = ref_fca(P, S, o.to_numpy(), d.to_numpy(), c, 3000.0, ref_w, three)
        np.testing.assert_allclose(r.score, A, rtol=1e-11, equal_nan=True)
        assert np.isnan(r.score).sum() > 0 and np.isfinite(r.score).sum() > 50  # a realistic mix
        assert r.report["conservation_relative_error"] < 1e-12
    # every tract within 50 km of every store: sum(S) / sum(P) everywhere (pysal's all-in-catchment case)
    allin = careshed.fca(P, S, o.to_numpy(), d.to_numpy(), c, max_cost=50_000)
    np.testing.assert_allclose(allin, S.sum() / P.sum(), rtol=1e-12)


# ---------------------------------------------------------------- errors
def test_bad_inputs_name_the_problem():
    P, S = [1.0, 2.0], [1.0]
    with pytest.raises(InputError, match="both give the pair"):
        careshed.fca(P, S, [0, 0], [0, 0], [1.0, 2.0], max_cost=10)
    with pytest.raises(InputError, match=r"origin\[1\]"):
        careshed.fca(P, S, [0, 2], [0, 0], [1.0, 2.0], max_cost=10)
    with pytest.raises(InputError, match=r"dest\[0\]"):
        careshed.fca(P, S, [0, 1], [-1, 0], [1.0, 2.0], max_cost=10)
    with pytest.raises(InputError, match=r"demand\[1\]"):
        careshed.fca([1.0, -2.0], S, [0, 1], [0, 0], [1.0, 2.0], max_cost=10)
    with pytest.raises(InputError, match=r"cost\[1\]"):
        careshed.fca(P, S, [0, 1], [0, 0], [1.0, np.nan], max_cost=10)
    with pytest.raises(InputError, match="method"):
        careshed.fca(P, S, [0, 1], [0, 0], [1.0, 2.0], max_cost=10, method="4sfca")
    with pytest.raises(InputError, match="ascending|upper bound"):
        careshed.fca(P, S, [0, 1], [0, 0], [1.0, 2.0], max_cost=10, weights={-1: 1.0})
    with pytest.raises(InputError, match="finite max_cost"):
        careshed.fca(P, S, [0, 1], [0, 0], [1.0, 2.0], max_cost=np.inf, method="e2sfca")
    with pytest.raises(InputError, match="callable returned"):
        careshed.fca(P, S, [0, 1], [0, 0], [1.0, 2.0], max_cost=10, weights=lambda x: -x)
    with pytest.raises(InputError, match="integer indices"):
        careshed.fca(P, S, [0.0, 1.0], [0, 0], [1.0, 2.0], max_cost=10)


# ---------------------------------------------------------------- grids
def dijkstra_grid(f, dx, sources, max_s):
    """Plain 8-neighbour Dijkstra with the r.cost rule (L * (f_a + f_b) / 2), one source at a time."""
    H, W = f.shape
    out = []
    for (r0, c0) in sources:
        dist = {}
        if not np.isfinite(f[r0, c0]):
            out.append(dist)
            continue
        heap = [(0.0, r0, c0)]
        while heap:
            t, r, c = heapq.heappop(heap)
            if (r, c) in dist:
                continue
            dist[(r, c)] = t
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rr, cc = r + dr, c + dc
                    if (dr or dc) and 0 <= rr < H and 0 <= cc < W and np.isfinite(f[rr, cc]) \
                            and (rr, cc) not in dist:
                        nt = t + math.hypot(dr * dx, dc * dx) * (f[r, c] + f[rr, cc]) / 2
                        if nt <= max_s:
                            heapq.heappush(heap, (nt, rr, cc))
        out.append(dist)
    return out


def grid_case(seed):
    rng = np.random.default_rng(seed)
    H, W = 24, 31
    f = rng.uniform(0.05, 0.4, (H, W))
    f[rng.random((H, W)) < 0.05] = np.nan
    pop = rng.uniform(0, 100, (H, W))
    pop[rng.random((H, W)) < 0.2] = 0.0
    pop[rng.random((H, W)) < 0.05] = np.nan
    fac = np.array([[2, 3], [10, 15], [20, 28], [12, 16], [23, 0]])
    f[fac[:, 0], fac[:, 1]] = 0.2
    f[23, 0] = np.nan  # a facility on an impassable cell reaches nothing
    sup = np.array([5.0, 8.0, 3.0, 2.0, 7.0])
    zones = np.where(np.arange(W)[None, :] < 15, 0, 1).repeat(H, 0).astype(np.int32)
    zones[:3] = -1
    return f, pop, fac, sup, zones


@pytest.mark.parametrize("method,ref_w,three", [
    ("2sfca", None, False),
    ("e2sfca", ref_steps({100 / 3: 1.0, 200 / 3: 0.68, 100.0: 0.22}), False),
    ("3sfca", ref_steps({100 / 3: 1.0, 200 / 3: 0.68, 100.0: 0.22}), True),
    ("g2sfca", ref_gaussian(100.0), False),
])
def test_grid_against_plain_dijkstra_and_reference(method, ref_w, three):
    seed = SEED + 200
    print("seed", seed)
    f, pop, fac, sup, zones = grid_case(seed)
    dx = 10.0
    max_min = 100 / 60  # 100 seconds
    res = careshed.grid_accessibility(f, pop, fac, sup, max_minutes=max_min, method=method, cell_size_m=dx,
                                      zones=zones, zone_ids=["west", "east"])
    # reference: costs by plain Dijkstra (seconds), demand = populated cells
    H, W = f.shape
    lists = dijkstra_grid(f, dx, fac, 100.0)
    o, d, c = [], [], []
    for j, dist in enumerate(lists):
        for (r, cc), t in dist.items():
            o.append(r * W + cc), d.append(j), c.append(t)
    P = np.where(pop > 0, pop, 0.0).ravel()
    A, R = ref_fca(P, sup, np.array(o), np.array(d), np.array(c), 100.0 + 1e-6, ref_w, three)
    A[~(P > 0)] = np.nan
    np.testing.assert_allclose(res.score.ravel(), A, rtol=1e-5, equal_nan=True)
    np.testing.assert_allclose(res.supply_ratio, R, rtol=1e-5, equal_nan=True)
    assert np.isnan(res.supply_ratio[4])  # the facility on an impassable cell
    assert res.report["zero_demand_supplies"] >= 1
    assert res.report["pairs"] == len(o)
    assert res.report["conservation_relative_error"] < 1e-10
    # zones: population-weighted mean over populated cells with a score, by numpy
    for z, name in enumerate(["west", "east"]):
        m = (zones.ravel() == z) & (P > 0)
        fin = m & np.isfinite(A)
        row = res.zones.set_index("zone").loc[name]
        assert row.population == pytest.approx(P[m].sum(), rel=1e-12)
        assert row.population_no_access == pytest.approx(P[m & ~np.isfinite(A)].sum(), rel=1e-12)
        assert row.score == pytest.approx(np.sum(P[fin] * A[fin]) / P[fin].sum(), rel=1e-5)


def test_grid_callable_matches_steps_and_normalize():
    seed = SEED + 300
    print("seed", seed)
    f, pop, fac, sup, zones = grid_case(seed)
    steps = careshed.grid_accessibility(f, pop, fac, sup, max_minutes=2.0, cell_size_m=10.0,
                                        weights={1.0: 1.0, 2.0: 0.5}, zones=zones)

    def w(minutes):
        return np.where(minutes <= 1.0, 1.0, 0.5)
    call = careshed.grid_accessibility(f, pop, fac, sup, max_minutes=2.0, cell_size_m=10.0, weights=w, zones=zones)
    np.testing.assert_allclose(call.score, steps.score, rtol=1e-14, equal_nan=True)
    np.testing.assert_allclose(call.zones.score, steps.zones.score, rtol=1e-14, equal_nan=True)
    assert call.report["empty_catchments"] == steps.report["empty_catchments"] > 0
    nrm = careshed.grid_accessibility(f, pop, fac, sup, max_minutes=2.0, cell_size_m=10.0,
                                      weights={1.0: 1.0, 2.0: 0.5}, normalize=True)
    ok = np.isfinite(nrm.score)
    P = np.where(pop > 0, pop, 0)
    assert np.sum(P[ok] * nrm.score[ok]) / P[ok].sum() == pytest.approx(1.0, rel=1e-12)


def test_grid_bad_population_is_refused():
    f, pop, fac, sup, _ = grid_case(SEED)
    pop[3, 4] = -1
    with pytest.raises(InputError, match="row 3, col 4"):
        careshed.grid_accessibility(f, pop, fac, sup, max_minutes=1.0, cell_size_m=10.0)


def test_graph_accessibility_against_scipy_dijkstra():
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    from careshed.arrays.network import Graph

    seed = SEED + 400
    print("seed", seed)
    rng = np.random.default_rng(seed)
    n = 80
    tails = rng.integers(0, n, 400)
    heads = rng.integers(0, n, 400)
    secs = rng.uniform(10, 400, 400)
    g = Graph(n, tails.astype(np.int32), heads.astype(np.int32), secs)
    dn = rng.integers(-1, n, 120)  # several demand points per node, some off the graph (-1)
    P = rng.uniform(0, 100, 120)
    fn = rng.integers(0, n, 9)
    S = rng.uniform(1, 10, 9)
    res = careshed.graph_accessibility(g, dn, P, fn, S, max_minutes=15, method="e2sfca")
    # reference: times TO each facility = Dijkstra on the transposed graph (duplicate edges: keep the min)
    best = {}
    for t, h, s in zip(tails, heads, secs):
        best[(h, t)] = min(s, best.get((h, t), np.inf))
    keys = list(best)
    M = csr_matrix(([best[k] for k in keys], ([k[0] for k in keys], [k[1] for k in keys])), shape=(n, n))
    dist = dijkstra(M, indices=fn, limit=15 * 60.0)  # (n_fac, n)
    dist[np.arange(len(fn)), fn] = 0.0
    o, d, c = [], [], []
    for j in range(len(fn)):
        for i in range(len(dn)):
            if dn[i] >= 0 and np.isfinite(dist[j, dn[i]]):
                o.append(i), d.append(j), c.append(dist[j, dn[i]] / 60.0)
    A, R = ref_fca(P, S, np.array(o), np.array(d), np.array(c), 15.0, ref_steps({5.0: 1.0, 10.0: 0.68, 15.0: 0.22}))
    np.testing.assert_allclose(res.score, A, rtol=1e-9, equal_nan=True)
    assert np.isnan(res.score[dn < 0]).all() and np.isfinite(res.score).sum() > 10


def test_grid_zones_with_split_cells():
    # A ZoneRaster-like object (rule "fraction"): cells marked -2 are split between zones by area fraction;
    # their population counts in each zone with that fraction. Reference by numpy on the cell scores.
    from types import SimpleNamespace

    seed = SEED + 500
    print("seed", seed)
    f, pop, fac, sup, zones = grid_case(seed)
    H, W = f.shape
    zg = zones.copy()
    split_cells = np.array([5 * W + 14, 6 * W + 14, 7 * W + 15])
    zg.ravel()[split_cells] = -2
    split_cell = np.repeat(split_cells, 2)
    split_zone = np.tile([0, 1], 3)
    split_fraction = np.array([0.25, 0.75, 0.5, 0.5, 0.9, 0.1])
    zr = SimpleNamespace(zone=zg, n_zones=2, ids=["west", "east"], split_cell=split_cell, split_zone=split_zone,
                         split_fraction=split_fraction, rule="fraction")
    res = careshed.grid_accessibility(f, pop, fac, sup, max_minutes=1.5, cell_size_m=10.0, method="e2sfca", zones=zr)
    s = res.score.ravel()
    P = np.where(pop > 0, pop, 0.0).ravel()
    for z, name in enumerate(["west", "east"]):
        w = (zg.ravel() == z) * P
        np.add.at(w, split_cell[split_zone == z], (P[split_cell] * split_fraction)[split_zone == z])
        fin = np.isfinite(s)
        row = res.zones.set_index("zone").loc[name]
        assert row.population == pytest.approx(w.sum(), rel=1e-12)
        assert row.population_no_access == pytest.approx(w[~fin].sum(), rel=1e-12)
        assert row.score == pytest.approx(np.sum(w[fin] * s[fin]) / w[fin].sum(), rel=1e-12)


def test_grid_friction_surface_lonlat_uses_row_widths(tmp_path):
    from careshed.arrays.friction import FrictionSurface

    grid = careshed.make_lonlat_grid((118.0, 28.0, 118.05, 28.04), 0.002)  # 25 x 20 cells near Quzhou
    rng = np.random.default_rng(SEED + 600)
    print("seed", SEED + 600)
    f = rng.uniform(0.05, 0.3, grid.shape)
    pop = rng.uniform(0, 50, grid.shape)
    fac = np.array([[3, 4], [15, 20]])
    surf = FrictionSurface(f, grid)
    a = careshed.grid_accessibility(surf, pop, fac, [10.0, 20.0], max_minutes=3, method="e2sfca")
    widths = grid.row_cell_widths_m()
    b = careshed.grid_accessibility(f, pop, fac, [10.0, 20.0], max_minutes=3, method="e2sfca",
                                    cell_size_m=(widths.mean(), grid.row_cell_heights_m().mean()), row_dx_m=widths)
    np.testing.assert_array_equal(a.score, b.score)
    assert np.isfinite(a.score).sum() > 20
    # a planar grid in metres would give different times: the row widths (~196 m) were used, not 0.002
    assert 150 < widths.mean() < 250
    # the per-1000 score raster round-trips through a GeoTIFF on the surface's grid
    path = a.to_geotiff(Path(tmp_path) / "e2sfca.tif")
    arr, back_grid = careshed.read_raster(path)
    assert back_grid.shape == grid.shape
    np.testing.assert_allclose(np.asarray(arr, dtype=float), (a.score * 1000).astype(np.float32), rtol=1e-7,
                               equal_nan=True)
    with pytest.raises(InputError, match="give the grid"):
        b.to_geotiff(Path(tmp_path) / "x.tif")


def test_grid_start_offsets_minutes_shrink_a_binary_catchment_and_the_former_keyword_warns():
    # 2SFCA (binary weights, inclusive cutoff): every facility starting 1 minute late within a 2-minute catchment
    # reaches exactly the cells within 1 minute of travel, so the scores equal a 1-minute catchment's.
    seed = SEED + 301
    print("seed", seed)
    f, pop, fac, sup, zones = grid_case(seed)
    late = np.ones(len(fac))
    shifted = careshed.grid_accessibility(f, pop, fac, sup, max_minutes=2.0, cell_size_m=10.0, method="2sfca",
                                          start_offsets_minutes=late, zones=zones)
    shorter = careshed.grid_accessibility(f, pop, fac, sup, max_minutes=1.0, cell_size_m=10.0, method="2sfca",
                                          zones=zones)
    np.testing.assert_allclose(shifted.score, shorter.score, rtol=1e-12, equal_nan=True)
    with pytest.warns(DeprecationWarning, match="grid_accessibility: offsets_minutes= is deprecated"):
        old = careshed.grid_accessibility(f, pop, fac, sup, max_minutes=2.0, cell_size_m=10.0, method="2sfca",
                                          offsets_minutes=late, zones=zones)
    np.testing.assert_array_equal(old.score, shifted.score)
