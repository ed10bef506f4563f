"""Equity measures: hand-worked cases (worked in the comments) and brute-force oracles on random people."""
from __future__ import annotations

import math
import os

import numpy as np
import pytest

from careshed.arrays.equity import (concentration_index, gini, group_samples, lorenz, shares_beyond, theil,
                                    weighted_quantile)
from careshed.errors import InputError


def rng_for(name: str):
    seed = int(os.environ.get("CARESHED_TEST_SEED", np.random.SeedSequence().entropy % (2**32)))
    print(f"[ seed ] {name}: CARESHED_TEST_SEED={seed}")
    return np.random.default_rng(seed)


def test_gini_hand_worked():
    # x = 1,2,3,4 one person each: mean 2.5; sum over ordered pairs |xi-xj| = 2*(1+2+3+1+2+1) = 20;
    # G = 20 / (2 * 4^2 * 2.5) = 0.25.
    assert gini([4, 1, 3, 2], [1, 1, 1, 1]) == pytest.approx(0.25, abs=1e-12)
    # Two people weighted 3 and 1 with values 0 and 10: mean 2.5, pairs (0,10) and (10,0) weigh 3*1 each:
    # 2*3*10 / (2 * 16 * 2.5) = 60/80 = 0.75.
    assert gini([0, 10], [3, 1]) == pytest.approx(0.75, abs=1e-12)
    # Everybody equal: 0. Weight = repetition: (5 twice) == weight 2.
    assert gini([7, 7, 7], [1, 2, 3]) == pytest.approx(0.0, abs=1e-12)
    assert gini([5, 9], [2, 1]) == pytest.approx(gini([5, 5, 9], [1, 1, 1]), abs=1e-12)


def test_gini_matches_pairwise_definition_on_random_people():
    rng = rng_for("gini")
    for _ in range(20):
        n = int(rng.integers(1, 40))
        x = rng.exponential(20.0, n) * (rng.random(n) > 0.1)
        w = rng.random(n) * 100
        if np.sum(w * x) == 0:
            continue
        mu = np.sum(w * x) / np.sum(w)
        pairwise = np.sum(w[:, None] * w[None, :] * np.abs(x[:, None] - x[None, :])) / (2 * np.sum(w) ** 2 * mu)
        assert gini(x, w) == pytest.approx(pairwise, rel=1e-9, abs=1e-12)


def test_lorenz_hand_worked():
    # values 1 and 3 one person each: p = 0, .5, 1; L = 0, 1/4, 1.
    p, L = lorenz([3, 1], [1, 1])
    np.testing.assert_allclose(p, [0, 0.5, 1])
    np.testing.assert_allclose(L, [0, 0.25, 1])


def test_theil_hand_worked_and_split():
    # x = 1, 3 (one person each): mu = 2; T = 1/2 (0.5 ln 0.5 + 1.5 ln 1.5) = 0.1308120...
    expected = 0.5 * (0.5 * math.log(0.5) + 1.5 * math.log(1.5))
    t = theil([1, 3], [1, 1], groups=["a", "b"])
    assert t.total == pytest.approx(expected, abs=1e-12)
    # each group has one value: within = 0; between = 1/4 ln(1/2) + 3/4 ln(3/2) = the same number.
    assert t.within == pytest.approx(0.0, abs=1e-12)
    assert t.between == pytest.approx(0.25 * math.log(0.5) + 0.75 * math.log(1.5), abs=1e-12)
    assert t.between == pytest.approx(expected, abs=1e-12)
    # groups with equal means: between = 0, within = total.
    t = theil([1, 3, 1, 3], [1, 1, 1, 1], groups=[0, 0, 1, 1])
    assert t.between == pytest.approx(0.0, abs=1e-12)
    assert t.within == pytest.approx(expected, abs=1e-12)
    np.testing.assert_allclose(t.value_share, [0.5, 0.5])


def test_theil_split_adds_up_on_random_people():
    rng = rng_for("theil")
    for _ in range(20):
        n = int(rng.integers(2, 60))
        x = rng.exponential(15.0, n)
        x[rng.random(n) < 0.1] = 0.0
        w = rng.random(n) * 50 + 0.1
        g = rng.integers(0, 4, n)
        t = theil(x, w, g)
        mu = np.sum(w * x) / np.sum(w)
        r = x / mu
        direct = np.sum(w * np.where(r > 0, r * np.log(np.where(r > 0, r, 1)), 0)) / np.sum(w)
        assert t.total == pytest.approx(direct, rel=1e-9, abs=1e-12)
        assert t.within + t.between == pytest.approx(t.total, rel=1e-9, abs=1e-12)
        assert t.between >= -1e-12 and t.within >= -1e-12


def test_concentration_index_hand_worked():
    # x = 1,2,3 for people ranked 1st,2nd,3rd by income: R = 1/6, 1/2, 5/6; mu = 2;
    # sum (x - mu)(R - 1/2) = (-1)(-1/3) + 0 + (1)(1/3) = 2/3; CI = 2 * (2/3) / (3 * 2) = 2/9.
    assert concentration_index([1, 2, 3], [1, 1, 1], [10, 20, 30]) == pytest.approx(2 / 9, abs=1e-12)
    # the same values among the poor instead: -2/9.
    assert concentration_index([1, 2, 3], [1, 1, 1], [30, 20, 10]) == pytest.approx(-2 / 9, abs=1e-12)
    # ties share the mid-point rank: incomes all equal -> every R = 1/2 -> CI = 0.
    assert concentration_index([1, 5, 9], [1, 2, 3], [4, 4, 4]) == pytest.approx(0.0, abs=1e-12)


def test_concentration_index_ties_equal_expanded_people():
    # A zone of 2 people with income 1 (values 2 and 4) and one with income 2 (value 6): as weights or repeated.
    a = concentration_index([2, 4, 6], [1, 1, 1], [1, 1, 2])
    b = concentration_index([3, 6], [2, 1], [1, 2])  # zone means: the same ranks, same mean
    # hand: R = 1/3,1/3,5/6; mu = 4; sum (x-mu)(R-1/2) = (-2)(-1/6)+0*(-1/6)+2*(1/3) = 1; CI = 2*1/(3*4) = 1/6
    assert a == pytest.approx(1 / 6, abs=1e-12)
    assert b == pytest.approx(1 / 6, abs=1e-12)


def test_shares_beyond_inclusive_and_unreachable():
    minutes = [10, 15, 15.0001, 61, np.inf]
    people = [1, 1, 1, 1, 1]
    # > 15: 15.0001, 61, inf -> 3/5; > 30: 61, inf -> 2/5; > 60: 2/5.
    np.testing.assert_allclose(shares_beyond(minutes, people, [15, 30, 60]), [0.6, 0.4, 0.4])
    assert np.isnan(shares_beyond([1], [0], [15])[0])


def test_weighted_quantile():
    # people: 10 min x1, 20 min x2, 30 min x1 -> F(10)=.25, F(20)=.75: median 20, p90 30, p25 10.
    np.testing.assert_allclose(weighted_quantile([30, 10, 20], [1, 1, 2], [0.25, 0.5, 0.9]), [10, 20, 30])
    assert weighted_quantile([5, np.inf], [1, 9], [0.5])[0] == np.inf


def test_group_samples_splits_fractional_cells():
    values = np.array([[1.0, 2.0], [3.0, 4.0]])
    people = np.array([[10.0, 20.0], [30.0, 40.0]])
    zone = np.array([[0, -2], [-1, 1]])
    v, p, z = group_samples(values, people, zone, split_cell=[1, 1], split_zone=[0, 1], split_fraction=[0.25, 0.75])
    np.testing.assert_allclose(v, [1, 4, 2, 2])
    np.testing.assert_allclose(p, [10, 40, 5, 15])
    np.testing.assert_array_equal(z, [0, 1, 0, 1])


def test_bad_inputs_are_clear():
    with pytest.raises(InputError, match="finite"):
        gini([1, np.inf], [1, 1])
    with pytest.raises(InputError, match="differ in length"):
        theil([1, 2], [1])
    with pytest.raises(InputError, match="no people"):
        gini([1, 2], [0, 0])
    with pytest.raises(InputError, match=">= 0"):
        gini([1, 2], [-1, 1])
