"""Floating catchment accessibility from the caller's own cost table (the pysal/access layout): demand, supply
and (demand, facility, cost) rows as DataFrames, for costs careshed did not compute (network minutes, survey
travel times)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..arrays.access import accessibility
from ..errors import InputError

__all__ = ["access_table"]


def access_table(demand, supply, costs, *, demand_id, population, supply_id, capacity, origin="origin",
                 dest="dest", cost="cost", method="2sfca", max_cost, weights=None, beta=1.0, min_cost=None,
                 normalize=False, per=1.0):
    """Floating catchment accessibility from three DataFrames (the pysal/access layout): ``demand`` with
    ``demand_id`` and ``population``, ``supply`` with ``supply_id`` and ``capacity``, ``costs`` with
    ``origin`` (a demand id), ``dest`` (a supply id) and ``cost``. Returns (demand table, supply table,
    AccessResult): the demand table gets ``score`` (× ``per``, e.g. 1000 for "beds per 1000") and
    ``has_access``; the supply table ``weighted_demand`` and ``ratio`` (× ``per``). Cost rows whose ids are
    not in the demand or supply tables are refused (InputError naming the first one)."""
    for frame, name, cols in ((demand, "demand", (demand_id, population)), (supply, "supply", (supply_id, capacity)),
                              (costs, "costs", (origin, dest, cost))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise InputError(f"{name} table: no field {missing[0]!r} (fields: {', '.join(map(str, frame.columns))})")
    d_index = pd.Index(demand[demand_id])
    s_index = pd.Index(supply[supply_id])
    for idx, name in ((d_index, "demand"), (s_index, "supply")):
        if not idx.is_unique:
            raise InputError(f"{name} table: id {idx[idx.duplicated()][0]!r} appears more than once")
    o = d_index.get_indexer(costs[origin])
    d = s_index.get_indexer(costs[dest])
    for arr, col, name in ((o, origin, "demand"), (d, dest, "supply")):
        if (arr < 0).any():
            row = int(np.flatnonzero(arr < 0)[0])
            raise InputError(f"costs table row {row}: {col}={costs[col].iloc[row]!r} is not an id of the {name} "
                             f"table")
    res = accessibility(demand[population].to_numpy(float), supply[capacity].to_numpy(float), o, d,
                        costs[cost].to_numpy(float), method=method, max_cost=max_cost, weights=weights, beta=beta,
                        min_cost=min_cost, normalize=normalize)
    dem = demand[[demand_id, population]].copy()
    dem["score"] = res.score * per
    dem["has_access"] = np.isfinite(res.score)
    sup = supply[[supply_id, capacity]].copy()
    sup["weighted_demand"] = res.weighted_demand
    sup["ratio"] = res.supply_ratio * per
    c = res.conservation
    notes = [f"method {method}, catchment cost <= {max_cost:g} (inclusive), scores x {per:g}",
             f"conservation: sum(population x score) = {c['demand_times_score'] * per:.6g} vs supply with "
             f"demand in reach {c['supply_with_demand'] * per:.6g} (relative error "
             f"{c['conservation_relative_error']:.1e})",
             f"{c['empty_catchments']} demand points with no supply in reach (score NaN), "
             f"{c['zero_demand_supplies']} supply points with no demand in reach (ratio NaN)"]
    dem.attrs["notes"] = sup.attrs["notes"] = notes
    return dem, sup, res
