"""careshed.arrays.density: rates, targets and shortfalls (the C++ arithmetic) on a hand-worked case."""
from __future__ import annotations

import math

import numpy as np

from careshed.arrays.density import density_table


def test_hand_case_rates_shortfalls_and_region_row():
    population = [10000.0, 5000.0]
    amounts = [[50.0, 20.0], [60.0, 0.0]]             # beds, physicians
    out = density_table(population, amounts, per=[1000.0, 1000.0], targets=[7.8, math.nan])
    np.testing.assert_allclose(out["rate"], [[5.0, 2.0], [12.0, 0.0], [110 / 15, 20 / 15]])
    # beds: zone 1 needs 78, has 50 -> 28 short; zone 2 needs 39, has 60 -> 0; region needs 117, has 110 -> 7
    np.testing.assert_array_equal(out["shortfall"][:, 0], [28.0, 0.0, 7.0])
    assert np.isnan(out["shortfall"][:, 1]).all() and np.isnan(out["target"][:, 1]).all()
    assert out["shortfall_sum_of_zones"][0] == 28.0
    np.testing.assert_array_equal(out["population"], [10000.0, 5000.0, 15000.0])
    out["rate"][0, 0] = -1.0                            # the arrays are the caller's to change
