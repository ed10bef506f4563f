"""Mobile outreach circuits — array-level functions (NumPy in, a :class:`Circuits` out).

The problem (defined in ``core/include/careshed/outreach.hpp`` and ``docs/outreach.md``): service points, each
needing ``visits`` visits a month of ``service_seconds`` on site, are served by teams, each with a base node,
``days`` working days a month and ``day_seconds`` per day. A day route leaves the base, visits distinct points and
comes back within the day (travel + service <= day_seconds, inclusive). Each point belongs to one team, which
visits it on ``visits`` distinct days. Minimised: total travel seconds + ``day_cost_seconds`` x team-days.

* :func:`plan_circuits` — the schedule: exact (route enumeration + MIP with CBC) or heuristic (savings + 2-opt /
  or-opt + moves between teams) with a proven lower bound and the gap to it; ``solver="auto"`` is exact when the
  route enumeration fits ``max_routes``.
  The heuristic's bound is the larger of the assignment bound and the column-generation bound.
* :func:`lower_bound` — the assignment relaxation + a bin-packing bound on team-days, alone (fast, weak).
* :func:`lp_bound` — the column-generation bound alone (the set-partitioning LP; 92-99.9 % of the optimum on the
  seeded 6 x 18 instances of the tests, against 65-80 % for the assignment bound).
* :func:`travel_matrix_grid` — point-to-point seconds between grid cells from the engine's per-source searches
  (one search per node), the matrix the planner takes.

Infeasible requests raise :class:`careshed.InputError` (a ``ValueError``) naming the point or team and what to
change; Ctrl-C stops a run (KeyboardInterrupt).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _core
from ..errors import InputError
from ..progress import current as current_progress
from .travel_time import travel_time_grid

__all__ = ["Circuits", "plan_circuits", "lower_bound", "lp_bound", "travel_matrix_grid"]


@dataclass(frozen=True)
class Circuits:
    """A month of circuits.

    ``routes``: one tuple per team-day ``(team, day, points)`` (``points`` in visiting order; ``day`` the team's
    0-based working day; copies of a route are spread over the month), with ``route_travel_seconds``,
    ``route_service_seconds`` and ``route_duration_seconds`` per route; ``point_team`` per point; ``objective``
    (travel + day cost), ``travel_seconds``, ``team_days``; ``bound`` (proven lower bound), ``relaxation_bound``,
    ``gap`` = (objective - bound) / objective, ``proven_optimal``, ``solver``, ``status``, ``bound_source``,
    ``routes_enumerated`` (exact: MIP columns), ``seconds_elapsed``; heuristic: ``lp_bound`` (the column-generation
    bound, NaN when not run), ``lp_converged``, ``lp_iterations``.
    """

    routes: list
    route_travel_seconds: np.ndarray
    route_service_seconds: np.ndarray
    route_duration_seconds: np.ndarray
    point_team: np.ndarray
    objective: float
    travel_seconds: float
    team_days: int
    bound: float
    relaxation_bound: float
    gap: float
    proven_optimal: bool
    solver: str
    status: str
    bound_source: str
    routes_enumerated: int
    seconds_elapsed: float
    lp_bound: float = math.nan
    lp_converged: bool = False
    lp_iterations: int = 0


def _problem_args(travel_seconds, point_node, team_base, team_days, team_day_seconds, service_seconds, visits,
                  day_cost_seconds):
    t = np.asarray(travel_seconds, dtype=np.float64)
    if t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise InputError(f"travel_seconds: expected a square (n_nodes, n_nodes) array, got shape {t.shape}")
    nodes = np.atleast_1d(np.asarray(point_node, dtype=np.int32))
    base = np.atleast_1d(np.asarray(team_base, dtype=np.int32))
    days = np.broadcast_to(np.asarray(team_days, dtype=np.int32), base.shape).copy()
    day_s = np.broadcast_to(np.asarray(team_day_seconds, dtype=np.float64), base.shape).copy()
    svc = np.atleast_1d(np.asarray(service_seconds, dtype=np.float64))
    vis = np.atleast_1d(np.asarray(visits))
    if vis.size and not np.all(np.equal(np.mod(vis, 1), 0)):
        raise InputError("visits: whole numbers of visits a month, please")
    return (np.ascontiguousarray(t), nodes, svc, vis.astype(np.int32), base, days, day_s), float(day_cost_seconds)


def plan_circuits(travel_seconds, point_node, team_base, team_days, team_day_seconds, *, service_seconds,
                  visits=1, day_cost_seconds=0.0, solver="auto", time_limit_s=None, max_routes=2_000_000,
                  local_search=True, bound_seconds=10.0) -> Circuits:
    """Each team's monthly circuit (see the module doc).

    Parameters
    ----------
    travel_seconds : (N, N) seconds from row node to column node (``inf``: no way), e.g. :func:`travel_matrix_grid`.
    point_node : (n,) node of each service point. team_base : (K,) node of each team's base.
    team_days, team_day_seconds : working days a month and seconds a day, per team or one for all.
    service_seconds, visits : per point or one for all (visits a month, >= 1).
    day_cost_seconds : objective cost of each team-day used (0: travel only).
    solver : "auto" (exact when the enumeration fits), "exact" (CBC) or "heuristic".
    time_limit_s : wall-clock limit of CBC / the improvement phase (None: none).
    bound_seconds : heuristic: wall-clock budget of the column-generation bound (0: the assignment bound only). The
        bound is valid whenever it stops (see :func:`lp_bound`).
    """
    args, day_cost = _problem_args(travel_seconds, point_node, team_base, team_days, team_day_seconds,
                                   service_seconds, visits, day_cost_seconds)
    d = _core.plan_outreach(*args, day_cost_seconds=day_cost, solver=str(solver),
                            time_limit_s=math.inf if time_limit_s is None else float(time_limit_s),
                            max_routes=int(max_routes), local_search=bool(local_search),
                            bound_seconds=float(bound_seconds), progress=current_progress())
    off, pts = d["route_offsets"], d["route_points"]
    routes = [(int(d["route_team"][r]), int(d["route_day"][r]), [int(p) for p in pts[off[r]:off[r + 1]]])
              for r in range(len(d["route_team"]))]
    return Circuits(routes=routes, route_travel_seconds=d["route_travel_seconds"],
                    route_service_seconds=d["route_service_seconds"],
                    route_duration_seconds=d["route_duration_seconds"], point_team=d["point_team"],
                    objective=d["objective"], travel_seconds=d["travel_seconds"], team_days=d["team_days"],
                    bound=d["bound"], relaxation_bound=d["relaxation_bound"], gap=d["gap"],
                    proven_optimal=d["proven_optimal"], solver=d["solver"], status=d["status"],
                    bound_source=d["bound_source"], routes_enumerated=d["routes_enumerated"],
                    seconds_elapsed=d["seconds_elapsed"], lp_bound=d["lp_bound"], lp_converged=d["lp_converged"],
                    lp_iterations=d["lp_iterations"])


def lower_bound(travel_seconds, point_node, team_base, team_days, team_day_seconds, *, service_seconds, visits=1,
                day_cost_seconds=0.0) -> float:
    """The assignment + bin-packing lower bound on the objective of any schedule (seconds)."""
    args, day_cost = _problem_args(travel_seconds, point_node, team_base, team_days, team_day_seconds,
                                   service_seconds, visits, day_cost_seconds)
    return float(_core.outreach_lower_bound(*args, day_cost_seconds=day_cost, progress=current_progress()))


def lp_bound(travel_seconds, point_node, team_base, team_days, team_day_seconds, *, service_seconds, visits=1,
             day_cost_seconds=0.0, seconds=10.0) -> tuple[float, bool, int]:
    """The column-generation lower bound on the objective of any schedule: (seconds, converged, master LP solves).

    The LP relaxation of the exact set-partitioning model, solved by column generation through CLP; pricing is an
    exact dynamic programme over a relaxed set of day routes (times rounded down to ticks, revisits allowed except
    straight back), so each round's Lagrangian bound is valid even when stopped at ``seconds`` (``-inf`` when no
    round finished). See careshed/outreach.hpp.
    """
    args, day_cost = _problem_args(travel_seconds, point_node, team_base, team_days, team_day_seconds,
                                   service_seconds, visits, day_cost_seconds)
    value, converged, iterations = _core.outreach_lp_bound(*args, day_cost_seconds=day_cost, seconds=float(seconds),
                                                           progress=current_progress())
    return float(value), bool(converged), int(iterations)


def travel_matrix_grid(friction, nodes, *, cell_size, max_seconds=None, neighbours=8) -> np.ndarray:
    """Seconds from each node's cell to every other node's cell, (N, N) float64 (``inf`` when unreachable or beyond
    ``max_seconds``; 0 on the diagonal): one search per distinct node cell (:func:`travel_time_grid` with that cell as
    the only source, so memory stays one grid), read at the other nodes' cells. ``nodes``: (N, 2) (row, col)."""
    src = np.ascontiguousarray(np.asarray(nodes, dtype=np.int64).reshape(-1, 2))
    cells, first = np.unique(src, axis=0, return_inverse=True)  # nodes sharing a cell (teams at one base): one search
    first = first.ravel()
    rows = np.full((cells.shape[0], src.shape[0]), np.inf)
    for a in range(cells.shape[0]):
        seconds, _ = travel_time_grid(friction, cells[a:a + 1], cell_size=cell_size, neighbours=neighbours,
                                      max_seconds=max_seconds)
        rows[a] = seconds[src[:, 0], src[:, 1]]
    out = rows[first]
    np.fill_diagonal(out, 0.0)
    return out
