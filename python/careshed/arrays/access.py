"""Floating catchment accessibility: 2SFCA, enhanced 2SFCA, Gaussian 2SFCA, 3SFCA and a gravity model.

Two levels:

* array level, for checking against published implementations — :func:`fca` (scores only) and
  :func:`accessibility` (scores, supply ratios and the conservation report) on a sparse cost table
  ``(origin = demand index, dest = supply index, cost)``;
* grid level, for planners — :func:`grid_accessibility`: population cells are the demand, facilities on
  the grid the supply, costs come from bounded per-facility searches on a friction surface (sparse, memory
  bounded by the reachable pairs), results per cell and per zone.

Rules (see docs/access.md): the catchment is inclusive (cost == max_cost is inside); step bounds are
inclusive upper bounds; a demand point with no supply in its catchment scores NaN (not 0); a supply point
with no demand in its catchment has ratio NaN and contributes nothing (counted in the report).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import _core
from ..progress import current as current_progress
from ..constants import LUO_QI_STEPS_MIN
from ..errors import InputError, renamed_keyword
from ..io.raster import write_geotiff
from .zonal import zone_arrays

__all__ = ["fca", "accessibility", "grid_accessibility", "graph_accessibility", "AccessResult",
           "GridAccessResult", "LUO_QI_STEPS_MIN", "FCA_METHODS"]


FCA_METHODS = ("2sfca", "e2sfca", "g2sfca", "3sfca", "gravity")


@dataclass
class AccessResult:
    """Result of :func:`accessibility`.

    score: float64 per demand point (NaN: no supply in the catchment); supply_ratio: float64 per supply
    point, R_j (NaN: no demand in its catchment); weighted_demand: the denominator of R_j; report: the
    conservation report and counts (see :attr:`conservation`)."""

    score: np.ndarray
    supply_ratio: np.ndarray
    weighted_demand: np.ndarray
    method: str
    report: dict = field(default_factory=dict)

    @property
    def conservation(self) -> dict:
        """Σ demand × score against Σ supply over the supplies with demand in reach."""
        keys = ("supply_total", "supply_with_demand", "demand_times_score", "conservation_relative_error",
                "zero_demand_supplies", "empty_catchments")
        return {k: self.report[k] for k in keys}

    def __repr__(self) -> str:
        r = self.report
        return (f"AccessResult({self.method}, {self.score.size} demand points ({r['empty_catchments']} with no "
                f"supply in reach), {self.supply_ratio.size} supply points ({r['zero_demand_supplies']} with no "
                f"demand in reach), conservation error {r['conservation_relative_error']:.2e})")


def _resolve(method, max_cost, weights, beta, min_cost, scale=1.0):
    """(core method, weight spec dict, callable or None). `scale` converts the user's cost unit into the
    unit of the costs given to the core (60 for minutes → seconds)."""
    if method not in FCA_METHODS:
        raise InputError(f"method={method!r}: expected one of {', '.join(FCA_METHODS)}")
    core_method = "three" if method == "3sfca" else "two"
    if callable(weights):
        if method in ("g2sfca", "gravity"):
            raise InputError(f"method={method!r} has its own weights; pass a callable with method='2sfca' or '3sfca'")
        return core_method, {"kind": "binary"}, weights
    if weights is not None:
        if method in ("g2sfca", "gravity"):
            raise InputError(f"method={method!r} has its own weights; step weights go with '2sfca', 'e2sfca', '3sfca'")
        if not isinstance(weights, dict) or not weights:
            raise InputError("weights: expected a non-empty step dict {upper_bound: weight} (bounds inclusive) "
                             "or a callable on an array of costs")
        items = sorted((float(k), float(v)) for k, v in weights.items())
        return core_method, {"kind": "steps", "upper": [k * scale for k, _ in items],
                             "weight": [v for _, v in items]}, None
    if method == "2sfca":
        return core_method, {"kind": "binary"}, None
    if method in ("e2sfca", "3sfca"):
        if not np.isfinite(max_cost) or max_cost <= 0:
            raise InputError(f"method={method!r} with the default Luo & Qi steps needs a finite max_cost > 0 "
                             f"(got {max_cost}); or pass weights={{bound: weight, ...}}")
        m = max_cost * scale
        return core_method, {"kind": "steps", "upper": [m / 3, 2 * m / 3, m],
                             "weight": list(LUO_QI_STEPS_MIN.values())}, None
    if method == "g2sfca":
        return core_method, {"kind": "gaussian", "size": 0.0}, None
    # gravity
    if min_cost is None:
        min_cost = 1.0
    return core_method, {"kind": "power", "beta": float(beta), "min_cost": float(min_cost) * scale}, None


def _pair_weights(fn, cost, in_catch):
    """Evaluates a user weight function ONCE on the array of in-catchment costs."""
    w = np.zeros(cost.shape, dtype=np.float64)
    if in_catch.any():
        got = np.asarray(fn(cost[in_catch]), dtype=np.float64)
        if got.shape != (int(in_catch.sum()),):
            raise InputError(f"weights callable returned shape {got.shape}; it must return one weight per cost "
                             f"(shape ({int(in_catch.sum())},))")
        bad = ~(np.isfinite(got) & (got >= 0))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"weights callable returned {got[i]} for cost {cost[in_catch][i]}; weights must be "
                             f"finite and >= 0")
        w[in_catch] = got
    return w


def accessibility(demand, supply, origin, dest, cost, *, method="2sfca", max_cost, weights=None, beta=1.0,
                  min_cost=None, normalize=False) -> AccessResult:
    """Floating catchment accessibility with the full report.

    Parameters
    ----------
    demand : (n_demand,) demand per demand point (population), finite, >= 0.
    supply : (n_supply,) supply per supply point (beds, doctors), finite, >= 0.
    origin, dest, cost : parallel arrays of the sparse cost table: demand index, supply index, cost (any unit,
        the same as ``max_cost`` and the step bounds; +inf = unreachable, never in a catchment). Each
        (demand, supply) pair at most once.
    method : "2sfca" (Luo & Wang 2003; with ``weights`` any weighted 2SFCA), "e2sfca" (Luo & Qi 2009, default
        steps: thirds of the catchment → 1.00 / 0.68 / 0.22, i.e. 0–10/10–20/20–30 for max_cost=30),
        "g2sfca" (Dai 2010 Gaussian reaching 0 at max_cost), "3sfca" (Wan et al. 2012, default Luo & Qi steps),
        "gravity" (weights max(cost, min_cost)^-beta, competition through the demand potential).
    max_cost : inclusive catchment size (``np.inf`` for no limit, e.g. with "gravity").
    weights : step dict ``{upper_bound: weight}`` (bounds inclusive, weight 0 beyond the last) or a callable
        mapping an array of costs to weights, called once on the in-catchment costs.
    beta, min_cost : gravity exponent and the clamp of small costs (default 1 cost unit), so a demand point
        at cost 0 from a facility gets weight min_cost^-beta instead of infinity.
    normalize : divide scores by the population-weighted mean score.
    """
    demand = np.ascontiguousarray(demand, dtype=np.float64)
    supply = np.ascontiguousarray(supply, dtype=np.float64)
    cost = np.ascontiguousarray(cost, dtype=np.float64)
    max_cost = float(max_cost)
    core_method, spec, fn = _resolve(method, max_cost, weights, beta, min_cost)
    pw = None
    if fn is not None:
        if cost.ndim != 1:
            raise InputError(f"cost: expected a 1-D array, got {cost.ndim} dimensions")
        pw = _pair_weights(fn, cost, (cost <= max_cost) & np.isfinite(cost))  # inf = unreachable
    r = _core.fca(demand, supply, np.asarray(origin), np.asarray(dest), cost, core_method, max_cost, spec, pw,
                  bool(normalize), progress=current_progress())
    score, ratio, wd = r.pop("score"), r.pop("supply_ratio"), r.pop("weighted_demand")
    return AccessResult(score, ratio, wd, method, r)


def fca(demand, supply, origin, dest, cost, *, method="2sfca", max_cost, weights=None, beta=1.0, min_cost=None,
        normalize=False) -> np.ndarray:
    """Floating catchment accessibility score per demand point (float64; NaN = no supply in the catchment).

    The array-level contract for comparison with published implementations; see :func:`accessibility` for
    the parameters and for the supply ratios and conservation report."""
    return accessibility(demand, supply, origin, dest, cost, method=method, max_cost=max_cost, weights=weights,
                         beta=beta, min_cost=min_cost, normalize=normalize).score


@dataclass
class GridAccessResult:
    """Result of :func:`grid_accessibility`.

    score: float64 (H, W) per cell (NaN: no population, or no facility within the catchment);
    supply_ratio: per facility (supply per resident of its weighted catchment; NaN: nobody in reach);
    zones: DataFrame per zone (population-weighted mean score, population, population with no facility in
    reach) or None; report: counts, conservation, pairs and bytes of the reach lists, timings."""

    score: np.ndarray
    supply_ratio: np.ndarray
    weighted_demand: np.ndarray
    method: str
    zones: object = None
    report: dict = field(default_factory=dict)
    grid: object = None  #: the careshed.Grid when the friction came as a FrictionSurface

    @property
    def conservation(self) -> dict:
        keys = ("supply_total", "supply_with_demand", "demand_times_score", "conservation_relative_error",
                "zero_demand_supplies", "empty_catchments")
        return {k: self.report[k] for k in keys}

    def to_geotiff(self, path, grid=None, *, per=1000.0):
        """Writes the score per cell × ``per`` (default: per 1000 residents) as a Cloud-Optimised GeoTIFF
        (float32, NaN nodata: no population or no facility in reach), atomically. ``grid`` defaults to the
        friction surface's grid."""
        grid = grid if grid is not None else self.grid
        if grid is None:
            raise InputError("to_geotiff: give the grid (the friction was a plain array, so its grid is unknown)")
        meta = {"CARESHED_METHOD": self.method, "UNITS": f"supply per {per:g} residents",
                "CARESHED_NODATA_RULE": "NaN = no population, or no facility within the catchment"}
        return write_geotiff(path, (self.score * per).astype(np.float32), grid, metadata=meta)


def grid_accessibility(friction, population, facilities_rc, supply, *, max_minutes, method="2sfca", weights=None,
                       cell_size_m=None, row_dx_m=None, zones=None, zone_ids=None, neighbours=8,
                       start_offsets_minutes=None, beta=1.0, min_minutes=None, normalize=False,
                       offsets_minutes=None, reach_lists=None) -> GridAccessResult:
    """Floating catchment accessibility on a grid.

    friction : a :class:`careshed.FrictionSurface` (cell sizes taken from its grid; on a lon/lat grid the
        per-row cell widths in metres) or a 2-D array of seconds per metre (NaN impassable; then give
        ``cell_size_m=(dx, dy)``, and ``row_dx_m`` per-row widths for lon/lat grids).
    population : (H, W) residents per cell (NaN / 0: no demand).
    facilities_rc : (n, 2) integer (row, col) cells of the facilities; supply: (n,) amounts (e.g. beds).
    max_minutes : the catchment, inclusive, minutes of travel from the facility (raster cost rule of
        DESIGN.md, each facility searched alone, start offsets ``start_offsets_minutes`` included;
        ``offsets_minutes=`` is its former name, deprecated).
    method, weights, beta : as :func:`accessibility`, with step bounds in MINUTES and a callable receiving
        minutes. min_minutes: gravity clamp (default 1 minute).
    zones : optional int (H, W) zone index grid (-1 = none); ``zone_ids`` names the zones (default 0..n-1).
    reach_lists : optional ``(offsets, cells, seconds)`` of every facility's cells within max_minutes (the form of
        :func:`careshed.arrays.travel_time_grid_reach_lists`, start offsets included), searched by the caller — e.g.
        on terrain (:func:`careshed.arrays.terrain.terrain_reach_lists`) or tile by tile on Dask
        (:func:`careshed.tiled.reach_lists_tiled`); the friction then only gives the grid. Without a callable weight
        the model is grid_fca's own (``_core.grid_fca_on_reach``): the in-memory lists give its result bit for bit.
    Scores are supply per resident (× 1000 for "beds per 1000").
    """
    grid = None
    if hasattr(friction, "seconds_per_metre"):  # a careshed.FrictionSurface: cell sizes from its grid
        grid = friction.grid
        if cell_size_m is None:
            if grid.is_geographic:  # lon/lat: per-row cell widths in metres, mean cell height
                if row_dx_m is None:
                    row_dx_m = np.ascontiguousarray(grid.row_cell_widths_m(), dtype=np.float64)
                cell_size_m = (float(np.mean(row_dx_m)), float(np.mean(grid.row_cell_heights_m())))
            else:
                cell_size_m = grid.cell_size
        friction = friction.seconds_per_metre
    friction = np.asarray(friction)
    if friction.dtype != np.float32:
        friction = np.ascontiguousarray(friction, dtype=np.float64)
    if cell_size_m is None:
        raise InputError("cell_size_m: give (dx, dy) in metres when friction is a plain array")
    if np.isscalar(cell_size_m):
        cell_size_m = (float(cell_size_m), float(cell_size_m))
    dx, dy = (float(v) for v in cell_size_m)
    max_minutes = float(max_minutes)
    if not np.isfinite(max_minutes) or max_minutes < 0:
        raise InputError(f"max_minutes={max_minutes}: the catchment must be finite and >= 0")
    max_s = max_minutes * 60.0
    population = np.ascontiguousarray(population, dtype=np.float64)
    rc = np.ascontiguousarray(np.asarray(facilities_rc).reshape(-1, 2))
    supply = np.ascontiguousarray(supply, dtype=np.float64)
    start_offsets_minutes = renamed_keyword(start_offsets_minutes, offsets_minutes, "start_offsets_minutes",
                                            "offsets_minutes", "grid_accessibility")
    offsets = (None if start_offsets_minutes is None
               else np.ascontiguousarray(start_offsets_minutes, dtype=np.float64) * 60.0)
    zone_args = None
    if zones is not None:
        if zone_ids is None and getattr(zones, "ids", None) is not None:   # a careshed.ZoneRaster names its zones
            zone_ids = list(zones.ids)
        zone, split_cell, split_zone, split_fraction, n_zones = zone_arrays(zones, population.shape)
        if n_zones is None:
            n_zones = int(zone.max()) + 1 if zone.size else 0
        if (zone < -1).any() and not split_cell.size:
            raise InputError("zones: indices below -1 mark split cells; pass the careshed.ZoneRaster itself so their "
                             "fractions are used")
        if zone_ids is not None:
            zone_ids = list(zone_ids)
            if len(zone_ids) < n_zones:
                raise InputError(f"zone_ids: {len(zone_ids)} names for zone indices up to {n_zones - 1}")
            n_zones = len(zone_ids)
        zone_args = (zone, split_cell, split_zone, split_fraction, n_zones)
    core_method, spec, fn = _resolve(method, max_minutes, weights, beta, min_minutes, scale=60.0)
    lists = None
    if reach_lists is not None:
        lists = (np.ascontiguousarray(reach_lists[0], dtype=np.int64),
                 np.ascontiguousarray(reach_lists[1], dtype=np.uint32),
                 np.ascontiguousarray(reach_lists[2], dtype=np.float32))
        if lists[0].shape != (len(supply) + 1,):
            raise InputError(f"reach_lists: {lists[0].shape[0] - 1} facilities' lists for {len(supply)} facilities")
    if fn is None and lists is None:
        r = _core.grid_fca(friction, dx, dy, row_dx_m, population, rc, supply, max_s, core_method, spec, neighbours,
                           offsets, None, 0, bool(normalize), progress=current_progress())
    elif fn is None:
        # Lists the caller searched (terrain, tiles on Dask): grid_fca's own model on them, so the lists of the
        # in-memory searches give grid_fca's result bit for bit.
        r = _core.grid_fca_on_reach(population, supply, *lists, max_s, core_method, spec, bool(normalize),
                                    progress=current_progress())
    else:
        # A callable needs the costs in Python: search once, evaluate once on all pair times (minutes).
        first, cells, secs = lists if lists is not None else _core.access_reach_lists(
            friction, dx, dy, row_dx_m, rc, max_s, neighbours, offsets, progress=current_progress())
        demand = np.where(population > 0, population, 0.0).ravel()
        pw = _pair_weights(lambda m: fn(m), secs.astype(np.float64) / 60.0, np.ones(secs.shape, dtype=bool))
        r = _core.fca_reach(demand, supply, first, cells, secs, core_method, np.inf, spec, pw, False,
                            progress=current_progress())
        score = r["score"].reshape(population.shape)
        score[~(population > 0)] = np.nan
        r["empty_catchments"] = int(np.count_nonzero((population > 0) & np.isnan(score)))
        r["pairs"] = int(cells.size)
        r["reach_bytes"] = int(cells.nbytes + secs.nbytes + first.nbytes)
        if normalize:
            if not (r["mean_score"] > 0 and np.isfinite(r["mean_score"])):
                raise InputError(f"normalize: the population-weighted mean score is {r['mean_score']}")
            score /= r["mean_score"]
            r["normalized"] = True
        r["score"] = score
    score, ratio, wd = r.pop("score"), r.pop("supply_ratio"), r.pop("weighted_demand")
    table = None
    if zone_args is not None:
        r.update(_zone_means(score, population, zone_args))
        table = pd.DataFrame({
            "zone": zone_ids if zone_ids is not None else np.arange(n_zones),
            "score": r.pop("zone_score"),
            "population": r.pop("zone_population"),
            "population_no_access": r.pop("zone_population_no_access"),
        })
    return GridAccessResult(score, ratio, wd, method, table, r, grid)


def _zone_means(score, population, zone_args) -> dict:
    """Per zone: people (``zone_population``), people with no facility in reach (``zone_population_no_access``) and
    the population-weighted mean score over the people with access (``zone_score``, NaN when none) — three C++
    zonal sums (careshed.arrays.zonal's kernel; split cells count by their area fractions)."""
    pop = np.where(population > 0, population, 0.0)
    fin = np.isfinite(score)
    tot, none, acc = (np.asarray(_core.zonal_sum(np.ascontiguousarray(v, dtype=np.float64), *zone_args))
                      for v in (pop, np.where(fin, 0.0, pop), np.where(fin, pop * np.where(fin, score, 0.0), 0.0)))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(tot - none > 0, acc / (tot - none), np.nan)
    return {"zone_score": mean, "zone_population": tot, "zone_population_no_access": none}


def graph_accessibility(graph, demand_nodes, demand, facility_nodes, supply, *, max_minutes, method="2sfca",
                        weights=None, to_facility=True, beta=1.0, min_minutes=None, normalize=False) -> AccessResult:
    """Floating catchment accessibility on a road graph (:class:`careshed.network.Graph`, or anything with
    ``reach(sources, max_seconds, reverse=...)``).

    demand_nodes : (n_demand,) graph node of each demand point (several points may share a node; -1 = not on
        the graph, score NaN); demand: their population. facility_nodes / supply: the same for facilities.
    max_minutes : inclusive catchment in minutes. to_facility : True (default) measures travel from the
        demand point TO the facility (searches on the reversed graph), which differs on one-way streets.
    method, weights (bounds in minutes, callable on minutes), beta, min_minutes, normalize: as
    :func:`accessibility`. Costs come from bounded per-facility searches (sparse lists), never a matrix.
    """
    max_minutes = float(max_minutes)
    if not np.isfinite(max_minutes) or max_minutes < 0:
        raise InputError(f"max_minutes={max_minutes}: the catchment must be finite and >= 0")
    dn = np.asarray(demand_nodes, dtype=np.int64).ravel()
    fac = np.asarray(facility_nodes, dtype=np.int64).ravel()
    reach = graph.reach(fac, max_minutes * 60.0, reverse=bool(to_facility))
    first, nodes, secs = (np.asarray(a) for a in reach)
    n_nodes = int(max(nodes.max(initial=-1), dn.max(initial=-1))) + 1
    on = dn >= 0
    order = np.flatnonzero(on)[np.argsort(dn[on], kind="stable")]  # demand points grouped by node
    per_node = np.bincount(dn[on], minlength=n_nodes)
    node_first = np.concatenate([[0], np.cumsum(per_node)])
    cnt = per_node[nodes]  # demand points at each reached node
    fac_of_entry = np.repeat(np.arange(fac.size), np.diff(first))
    dest = np.repeat(fac_of_entry, cnt)
    cost_min = np.repeat(secs, cnt) / 60.0
    # index of each expanded entry inside its node's group of demand points
    start = np.repeat(node_first[nodes], cnt)
    within = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    origin = order[start + within]
    return accessibility(demand, supply, origin, dest, cost_min, method=method, max_cost=max_minutes,
                         weights=weights, beta=beta, min_cost=min_minutes, normalize=normalize)
