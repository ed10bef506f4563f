"""Walk, then ride, then walk: one multi-source search over a walking grid and a riding graph.

:func:`travel_time_multimodal` runs the core's combined search (``core/include/careshed/multimodal.hpp``): every
grid cell and every ride node is a node; walking moves follow the r.cost rule on the friction (8 neighbours);
ride arcs carry their own seconds (roads at a mode's speed, a ferry crossing with its waiting time included);
a ride node joined to a grid cell (``node_cells``) can be boarded from it (``board_minutes``) and left into it
(``alight_minutes``). So each cell gets the best of walking all the way and walking to the best boarding point,
riding, and walking from the best alighting point — found together, not stitched from two fields.

Returns per cell the seconds to (``direction="toward"``, default) or from (``"away"``) the nearest source, its
index, and whether the best path rides. Plain binary-heap Dijkstra in double seconds (one thread, no tiling):
walking-only times equal :func:`careshed.arrays.travel_time_grid` to ~1e-9 relative, not bit for bit.
"""
from __future__ import annotations

import math

import numpy as np

from .. import _core
from ..errors import InputError
from ..progress import current as current_progress
from .geometry import transform_xy
from .travel_time import prepare_search

__all__ = ["travel_time_multimodal", "ride_network"]


def _minutes(value, name) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}: {value!r} must be a number of minutes >= 0") from None
    if not (math.isfinite(v) and v >= 0):
        raise InputError(f"{name}: {value!r} must be a number of minutes >= 0")
    return v


def travel_time_multimodal(friction, sources, *, cell_size, ride_edges=None, node_cells=None, board_minutes=0.0,
                           alight_minutes=0.0, max_seconds=None, start_offsets_seconds=None, direction="toward"):
    """Seconds, nearest source and "rides" per cell of the combined walk + ride search (module docstring).

    Parameters
    ----------
    friction, sources, cell_size, max_seconds, start_offsets_seconds : as :func:`careshed.arrays.travel_time_grid`
        (8 neighbours; a metric grid: one dx for every row).
    ride_edges : (tails, heads, seconds) directed ride arcs between ride nodes 0..N-1, seconds >= 0; None = walk only.
    node_cells : (N, 2) int (row, col) of the cell where each ride node is boarded and left; (-1, -1) = none.
    board_minutes, alight_minutes : the transfer penalties (waiting for the bus, finding a motorbike).
    direction : "toward" (trips cell -> source, default) or "away" (source -> cell).

    Returns
    -------
    seconds (H, W) float64 (inf unreachable), nearest (H, W) int32 (-1), rides (H, W) bool.
    """
    f, s, dx, dy, row_dx, _nb, t, o = prepare_search(friction, sources, cell_size, 8, max_seconds,
                                                     start_offsets_seconds)
    if row_dx is not None:
        raise InputError("travel_time_multimodal: per-row cell widths (lon/lat grids) are not supported; use a "
                         "metric grid")
    if direction not in ("toward", "away"):
        raise InputError(f"direction {direction!r} is not one of toward, away")
    rows, cols = f.shape
    if (ride_edges is None) != (node_cells is None):
        raise InputError("give ride_edges and node_cells together (or neither, to walk only)")
    if ride_edges is None:
        n_nodes, tails, heads, secs, cells = 0, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), \
            np.zeros(0, np.int64)
    else:
        try:
            tails, heads, secs = ride_edges
        except (TypeError, ValueError):
            raise InputError("ride_edges must be (tails, heads, seconds)") from None
        tails, heads = (np.ascontiguousarray(a, dtype=np.int64).ravel() for a in (tails, heads))
        secs = np.ascontiguousarray(secs, dtype=np.float64).ravel()
        rc = np.asarray(node_cells)
        if rc.ndim != 2 or rc.shape[1] != 2 or (rc.size and rc.dtype.kind not in "iu"):
            raise InputError(f"node_cells must be an (N, 2) integer array of (row, col); got shape {rc.shape}")
        rc = rc.astype(np.int64)
        none = (rc[:, 0] == -1) & (rc[:, 1] == -1)
        bad = np.flatnonzero(~none & ((rc[:, 0] < 0) | (rc[:, 0] >= rows) | (rc[:, 1] < 0) | (rc[:, 1] >= cols)))
        if bad.size:
            i = int(bad[0])
            raise InputError(f"node_cells[{i}] = ({rc[i, 0]}, {rc[i, 1]}) lies outside the {rows} x {cols} grid; "
                             "give (-1, -1) for a node without a transfer")
        cells = np.ascontiguousarray(np.where(none, -1, rc[:, 0] * cols + rc[:, 1]), dtype=np.int64)
        n_nodes = int(rc.shape[0])
        for name, ids in (("tails", tails), ("heads", heads)):
            out = np.flatnonzero((ids < 0) | (ids >= n_nodes))
            if out.size:
                raise InputError(f"ride_edges {name}[{int(out[0])}] = {ids[out[0]]} is not a ride node (0..{n_nodes - 1})")
        badw = np.flatnonzero(~(np.isfinite(secs) & (secs >= 0)))
        if badw.size:
            raise InputError(f"ride_edges seconds[{int(badw[0])}] = {secs[badw[0]]} must be finite and >= 0")
    seconds, nearest, rides, _stats = _core._multimodal_travel_time(
        np.ascontiguousarray(f, dtype=np.float64), s, dx, dy, n_nodes, tails, heads, secs, cells,
        _minutes(board_minutes, "board_minutes") * 60.0, _minutes(alight_minutes, "alight_minutes") * 60.0, t, o,
        direction == "toward", progress=current_progress())
    return seconds, nearest, rides.astype(bool)


def _node_cells(graph, grid) -> np.ndarray:
    """(N, 2) (row, col) of the grid cell under each graph node, (-1, -1) off the grid."""
    xy = graph.node_xy
    x, y = transform_xy(xy[:, 0], xy[:, 1], graph.crs_wkt, grid.crs) if len(xy) else (xy[:, 0], xy[:, 1])
    x0, dx, _, y0, _, dy = grid.transform
    col = np.floor((x - x0) / dx).astype(np.int64)
    row = np.floor((y - y0) / dy).astype(np.int64)
    inside = (row >= 0) & (row < grid.height) & (col >= 0) & (col < grid.width)
    return np.where(inside[:, None], np.column_stack([row, col]), -1)


def ride_network(grid, roads=None, ferries=None, *, ferry_wait_minutes=0.0):
    """The ride network of :func:`travel_time_multimodal` on `grid` from :class:`careshed.RoadGraph` s:
    ``(ride_edges, node_cells)``.

    roads : a RoadGraph (e.g. ``RoadGraph.from_osm(pbf, "car")``): its arcs at their speeds; every node is a
        transfer point at the cell under it.
    ferries : a RoadGraph of the ferry routes (e.g. ``RoadGraph.from_lines("ferry.gpkg", class_field="route",
        profile={"ferry": 25})``): the crossing at the route's speed, plus ``ferry_wait_minutes`` on every arc
        leaving one of a route's two ends (the wait for the boat, once per crossing); only the ends are transfer
        points (the rest of a route is at sea).
    Nodes off the grid get no transfer. The two graphs are not joined directly: people change between them on
    foot at the ferry terminal's cell (boarding again costs ``board_minutes``).
    """
    wait = _minutes(ferry_wait_minutes, "ferry_wait_minutes") * 60.0
    tails, heads, secs, cells = [], [], [], []
    base = 0
    for graph, is_ferry in ((roads, False), (ferries, True)):
        if graph is None:
            continue
        e = graph.edges
        t = np.asarray(e["tails"], dtype=np.int64)
        h = np.asarray(e["heads"], dtype=np.int64)
        s = np.asarray(e["seconds"], dtype=np.float64).copy()
        nc = _node_cells(graph, grid)
        if is_ferry:
            line = np.asarray(e["line_id"], dtype=np.int64)
            # A route's ends: nodes met by one segment of that route (count each undirected segment once).
            lo, hi = np.minimum(t, h), np.maximum(t, h)
            seg = np.unique(np.column_stack([line, lo, hi]), axis=0)
            ends_of = np.concatenate([seg[:, [0, 1]], seg[:, [0, 2]]])
            pairs, counts = np.unique(ends_of, axis=0, return_counts=True)
            ends = {(int(a), int(b)) for (a, b), k in zip(pairs, counts) if k == 1}
            leaving_end = np.array([(int(a), int(b)) in ends for a, b in zip(line, t)], dtype=bool)
            s[leaving_end] += wait
            terminal = np.zeros(graph.n_nodes, dtype=bool)
            terminal[[b for _, b in ends]] = True
            nc[~terminal] = -1
        tails.append(t + base)
        heads.append(h + base)
        secs.append(s)
        cells.append(nc)
        base += graph.n_nodes
    if not tails:
        raise InputError("ride_network: give roads and/or ferries (careshed.RoadGraph)")
    return (np.concatenate(tails), np.concatenate(heads), np.concatenate(secs)), np.concatenate(cells)
