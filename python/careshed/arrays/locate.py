"""Site optimisation — array-level functions (NumPy / SciPy sparse in, a :class:`Solution` out).

Models (the definitions are in ``core/include/careshed/optimize.hpp`` and ``docs/optimize.md``):

* :func:`lscp` — least-cost (default: fewest) set of sites covering every demand with weight > 0 within its
  standard; or, with ``zone_min_share``, every zone's covered share at least its minimum.
* :func:`mclp` — most weight covered with at most ``p`` open sites.
* :func:`backup` / :func:`lscp_b` — covered + ``backup_weight`` x backed-up weight; a demand is backed up only when
  at least TWO distinct open sites cover it.
* :func:`mexclp` — Daskin's maximum expected covering: ``p`` vehicles, each busy with probability ``busy_fraction``.
* :func:`p_median` — least weighted cost to the nearest open site; :func:`p_center` — least worst cost.
* ``closable=`` existing sites the model may close (``max_closures=`` at most that many; with ``p`` = the number
  of existing sites this is the "relocate" scenario); open ones count in ``p`` and the answer lists ``closed``.
  Not for MEXCLP.
* ``capacity=`` (MCLP and p-median): the weight each candidate can serve when open (beds x patients per bed,
  an ambulance's workload). Demand may be SPLIT between open sites; MCLP maximises the weight served within the
  standard, p-median serves every demand's whole weight (total capacity too small -> ``InputError`` saying so).
  ``single_source=True``: each demand is served WHOLLY by one open site (a village goes to one health post).
* ``closing_cost=`` (with ``closable=``): what closing each existing site spends, from the same ``budget`` as the
  site costs (LSCP: in the cost it minimises); a number applies to every closable site.

``cost`` is a dense ``(n_demand, n_candidates)`` array (``inf`` = unreachable) or a ``scipy.sparse`` matrix whose
EXPLICIT entries are the reachable pairs (an explicit 0 is a real zero cost; a missing entry is unreachable). Costs
are stored as float32 (the engine's precision) and compared with ``max_cost`` inclusively. ``max_cost`` is a
scalar or one threshold per demand (urban / rural standards). ``p`` counts every open site, fixed ones included;
models open AT MOST ``p`` sites. Infeasible requests raise :class:`careshed.InputError` (a ``ValueError``) saying
why. ``solver="exact"`` solves the MIP with CBC; ``solver="heuristic"`` runs greedy + swap and proves a bound with
the LP relaxation. Every solution carries ``bound`` and ``gap`` (the proof of how good it is). Solves report
progress to the current reporter (:mod:`careshed.progress`) and stop on Ctrl-C (KeyboardInterrupt), CBC included.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _core
from ..errors import InputError
from ..progress import current as current_progress

__all__ = ["Solution", "SiteCosts", "site_costs", "site_costs_from_reach_lists", "lscp", "mclp", "backup", "lscp_b", "mexclp", "p_median",
           "p_center", "evaluate", "marginal_gain_curve"]

SiteCosts = _core.SiteCosts


@dataclass(frozen=True)
class Solution:
    """One answer of a model, with the numbers a planner reports.

    ``sites`` sorted candidate indices; ``vehicles`` per site (MEXCLP); ``objective``; ``bound`` (proven: upper for
    maximising models, lower for minimising); ``gap`` = |objective - bound| / |objective|; ``assignment`` per
    demand (the nearest open site, within the standard for covering models; -1 none) and ``assigned_cost``;
    ``covered`` / ``backed_up`` / ``expected_covered`` / ``uncoverable`` weights; ``zone_weight`` /
    ``zone_covered`` per zone; ``added_order`` / ``marginal_gain``: the non-fixed sites in greedy order and what
    each adds (the marginal-gain curve). ``served``: per demand, the share of its weight served (capacitated
    models split demand; the ``assignment`` is then the site serving the largest share); ``site_load``: per entry
    of ``sites``, the weight it serves. ``closed``: the existing sites (``closable=``) the answer closes.
    ``ties_resolved``: exact and proven optimal, and the set is proven the fewest-sites, lexicographically
    smallest optimal one (docs/optimize.md, "Ties").
    """

    model: str
    solver: str
    sites: np.ndarray
    vehicles: np.ndarray
    objective: float
    bound: float
    gap: float
    proven_optimal: bool
    status: str
    bound_source: str
    assignment: np.ndarray
    assigned_cost: np.ndarray
    weight: float
    covered: float
    backed_up: float
    expected_covered: float
    uncoverable: float
    total_cost: float
    max_cost: float
    weighted_cost: float
    zone_weight: np.ndarray
    zone_covered: np.ndarray
    added_order: np.ndarray
    marginal_gain: np.ndarray
    seconds_elapsed: float
    served: np.ndarray
    site_load: np.ndarray
    closed: np.ndarray
    ties_resolved: bool = False


def site_costs(cost, *, n_demand: int | None = None, n_candidates: int | None = None) -> SiteCosts:
    """Sparse costs from a dense array (``inf`` = no pair), a ``scipy.sparse`` matrix (explicit entries only), or
    an existing :class:`SiteCosts` (returned as is)."""
    if isinstance(cost, SiteCosts):
        return cost
    if hasattr(cost, "tocoo") and not isinstance(cost, np.ndarray):  # scipy.sparse
        nd, nc = cost.shape
        if getattr(cost, "format", None) in ("csc", "csr"):  # read in place: no (row, col, data) triplet copy
            data = cost.data if cost.data.dtype == np.float32 else np.asarray(cost.data, dtype=np.float64)
            return _core.site_costs_from_compressed(nd, nc, cost.format == "csc", np.asarray(cost.indptr, np.int64),
                                                    np.asarray(cost.indices, np.int32), data)
        coo = cost.tocoo()
        nd, nc = coo.shape
        return _core.site_costs_from_pairs(nd, nc, coo.row.astype(np.int32), coo.col.astype(np.int32),
                                            np.asarray(coo.data, dtype=np.float64))
    a = np.asarray(cost, dtype=np.float64)
    if a.ndim != 2:
        raise InputError(f"cost: expected a 2-D (n_demand, n_candidates) array or a scipy.sparse matrix, "
                         f"got shape {a.shape}")
    if np.isnan(a).any():
        i, j = np.argwhere(np.isnan(a))[0]
        raise InputError(f"cost: NaN at demand {i}, candidate {j}; use inf for unreachable pairs")
    d, c = np.nonzero(np.isfinite(a))
    return _core.site_costs_from_pairs(a.shape[0], a.shape[1], d.astype(np.int32), c.astype(np.int32), a[d, c])


def site_costs_from_reach_lists(offsets, cells, seconds, cell_demand, n_demand: int, *, max_cost=None) -> SiteCosts:
    """Sparse costs from per-candidate reach lists — the ``(offsets, cells, seconds)`` of
    :func:`careshed.arrays.travel_time_grid_reach_lists` (one source per candidate; graph node lists work the same) —
    and a flat cell -> demand index map ``cell_demand`` (-1: not a demand point). With ``max_cost`` (one standard per
    demand), pairs beyond their demand's standard are dropped (covering models need no more)."""
    ms = None if max_cost is None else np.ascontiguousarray(np.broadcast_to(np.asarray(max_cost, np.float64),
                                                                            (int(n_demand),)))
    return _core.site_costs_from_reach_lists(np.asarray(offsets, np.int64), np.asarray(cells, np.uint32),
                                             np.asarray(seconds, np.float32), np.asarray(cell_demand, np.int32),
                                             int(n_demand), ms)


def _status(n_candidates: int, fixed, forbidden, closable=None):
    if fixed is None and forbidden is None and closable is None:
        return None
    status = np.zeros(n_candidates, dtype=np.uint8)
    for value, idx, what in ((1, fixed, "fixed"), (2, forbidden, "forbidden"), (3, closable, "closable")):
        if idx is None:
            continue
        idx = np.asarray(idx)
        if idx.dtype == bool:
            if idx.shape != (n_candidates,):
                raise InputError(f"{what}: a boolean mask needs one value per candidate ({n_candidates})")
            idx = np.flatnonzero(idx)
        idx = idx.astype(np.int64).ravel()
        bad = idx[(idx < 0) | (idx >= n_candidates)]
        if bad.size:
            raise InputError(f"{what}: candidate {int(bad[0])} is outside 0..{n_candidates - 1}")
        if value >= 2 and np.any(status[idx] != 0):
            other = int(idx[status[idx] != 0][0])
            raise InputError(f"{what}: candidate {other} is also {('fixed', 'forbidden')[int(status[other]) - 1]}")
        status[idx] = value
    return status


def _arr(a, dtype):
    return None if a is None else np.ascontiguousarray(np.asarray(a, dtype=dtype).ravel())


def _problem(costs: SiteCosts, model: str, *, weights=None, max_cost=None, p=0, fixed=None, forbidden=None,
             site_cost=None, budget=None, zones=None, zone_min_share=None, skip_uncoverable=False,
             backup_weight=1.0, require_primary=False, busy_fraction=0.0, max_vehicles_per_site=1,
             existing_vehicles=None, capacity=None, closable=None, max_closures=None, closing_cost=None,
             single_source=False) -> dict:
    status = _status(costs.n_candidates, fixed, forbidden, closable)
    if closing_cost is not None and np.ndim(closing_cost) == 0:  # one number: every existing site that may close
        closing_cost = np.where(status == 3, float(closing_cost), 0.0) if status is not None else None
    return dict(model=model, weights=_arr(weights, np.float64),
                max_seconds=None if max_cost is None else _arr(np.atleast_1d(max_cost), np.float64),
                p=int(p), site_status=status,
                max_closures=-1 if max_closures is None else int(max_closures),
                site_cost=_arr(site_cost, np.float64), budget=math.inf if budget is None else float(budget),
                demand_zone=_arr(zones, np.int32), zone_min_share=_arr(zone_min_share, np.float64),
                skip_uncoverable=bool(skip_uncoverable), backup_weight=float(backup_weight),
                require_primary=bool(require_primary), busy_fraction=float(busy_fraction),
                max_vehicles_per_site=int(max_vehicles_per_site), min_vehicles=_arr(existing_vehicles, np.int32),
                site_capacity=_capacity(costs.n_candidates, capacity),
                closing_cost=_per_candidate(costs.n_candidates, closing_cost, "closing_cost"),
                single_source=bool(single_source))


def _capacity(n_candidates: int, capacity):
    """A scalar (every candidate) or one capacity per candidate (``inf`` = unlimited); None = uncapacitated."""
    return _per_candidate(n_candidates, capacity, "capacity")


def _per_candidate(n_candidates: int, value, what: str):
    """A scalar (every candidate) or one value per candidate, as a float64 array; None stays None."""
    if value is None:
        return None
    c = np.asarray(value, dtype=np.float64)
    if c.ndim == 0:
        c = np.full(n_candidates, float(c))
    if c.shape != (n_candidates,):
        raise InputError(f"{what}: expected a scalar or one value per candidate ({n_candidates}), "
                         f"got shape {c.shape}")
    return np.ascontiguousarray(c)


def _solution(d: dict) -> Solution:
    return Solution(model=d["model"], solver=d["solver"], sites=d["sites"], vehicles=d["vehicles"],
                    objective=d["objective"], bound=d["bound"], gap=d["gap"], proven_optimal=d["proven_optimal"],
                    status=d["status"], bound_source=d["bound_source"], assignment=d["assignment"],
                    assigned_cost=d["assigned_seconds"], weight=d["weight"], covered=d["covered"],
                    backed_up=d["backed_up"], expected_covered=d["expected_covered"], uncoverable=d["uncoverable"],
                    total_cost=d["total_cost"], max_cost=d["max_seconds"], weighted_cost=d["weighted_seconds"],
                    zone_weight=d["zone_weight"], zone_covered=d["zone_covered"], added_order=d["added_order"],
                    marginal_gain=d["marginal_gain"], seconds_elapsed=d["seconds_elapsed"], served=d["served"],
                    site_load=d["site_load"], closed=d["closed"], ties_resolved=d["ties_resolved"])


def _solve(cost, model, solver, time_limit_s, gap_target, **kw) -> Solution:
    costs = site_costs(cost)
    if solver not in ("exact", "heuristic"):
        raise InputError(f"solver: {solver!r} is not 'exact' (CBC) or 'heuristic' (greedy + swap)")
    d = _core.solve_sites(costs, **_problem(costs, model, **kw), solver=solver,
                           time_limit_s=math.inf if time_limit_s is None else float(time_limit_s),
                           gap_target=float(gap_target), progress=current_progress())
    return _solution(d)


def lscp(cost, max_cost, *, weights=None, fixed=None, forbidden=None, closable=None, max_closures=None,
         closing_cost=None, site_cost=None, budget=None, zones=None,
         zone_min_share=None, skip_uncoverable=False, solver="exact", time_limit_s=None, gap_target=0.0) -> Solution:
    """Fewest sites (least total ``site_cost``, plus the ``closing_cost`` of closed ``closable`` sites) covering
    every demand with weight > 0 within ``max_cost``."""
    return _solve(cost, "lscp", solver, time_limit_s, gap_target, weights=weights, max_cost=max_cost, fixed=fixed,
                  forbidden=forbidden, closable=closable, max_closures=max_closures, closing_cost=closing_cost,
                  site_cost=site_cost,
                  budget=budget, zones=zones,
                  zone_min_share=zone_min_share, skip_uncoverable=skip_uncoverable)


def mclp(cost, weights, p, max_cost, *, fixed=None, forbidden=None, closable=None, max_closures=None,
         closing_cost=None, site_cost=None, budget=None, zones=None,
         zone_min_share=None, capacity=None, single_source=False, solver="exact", time_limit_s=None,
         gap_target=0.0) -> Solution:
    """Most weight covered within ``max_cost`` by at most ``p`` open sites (fixed ones included). With
    ``capacity`` (scalar or per candidate): each open site serves at most that much weight, demand may be split
    (``single_source=True``: each demand served wholly by one site, or not at all), and the objective is the weight
    served within the standard. ``closing_cost`` (with ``closable`` and a ``budget``): what closing each existing
    site spends from the budget."""
    return _solve(cost, "mclp", solver, time_limit_s, gap_target, weights=weights, max_cost=max_cost, p=p,
                  fixed=fixed, forbidden=forbidden, closable=closable, max_closures=max_closures,
                  closing_cost=closing_cost, site_cost=site_cost, budget=budget, zones=zones,
                  zone_min_share=zone_min_share, capacity=capacity, single_source=single_source)


def backup(cost, weights, p, max_cost, *, backup_weight=1.0, require_primary=False, fixed=None, forbidden=None,
           closable=None, max_closures=None, closing_cost=None,
           site_cost=None, budget=None, zones=None, zone_min_share=None, solver="exact", time_limit_s=None,
           gap_target=0.0) -> Solution:
    """Covered + ``backup_weight`` x backed-up weight (>= 2 distinct open sites in range) with at most ``p`` sites."""
    return _solve(cost, "backup", solver, time_limit_s, gap_target, weights=weights, max_cost=max_cost, p=p,
                  backup_weight=backup_weight, require_primary=require_primary, fixed=fixed, forbidden=forbidden,
                  closable=closable, max_closures=max_closures, closing_cost=closing_cost,
                  site_cost=site_cost, budget=budget, zones=zones, zone_min_share=zone_min_share)


def lscp_b(cost, max_cost, *, weights=None, fixed=None, forbidden=None, solver="exact",
           time_limit_s=None) -> Solution:
    """LSCP-B: the fewest sites covering every coverable demand (LSCP), then, with that many sites and every
    coverable demand still covered, the most weight backed up (>= 2 distinct open sites in range)."""
    costs = site_costs(cost)
    first = lscp(costs, max_cost, weights=weights, fixed=fixed, forbidden=forbidden, skip_uncoverable=True,
                 solver=solver, time_limit_s=time_limit_s)
    w = np.ones(costs.n_demand) if weights is None else weights
    return backup(costs, w, len(first.sites), max_cost, backup_weight=1.0, require_primary=True, fixed=fixed,
                  forbidden=forbidden, solver=solver, time_limit_s=time_limit_s)


def mexclp(cost, weights, p, max_cost, *, busy_fraction, max_vehicles_per_site=1, existing_vehicles=None,
           fixed=None, forbidden=None, zones=None, zone_min_share=None, solver="exact", time_limit_s=None,
           gap_target=0.0) -> Solution:
    """Daskin's MEXCLP: place ``p`` vehicles (existing ones included) to maximise Σ w (1 - q^vehicles in range)."""
    return _solve(cost, "mexclp", solver, time_limit_s, gap_target, weights=weights, max_cost=max_cost, p=p,
                  busy_fraction=busy_fraction, max_vehicles_per_site=max_vehicles_per_site,
                  existing_vehicles=existing_vehicles, fixed=fixed, forbidden=forbidden, zones=zones,
                  zone_min_share=zone_min_share)


def p_median(cost, weights, p, *, fixed=None, forbidden=None, closable=None, max_closures=None, max_cost=None,
             capacity=None, single_source=False, solver="exact",
             time_limit_s=None, gap_target=0.0) -> Solution:
    """Least Σ weight x cost to the nearest open site with at most ``p`` sites (``max_cost`` only for reporting).
    With ``capacity``: each open site serves at most that much weight, demand may be split between sites
    (``single_source=True``: each demand wholly by one site), every demand's whole weight must be served
    (``InputError`` saying why when the capacities cannot)."""
    return _solve(cost, "p-median", solver, time_limit_s, gap_target, weights=weights, p=p, fixed=fixed,
                  forbidden=forbidden, closable=closable, max_closures=max_closures, max_cost=max_cost,
                  capacity=capacity, single_source=single_source)


def p_center(cost, weights, p, *, fixed=None, forbidden=None, closable=None, max_closures=None, max_cost=None,
             solver="exact", time_limit_s=None,
             gap_target=0.0) -> Solution:
    """Least worst cost to the nearest open site over demand with weight > 0, with at most ``p`` sites."""
    return _solve(cost, "p-center", solver, time_limit_s, gap_target, weights=weights, p=p, fixed=fixed,
                  forbidden=forbidden, closable=closable, max_closures=max_closures, max_cost=max_cost)


def evaluate(model: str, cost, sites, **problem) -> dict:
    """Score a given set of sites (e.g. a plan's projects) with the same numbers as a solution. ``problem`` takes the
    keyword arguments of the model function (weights, max_cost, p, fixed, ...). Infeasibility is reported in
    ``feasible`` / ``infeasible_reason``, not raised."""
    costs = site_costs(cost)
    d = _core.evaluate_sites(costs, np.asarray(sites, dtype=np.int32).ravel(), **_problem(costs, model, **problem),
                             progress=current_progress())
    d["assigned_cost"] = d.pop("assigned_seconds")
    d["max_cost"] = d.pop("max_seconds")
    d["weighted_cost"] = d.pop("weighted_seconds")
    return d


def marginal_gain_curve(model: str, cost, k: int, **problem) -> dict:
    """The 1st, 2nd, ... k-th best added site (greedy, ties to the lowest index) and what each adds: dict of arrays
    ``sites``, ``gain``, ``objective``."""
    costs = site_costs(cost)
    return _core.marginal_gain_curve(costs, int(k), **_problem(costs, model, **problem), progress=current_progress())
