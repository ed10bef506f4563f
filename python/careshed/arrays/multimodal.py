"""Walk, then ride, then walk: one multi-source search over a walking grid and a riding graph.

:func:`travel_time_multimodal` runs the core's combined search (``core/include/careshed/multimodal.hpp``): every
grid cell and every ride node is a node; walking moves follow the r.cost rule on the friction (8 or 16
neighbours); ride arcs carry their own seconds (roads at a mode's speed, a ferry crossing with its waiting time
included); a ride node joined to a grid cell (``node_cells``) can be boarded from it (``board_minutes`` of its
mode) and left into it (``alight_minutes``). So each cell gets the best of walking all the way and walking to the
best boarding point, riding, and walking from the best alighting point — found together, not stitched from two
fields.

Returns per cell the seconds to (``direction="toward"``, default) or from (``"away"``) the nearest source, its
index, and the trip's mode (0 walking only, 1 + the highest ride mode used). Exact integer ticks, the grid
engine's own (walking alone gives :func:`careshed.arrays.travel_time_grid`'s ticks bit for bit); ties go to the
lowest source index, then to walking.

A maximum walking leg (``max_walk_seconds``; ``travel={"modes": ..., "max_walk_minutes": ...}`` on a Study): every
walking leg of a trip that rides — home to the boarding point, between two rides, alighting point to the facility —
walks at most that long (inclusive; transfer penalties and start offsets are not walking); a trip that walks all
the way is not capped (only ``max_seconds`` bounds it), as r5's maxWalkTime. Exact: the core's two-criteria engine
(``core/include/careshed/multimodal_walkcap.hpp``, one thread) runs when a cap is given.
"""
from __future__ import annotations

import math
import os
from typing import Mapping

import numpy as np

from .. import _core
from ..errors import InputError, UsageError
from ..io.qgis_styles import RasterStyle
from ..progress import current as current_progress
from .geometry import transform_xy
from .network import RoadGraph
from .travel_time import prepare_search
from .zonal import zonal_sum

__all__ = ["travel_time_multimodal", "ride_network", "ride_modes", "mode_split", "trip_mode_style",
           "trip_mode_legend", "RIDE_MODES", "TRIP_MODE_NODATA"]

#: The ride modes of :func:`ride_network`, by number; a cell's trip mode is 0 (walking only) or 1 + the highest
#: of these it uses (1 = walk + road, 2 = a trip with a ferry crossing).
RIDE_MODES = ("road", "ferry")
#: The trip-mode raster's value for unreachable cells.
TRIP_MODE_NODATA = 255
_TRIP_MODE_LABELS = ("walking only", "walk + road", "walk + ferry (and road)")
_TRIP_MODE_COLOURS = ("#66c2a5", "#fc8d62", "#8da0cb")  # ColorBrewer Set2: colour-blind safe


def trip_mode_legend() -> str:
    """The values of the trip-mode raster, as written in its metadata."""
    return ", ".join(f"{i} {lab}" for i, lab in enumerate(_TRIP_MODE_LABELS)) + f", {TRIP_MODE_NODATA} unreachable"


def trip_mode_style():
    """The QGIS style of the trip-mode raster (one class per value; nodata transparent)."""
    return RasterStyle("trip mode", tuple(float(i) for i in range(len(_TRIP_MODE_LABELS))), _TRIP_MODE_COLOURS,
                       _TRIP_MODE_LABELS, description="how the best trip to the nearest facility travels")


def _minutes(value, name) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}: {value!r} must be a number of minutes >= 0") from None
    if not (math.isfinite(v) and v >= 0):
        raise InputError(f"{name}: {value!r} must be a number of minutes >= 0")
    return v


def _seconds(value, name) -> float:
    """A number of seconds >= 0 (inf allowed: no limit)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}: {value!r} must be a number of seconds >= 0") from None
    if not v >= 0:
        raise InputError(f"{name}: {value!r} must be a number of seconds >= 0")
    return v


def _per_mode(value, name, n_modes) -> np.ndarray:
    """Minutes for every mode (a number) or one per mode (a sequence) -> seconds per mode."""
    if np.ndim(value) == 0:
        return np.full(n_modes, _minutes(value, name) * 60.0)
    vals = list(value)
    if len(vals) != n_modes:
        raise InputError(f"{name}: give one number of minutes per ride mode ({n_modes}), got {len(vals)}")
    return np.array([_minutes(v, f"{name}[{i}]") * 60.0 for i, v in enumerate(vals)])


def travel_time_multimodal(friction, sources, *, cell_size, ride_edges=None, node_cells=None, node_modes=None,
                           board_minutes=0.0, alight_minutes=0.0, max_seconds=None, start_offsets_seconds=None,
                           direction="toward", neighbours=8, max_walk_seconds=None, return_stats=False):
    """Seconds, nearest source and trip mode per cell of the combined walk + ride search (module docstring).

    Parameters
    ----------
    friction, sources, cell_size, neighbours, max_seconds, start_offsets_seconds : as
        :func:`careshed.arrays.travel_time_grid` (a metric grid: one dx for every row).
    ride_edges : (tails, heads, seconds) directed ride arcs between ride nodes 0..N-1, seconds >= 0; None = walk only.
    node_cells : (N, 2) int (row, col) of the cell where each ride node is boarded and left; (-1, -1) = none.
    node_modes : (N,) int, each node's ride mode 0..M-1 (e.g. :data:`RIDE_MODES`: 0 road, 1 ferry); None = all 0.
    board_minutes, alight_minutes : the transfer penalties (waiting for the bus, finding a motorbike): one number
        for every mode, or one per mode (M values).
    direction : "toward" (trips cell -> source, default) or "away" (source -> cell).
    max_walk_seconds : None (no cap) or the longest walking leg of a trip that rides, seconds >= 0 (inclusive; the
        module docstring gives the rule; a trip that walks all the way is not capped).
    return_stats : also return the search's figures (tick_seconds, cells_settled, nodes_settled, grid_rounds...).

    Returns
    -------
    seconds (H, W) float64 (inf unreachable), nearest (H, W) int32 (-1), mode (H, W) uint8: 0 = walking only
    (or unreachable), 1 + m = the trip rides and m is the highest mode it uses; (+ stats dict).
    """
    f, s, dx, dy, row_dx, nb, t, o = prepare_search(friction, sources, cell_size, neighbours, max_seconds,
                                                    start_offsets_seconds)
    if row_dx is not None:
        raise InputError("travel_time_multimodal: per-row cell widths (lon/lat grids) are not supported; use a "
                         "metric grid")
    if direction not in ("toward", "away"):
        raise InputError(f"direction {direction!r} is not one of toward, away")
    cap = math.inf if max_walk_seconds is None else _seconds(max_walk_seconds, "max_walk_seconds")
    rows, cols = f.shape
    if (ride_edges is None) != (node_cells is None):
        raise InputError("give ride_edges and node_cells together (or neither, to walk only)")
    if ride_edges is None:
        n_nodes, tails, heads, secs, cells = 0, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), \
            np.zeros(0, np.int64)
        modes = np.zeros(0, np.uint8)
        n_modes = 1 if np.ndim(board_minutes) == 0 else len(board_minutes)
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
        raw = np.zeros(n_nodes, np.int64) if node_modes is None else np.asarray(node_modes).ravel()
        if raw.shape != (n_nodes,) or (raw.size and raw.dtype.kind not in "iu"):
            raise InputError(f"node_modes must hold one integer mode per ride node ({n_nodes}); got shape {raw.shape}")
        n_modes = int(raw.max()) + 1 if raw.size else 1
        if np.ndim(board_minutes) or np.ndim(alight_minutes):
            n_modes = max(n_modes, len(board_minutes) if np.ndim(board_minutes) else len(alight_minutes))
        badm = np.flatnonzero((raw < 0) | (raw > 126))
        if badm.size:
            raise InputError(f"node_modes[{int(badm[0])}] = {raw[badm[0]]} is not a mode number 0..126")
        modes = np.ascontiguousarray(raw, dtype=np.uint8)
    board = _per_mode(board_minutes, "board_minutes", n_modes)
    alight = _per_mode(alight_minutes, "alight_minutes", n_modes)
    seconds, nearest, mode, stats = _core._multimodal_travel_time(
        f, s, dx, dy, n_nodes, tails, heads, secs, cells, modes, board, alight, t, o, direction == "toward", nb,
        max_walk_seconds=cap, progress=current_progress())
    return (seconds, nearest, mode, stats) if return_stats else (seconds, nearest, mode)


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
    ``(ride_edges, node_cells, node_modes)``, the modes numbered as :data:`RIDE_MODES` (0 road, 1 ferry).

    roads : a RoadGraph (e.g. ``RoadGraph.from_osm(pbf, "car")``): its arcs at their speeds, with its turn
        restrictions (the split graph of :meth:`careshed.RoadGraph.turn_arcs`: a node's copies, the node entered by
        a restricted turn, add ride nodes at its place); every node is a transfer point at the cell under it
        (getting out and boarding again, paying both penalties, starts afresh, as leaving the car would).
    ferries : a RoadGraph of the ferry routes (e.g. ``RoadGraph.from_lines("ferry.gpkg", class_field="route",
        profile={"ferry": 25})``): the crossing at the route's speed, plus ``ferry_wait_minutes`` on every arc
        leaving one of a route's two ends (the wait for the boat, once per crossing); only the ends are transfer
        points (the rest of a route is at sea).
    Nodes off the grid get no transfer. The two graphs are not joined directly: people change between them on
    foot at the ferry terminal's cell (boarding again costs ``board_minutes``).
    """
    wait = _minutes(ferry_wait_minutes, "ferry_wait_minutes") * 60.0
    tails, heads, secs, cells, modes = [], [], [], [], []
    base = 0
    for graph, is_ferry in ((roads, False), (ferries, True)):
        if graph is None:
            continue
        e = graph.edges
        # The arcs of the graph's turn-restriction split graph (its plain edges when it has none): a copy of a
        # node (ids >= n_nodes) is that node entered by a restricted turn, transferring at the node's cell.
        arcs = graph.turn_arcs()
        origin = np.asarray(arcs["copy_origin"], dtype=np.int64)
        t = np.asarray(arcs["tails"], dtype=np.int64)
        h = np.asarray(arcs["heads"], dtype=np.int64)
        s = np.asarray(e["seconds"], dtype=np.float64)[arcs["edge"]]
        nc = _node_cells(graph, grid)
        if is_ferry:
            line = np.asarray(e["line_id"], dtype=np.int64)[arcs["edge"]]
            at = np.concatenate([np.arange(graph.n_nodes), origin])  # every ride node's place (a copy: its origin)
            t_at, h_at = at[t], at[h]
            # A route's ends: nodes met by one segment of that route (count each undirected segment once).
            lo, hi = np.minimum(t_at, h_at), np.maximum(t_at, h_at)
            seg = np.unique(np.column_stack([line, lo, hi]), axis=0)
            ends_of = np.concatenate([seg[:, [0, 1]], seg[:, [0, 2]]])
            pairs, counts = np.unique(ends_of, axis=0, return_counts=True)
            ends = {(int(a), int(b)) for (a, b), k in zip(pairs, counts) if k == 1}
            leaving_end = np.array([(int(a), int(b)) in ends for a, b in zip(line, t_at)], dtype=bool)
            s[leaving_end] += wait
            terminal = np.zeros(graph.n_nodes, dtype=bool)
            terminal[[b for _, b in ends]] = True
            nc[~terminal] = -1
        nc = np.concatenate([nc, nc[origin]])
        tails.append(t + base)
        heads.append(h + base)
        secs.append(s)
        cells.append(nc)
        modes.append(np.full(len(nc), RIDE_MODES.index("ferry" if is_ferry else "road"), np.uint8))
        base += len(nc)
    if not tails:
        raise InputError("ride_network: give roads and/or ferries (careshed.RoadGraph)")
    return ((np.concatenate(tails), np.concatenate(heads), np.concatenate(secs)), np.concatenate(cells),
            np.concatenate(modes))


# Keys of one mode's entry in ``travel={"modes": {...}}`` (see :func:`ride_modes`).
_MODE_KEYS = {"road": ("network", "profile", "layer", "class_field", "speed_field", "oneway_field", "board_minutes",
                       "alight_minutes"),
              "ferry": ("network", "speed_kmh", "layer", "board_minutes", "alight_minutes", "wait_minutes")}


def _graph(entry, mode):
    """The RoadGraph of one mode's entry."""
    net = entry.get("network")
    if isinstance(net, RoadGraph):
        return net
    if net is None:
        raise UsageError(f"travel: modes[{mode!r}] needs a 'network': a careshed.RoadGraph or a file "
                         f"({'an OSM .osm.pbf / .osm extract or ' if mode == 'road' else ''}a line layer)")
    path = os.fspath(net)
    if mode == "ferry":
        speed = entry.get("speed_kmh")
        if speed is None:
            raise UsageError("travel: modes['ferry'] needs 'speed_kmh' (the boats' speed; a modelled value)")
        return RoadGraph.from_lines(path, layer=entry.get("layer"), class_field="route",
                                    profile={"ferry": float(speed)})
    profile = entry.get("profile", "car")
    if path.lower().endswith((".pbf", ".osm")):
        # the ferries are their own mode (modes["ferry"]): the road graph is read without the OSM ferry ways
        return RoadGraph.from_osm(path, profile, ferries=False)
    return RoadGraph.from_lines(path, layer=entry.get("layer"), speed_field=entry.get("speed_field"),
                                class_field=entry.get("class_field", None if entry.get("speed_field") else "highway"),
                                oneway_field=entry.get("oneway_field"), profile=profile)


def ride_modes(spec, grid, *, max_walk_minutes=None) -> dict:
    """The ride network of ``travel={"modes": spec}`` on `grid`, ready for :func:`travel_time_multimodal`.

    spec: ``{"road": {...}, "ferry": {...}}`` (either or both; names as :data:`RIDE_MODES`). Each entry is a
    careshed.RoadGraph / a file, or a dict with ``"network"`` (RoadGraph or file) and:

    * road: ``"profile"`` (``"car"`` default, ``"ambulance"``, ``"walking"``, a dict {highway class: km/h}) for an
      OSM extract (.osm.pbf / .osm) or a line layer (``"class_field"``, default ``"highway"``, or
      ``"speed_field"``; ``"layer"``, ``"oneway_field"``);
    * ferry: a line layer of the routes with a ``route`` field (OSM ``route=ferry``, e.g. data/comoros/ferry.gpkg),
      ``"speed_kmh"`` (required) and ``"wait_minutes"`` (the wait for the boat, once per crossing, default 0);
    * both: ``"board_minutes"`` and ``"alight_minutes"`` (the transfer penalties of that mode, default 0).

    max_walk_minutes: None, or the longest walking leg of a trip that rides (``travel={"max_walk_minutes": ...}``;
    see :func:`travel_time_multimodal`).

    Returns {"edges", "node_cells", "node_modes", "board_minutes", "alight_minutes" (per mode),
    "max_walk_seconds" (None: no cap), "notes"}.
    """
    if not isinstance(spec, Mapping) or not spec:
        raise UsageError("travel: 'modes' must be a dict such as {'road': {'network': 'roads.osm.pbf', "
                         "'board_minutes': 5}, 'ferry': {'network': 'ferry.gpkg', 'speed_kmh': 25}}")
    unknown = [k for k in spec if k not in RIDE_MODES]
    if unknown:
        raise UsageError(f"travel: modes has {unknown[0]!r}; the ride modes are {', '.join(RIDE_MODES)}")
    entries, graphs = {}, {}
    for mode in RIDE_MODES:
        if mode not in spec:
            continue
        entry = spec[mode]
        entry = dict(entry) if isinstance(entry, Mapping) else {"network": entry}
        bad = [k for k in entry if k not in _MODE_KEYS[mode]]
        if bad:
            raise UsageError(f"travel: modes[{mode!r}] has {bad[0]!r}; use {', '.join(_MODE_KEYS[mode])}")
        entries[mode] = entry
        graphs[mode] = _graph(entry, mode)
    edges, cells, modes = ride_network(grid, graphs.get("road"), graphs.get("ferry"),
                                       ferry_wait_minutes=entries.get("ferry", {}).get("wait_minutes", 0.0))
    board = [_minutes(entries.get(m, {}).get("board_minutes", 0.0), f"modes[{m!r}] board_minutes")
             for m in RIDE_MODES]
    alight = [_minutes(entries.get(m, {}).get("alight_minutes", 0.0), f"modes[{m!r}] alight_minutes")
              for m in RIDE_MODES]
    notes = []
    for i, mode in enumerate(RIDE_MODES):
        if mode not in graphs:
            continue
        n = int((modes == i).sum())
        transfers = int(((modes == i) & (cells[:, 0] >= 0)).sum())
        text = (f"walk then ride: {mode} network of {n:,} nodes ({transfers:,} transfer points on the grid), board "
                f"{board[i]:g} min, alight {alight[i]:g} min")
        if mode == "ferry":
            text += (f", boats at {float(entries['ferry']['speed_kmh']):g} km/h, wait "
                     f"{_minutes(entries['ferry'].get('wait_minutes', 0.0), 'wait_minutes'):g} min per crossing "
                     "(modelled)")
        notes.append(text)
    max_walk_s = None
    if max_walk_minutes is not None:
        max_walk_s = _minutes(max_walk_minutes, "travel: max_walk_minutes") * 60.0
        notes.append(f"walk then ride: every walking leg of a trip that rides (to the road, between rides, from the "
                     f"road to the facility) at most {max_walk_s / 60.0:g} min; trips that walk all the way are not "
                     "capped")
    return {"edges": edges, "node_cells": cells, "node_modes": modes, "board_minutes": board,
            "alight_minutes": alight, "max_walk_seconds": max_walk_s, "notes": notes}


def mode_split(mode, seconds, population, zones) -> np.ndarray:
    """People per zone by trip mode: (zones.n_zones + 1, 2 + len(RIDE_MODES)) float64 — columns walking only, each
    ride mode (the highest the trip uses), unreachable; rows the zones (cells weighted as the ZoneRaster counts
    them), then every populated cell of the grid."""
    pop = np.where(np.isfinite(population) & (population > 0), population, 0.0).astype(np.float64)
    cat = np.where(np.isfinite(seconds), mode, 1 + len(RIDE_MODES))
    cols = []
    for k in range(2 + len(RIDE_MODES)):
        people = np.where(cat == k, pop, 0.0)
        cols.append(np.append(zonal_sum(people, zones), math.fsum(people.ravel())))
    return np.column_stack(cols)
