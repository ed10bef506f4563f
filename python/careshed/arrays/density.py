"""Resources per N residents: the rate, target and shortfall arithmetic, done once in C++ (``density_table``).

NumPy in, NumPy out; the planner-level analysis (zones, facilities, notes) is careshed.analyses.density.
"""
from __future__ import annotations

import numpy as np

from .. import _core

__all__ = ["density_table"]


def density_table(population, amounts, per, targets) -> dict:
    """Rates per zone and for the region (last row): ``{"population" (n+1,), "amount", "rate", "target",
    "shortfall" (n+1, m), "shortfall_sum_of_zones" (m,)}`` as writable float64 arrays.

    population (n,) residents per zone; amounts (n, m) units of each resource per zone; per (m,) residents per
    rate unit; targets (m,) target rate per `per` residents (NaN: none). Shortfall = whole units missing to
    reach the target (0 when met). The region row is computed from the region totals.
    """
    res = _core.density_table(np.ascontiguousarray(population, dtype=np.float64),
                              np.ascontiguousarray(amounts, dtype=np.float64),
                              np.ascontiguousarray(per, dtype=np.float64), np.ascontiguousarray(targets, dtype=np.float64))
    return {k: np.array(v, dtype=np.float64, copy=True) for k, v in res.items()}
