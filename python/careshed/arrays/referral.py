"""Facility levels and referral — array-level functions over the compiled core (core/include/careshed/referral.hpp).

Facilities carry a level in a user-defined order, lowest first (e.g. ``["village clinic", "township health
centre", "county hospital", "city tertiary hospital"]``). Over a friction grid (:func:`referral_grid`) or a
directed road graph (:func:`referral_graph` on edge lists, :func:`referral_road_graph` on a
:class:`careshed.RoadGraph` with its turn restrictions):

* per cell / node and level: seconds to the nearest facility of that level and its index — one multi-source
  search per level (the grid and graph engines of :mod:`careshed.arrays.travel_time` / ``network``);
* per facility: its referral target — the nearest facility of the NEXT level by travel time from it (read off
  that level's field: no extra search), or the facility ``assigned`` to it — with the seconds and the metres of
  the least-time route between them (retraced down the target's field), optionally the route itself.

:func:`two_leg_seconds` combines them: home → first contact (nearest facility of a level) → that facility's
referral target. Conventions (DESIGN.md): seconds and metres, ``inf`` / ``-1`` for none or unreachable, the
cut-off inclusive, ties to the lowest facility index. On graphs every time is TO the facility (searches on the
transposed graph), which matters on one-way streets.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _core
from ..errors import InputError
from ..memory import current as current_max_memory
from ..progress import current as current_progress
from .travel_time import prepare_search

__all__ = ["ReferralFields", "referral_grid", "referral_graph", "referral_road_graph", "level_codes", "two_leg_seconds"]


@dataclass
class ReferralFields:
    """What :func:`referral_grid` / :func:`referral_graph` return.

    levels : level names, lowest first (``seconds[l]`` belongs to ``levels[l]``).
    level : (n,) int32 level index of every facility.
    seconds : (L, H, W) float32 (grid; a strided view of the core's label buffer) or (L, n_nodes) float64
        (graph): seconds to the nearest facility of each level, ``inf`` unreachable.
    nearest : the same shape, int32 facility index, ``-1`` unreachable.
    target : (n,) int32 facility index of each facility's referral target, ``-1`` none; target_seconds,
        target_metres : (n,) float64 travel time and route length to it (``inf`` none; metres NaN when a grid
        route could not be retraced, see referral.hpp); assigned : (n,) bool, True when the target came from
        the assignment.
    routes : with ``keep_routes=True`` a list of n int64 arrays (flat cell ids ``row * W + col`` or node ids,
        from the facility to its target; empty when none), else None.
    """

    levels: list
    level: np.ndarray
    seconds: np.ndarray
    nearest: np.ndarray
    target: np.ndarray
    target_seconds: np.ndarray
    target_metres: np.ndarray
    assigned: np.ndarray
    routes: list | None = None

    def level_index(self, name) -> int:
        """The index of a level given by name (or already an index)."""
        if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
            if 0 <= int(name) < len(self.levels):
                return int(name)
        elif str(name) in [str(v) for v in self.levels]:
            return [str(v) for v in self.levels].index(str(name))
        raise InputError(f"level {name!r} is not one of the levels ({', '.join(map(str, self.levels))})")


def level_codes(levels, level_order=None) -> tuple[np.ndarray, list]:
    """(int32 level index per facility, level names lowest first) from per-facility level names or indices.

    With names, `level_order` lists every level lowest first (it may name levels no facility has: they get an
    all-unreachable field). With integers, `level_order` (optional) names levels 0, 1, ...; default
    ``["0", "1", ..., max]``."""
    raw = np.asarray(levels)
    if raw.ndim != 1:
        raise InputError(f"levels: expected one level per facility (a 1-D list), got shape {raw.shape}")
    if level_order is not None:
        order = [str(v) for v in level_order]
        if not order:
            raise InputError("level_order: give the level names lowest first, e.g. ['village clinic', "
                             "'township health centre', 'county hospital', 'city tertiary hospital']")
        if len(set(order)) != len(order):
            dup = next(v for v in order if order.count(v) > 1)
            raise InputError(f"level_order: level {dup!r} is listed twice")
    if raw.size and raw.dtype.kind in "iu":
        codes = raw.astype(np.int64)
        n_levels = len(level_order) if level_order is not None else int(codes.max()) + 1
        bad = np.flatnonzero((codes < 0) | (codes >= n_levels))
        if bad.size:
            i = int(bad[0])
            raise InputError(f"levels: facility {i} has level {codes[i]}; levels are 0..{n_levels - 1}"
                             + (f" ({', '.join(order)})" if level_order is not None else ""))
        names = order if level_order is not None else [str(k) for k in range(n_levels)]
        return np.ascontiguousarray(codes, dtype=np.int32), names
    if raw.size and raw.dtype.kind == "f":
        raise InputError("levels: give level names (with level_order) or integer level indices, not fractions")
    if level_order is None:
        raise InputError("levels: with level names, give level_order= — every level name lowest first, e.g. "
                         "['village clinic', 'township health centre', 'county hospital', 'city tertiary "
                         "hospital']")
    index = {name: k for k, name in enumerate(order)}
    codes = np.empty(raw.size, dtype=np.int32)
    for i, v in enumerate(raw.tolist()):
        k = index.get(str(v))
        if k is None:
            raise InputError(f"levels: facility {i} has level {v!r}, which is not in level_order ({', '.join(order)}); "
                             "add it there or correct the facility's level")
        codes[i] = k
    return codes, order


def _assigned(assigned, n: int) -> np.ndarray | None:
    if assigned is None:
        return None
    a = np.asarray(assigned)
    if a.shape != (n,):
        raise InputError(f"assigned: expected one value per facility ({n}), got shape {a.shape}")
    if a.size and a.dtype.kind == "f":
        if np.any(np.isfinite(a) & (a != np.round(a))):
            raise InputError("assigned: facility indices must be whole numbers (-1 or NaN: the nearest of the next level)")
        a = np.where(np.isnan(a), -1, a)
    elif a.size and a.dtype.kind not in "iub":
        raise InputError(f"assigned: expected facility indices (int, -1 = nearest of the next level), got dtype {a.dtype}")
    return np.ascontiguousarray(a, dtype=np.int32)


def _max_seconds(max_seconds) -> float:
    if max_seconds is None:
        return math.inf
    t = float(max_seconds)
    if math.isnan(t) or t < 0:
        raise InputError(f"max_seconds must be >= 0 seconds (or None for no cut-off); got {max_seconds!r}")
    return t


def _routes(d: dict, n: int) -> list | None:
    if "route_first" not in d:
        return None
    first, items = d["route_first"], d["route_items"]
    return [items[first[i]:first[i + 1]] for i in range(n)]


def referral_grid(friction, facilities, levels, *, cell_size, level_order=None, assigned=None, max_seconds=None,
                  neighbours=8, keep_routes=False, threads=0) -> ReferralFields:
    """Referral on a friction grid (seconds per metre, r.cost rule; NaN impassable).

    Parameters
    ----------
    friction : (H, W) float array; cell_size : (dx, dy) metres (dx may be per row), as :func:`travel_time_grid`.
    facilities : (n, 2) int (row, col) of every facility.
    levels : (n,) level name (with `level_order`) or level index per facility; see :func:`level_codes`.
    assigned : optional (n,) facility index of each facility's assigned referral target, -1 (or NaN) for the
        nearest facility of the next level.
    max_seconds : inclusive cut-off of every search (None: none); neighbours : 8 or 16.
    keep_routes : also return the retraced routes (cell ids). threads : per search, 0 = automatic.
    """
    codes, names = level_codes(levels, level_order)
    f, s, dx, dy, row_dx, nb, t, _o = prepare_search(friction, facilities, cell_size, neighbours, max_seconds, None)
    if codes.size != s.shape[0]:
        raise InputError(f"levels: {codes.size} values for {s.shape[0]} facilities; give one level per facility")
    a = _assigned(assigned, s.shape[0])
    buf, d = _core._referral_grid(f, s, codes, len(names), a, dx, dy, row_dx, nb, t, bool(keep_routes), int(threads),
                                  progress=current_progress(), max_memory_bytes=current_max_memory())
    return ReferralFields(levels=names, level=codes, seconds=buf[..., 1].view(np.float32), nearest=buf[..., 0],
                    target=d["target"], target_seconds=d["seconds"], target_metres=d["metres"],
                    assigned=d["assigned"].astype(bool), routes=_routes(d, s.shape[0]))


def _facility_nodes(facility_nodes, codes):
    """The facilities' graph nodes as a checked 1-D integer array, one per level code."""
    nodes = np.asarray(facility_nodes)
    if nodes.ndim != 1 or (nodes.size and nodes.dtype.kind not in "iu"):
        raise InputError("facility_nodes: expected a 1-D array of integer node ids, one per facility")
    if codes.size != nodes.size:
        raise InputError(f"levels: {codes.size} values for {nodes.size} facilities; give one level per facility")
    return nodes


def referral_graph(n_nodes, tails, heads, seconds, length_m, facility_nodes, levels, *, level_order=None,
                   assigned=None, max_seconds=None, keep_routes=False) -> ReferralFields:
    """Referral on a directed graph: edge e goes ``tails[e] → heads[e]`` in ``seconds[e]`` over ``length_m[e]``
    metres (a :class:`careshed.RoadGraph`'s edges, or any). facility_nodes : (n,) node of every facility.
    Times are from a node TO the facility. Other arguments as :func:`referral_grid`."""
    codes, names = level_codes(levels, level_order)
    nodes = _facility_nodes(facility_nodes, codes)
    a = _assigned(assigned, nodes.size)
    secs, near, d = _core._referral_graph(int(n_nodes), np.asarray(tails, dtype=np.int64),
                                          np.asarray(heads, dtype=np.int64), np.asarray(seconds, dtype=np.float64),
                                          np.asarray(length_m, dtype=np.float64), nodes.astype(np.int64), codes,
                                          len(names), a, _max_seconds(max_seconds), bool(keep_routes),
                                          progress=current_progress())
    return ReferralFields(levels=names, level=codes, seconds=secs, nearest=near, target=d["target"],
                    target_seconds=d["seconds"], target_metres=d["metres"], assigned=d["assigned"].astype(bool),
                    routes=_routes(d, nodes.size))


def referral_road_graph(network, facility_nodes, levels, *, level_order=None, assigned=None, max_seconds=None,
                        keep_routes=False) -> ReferralFields:
    """Referral on a :class:`careshed.RoadGraph` (times from a node TO the facility), honouring its turn
    restrictions: the same as :func:`referral_graph` on ``network.edges`` when the graph has none.
    facility_nodes : (n,) graph node of every facility. Other arguments as :func:`referral_grid`."""
    codes, names = level_codes(levels, level_order)
    nodes = _facility_nodes(facility_nodes, codes)
    a = _assigned(assigned, nodes.size)
    secs, near, d = _core._referral_road_graph(network._g, nodes.astype(np.int64), codes, len(names), a,
                                               _max_seconds(max_seconds), bool(keep_routes),
                                               progress=current_progress())
    return ReferralFields(levels=names, level=codes, seconds=secs, nearest=near, target=d["target"],
                    target_seconds=d["seconds"], target_metres=d["metres"], assigned=d["assigned"].astype(bool),
                    routes=_routes(d, nodes.size))


def two_leg_seconds(referral: ReferralFields, first_contact=0) -> np.ndarray:
    """Per cell / node: seconds home → nearest facility of level `first_contact` (name or index) → that
    facility's referral target; ``inf`` when either leg is missing (float64, the shape of one level's field)."""
    k = referral.level_index(first_contact)
    t1 = np.asarray(referral.seconds[k], dtype=np.float64)
    first = np.asarray(referral.nearest[k])
    leg2 = np.append(referral.target_seconds, np.inf)   # index -1 -> inf
    return t1 + leg2[np.where(first >= 0, first, -1)]
