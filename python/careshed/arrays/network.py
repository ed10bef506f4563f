"""Road networks: speed profiles, multi-source graph search, road graphs from OSM or line layers,
snapping points to the network, and the straight-line fallback.

Units everywhere: seconds for times, metres for distances, km/h for speeds. Unreachable is ``inf`` with
facility index ``-1``; cutoffs are inclusive; ties go to the lowest facility index (see DESIGN.md).

Quick start::

    import careshed
    g = careshed.RoadGraph.from_osm("data/comoros/comores-latest.osm.pbf", profile="ambulance")
    tt = g.travel_time(facility_lonlat, points_xy=village_lonlat, max_seconds=3600)
    tt.seconds, tt.nearest          # per village: seconds to the nearest facility, its index
"""
import math
import os
from dataclasses import dataclass
from typing import NamedTuple, Optional

import numpy as np

from .. import _core
from ..progress import current as current_progress
from ..errors import InputError, deprecated_alias, renamed_keyword
from .geometry import transform_xy
from .time_of_day import checked_factor
from .travel_time import checked_start_offsets

SpeedProfile = _core.SpeedProfile
parse_maxspeed = _core.parse_maxspeed

__all__ = ["SpeedProfile", "parse_maxspeed", "travel_time_graph", "Graph", "RoadGraph", "RoadTravelTime",
           "graph_travel_time_grid",
           "travel_time_straight_line", "travel_time_straight_line_grid", "profiles",
           # deprecated (one release)
           "graph_travel_time", "straight_line_travel_time", "straight_line_grid_travel_time"]


def _start_offsets(start_offsets_seconds, source_offsets, sources, where):
    """The checked start offsets of a graph search (the former keyword ``source_offsets=`` warns)."""
    offsets = renamed_keyword(start_offsets_seconds, source_offsets, "start_offsets_seconds", "source_offsets", where,
                              stacklevel=4)
    n = np.shape(sources)[0] if offsets is not None and np.ndim(sources) >= 1 else None
    return offsets if n is None else checked_start_offsets(offsets, n)


def profiles():
    """The shipped speed profiles as plain dicts ``{name: {class: km/h}}`` (copies; edit freely and build a
    SpeedProfile from one with ``SpeedProfile(name, table)``)."""
    return {name: dict(SpeedProfile.by_name(name).speeds_kmh) for name in ("car", "ambulance", "walking")}


def travel_time_graph(n_nodes, tails, heads, seconds, sources, *, start_offsets_seconds=None, max_seconds=None,
                      reverse=False, source_offsets=None):
    """Seconds to the nearest source and that source's index, for every node of a directed graph.

    One multi-source Dijkstra over the edges ``tails[i] -> heads[i]`` costing ``seconds[i]`` (finite, >= 0;
    zero-cost edges, parallel edges and self loops are fine).

    Parameters
    ----------
    n_nodes : int
        Number of nodes; ids are 0 .. n_nodes-1.
    tails, heads : 1-D integer arrays (int32 or int64 are read without copying)
    seconds : 1-D float64 array, seconds per edge
    sources : 1-D integer array of node ids (facilities). A node may appear twice.
    start_offsets_seconds : optional 1-D float array, seconds added at each source before travel (dispatch +
        turnout). ``source_offsets=`` is its former name (deprecated).
    max_seconds : optional inclusive cutoff in seconds; nodes farther are unreachable.
    reverse : False for time FROM the sources (ambulance to patient), True for time TO them
        (patient to hospital); they differ on one-way streets.

    Returns
    -------
    (seconds, nearest) : float64 (n_nodes,) with ``inf`` where unreachable, int32 (n_nodes,) with the
    index into ``sources`` of the nearest source (ties -> lowest index) or -1.

    Raises careshed.InputError for out-of-range ids, negative/NaN/infinite costs, bad offsets or shapes.
    The GIL is released during the search.
    """
    offsets = _start_offsets(start_offsets_seconds, source_offsets, sources, "travel_time_graph")
    return _core.graph_travel_time(n_nodes, tails, heads, seconds, sources, source_offsets=offsets,
                                   max_seconds=max_seconds, reverse=reverse, progress=current_progress())


class SourceReach(NamedTuple):
    """Per-source bounded search results in CSR form: the nodes of source j are
    ``nodes[first[j]:first[j+1]]`` (sorted by node id) with their ``seconds``."""
    first: np.ndarray
    nodes: np.ndarray
    seconds: np.ndarray

    def of(self, j):
        """(nodes, seconds) reached by source j."""
        return self.nodes[self.first[j]:self.first[j + 1]], self.seconds[self.first[j]:self.first[j + 1]]


def _core_attribute(name: str, doc: str | None = None) -> property:
    """A read-only property returning attribute ``name`` of the wrapped compiled object (``self._g``)."""
    return property(lambda self: getattr(self._g, name), doc=doc)


class Graph:
    """A prepared directed graph (CSR, seconds per edge) for repeated searches: build once, then run
    :meth:`travel_time`, :meth:`k_nearest` or :meth:`reach` as often as needed. The transposed graph for
    ``reverse=True`` is built on first use. Same conventions as :func:`travel_time_graph`."""

    def __init__(self, n_nodes, tails, heads, seconds):
        self._g = _core.CsrGraph(n_nodes, tails, heads, seconds)

    n_nodes = _core_attribute("n_nodes")
    n_edges = _core_attribute("n_edges")

    def __repr__(self):
        return f"Graph({self.n_nodes} nodes, {self.n_edges} directed edges)"

    def travel_time(self, sources, *, start_offsets_seconds=None, max_seconds=None, reverse=False,
                    source_offsets=None):
        """(seconds, nearest) per node from one multi-source search."""
        offsets = _start_offsets(start_offsets_seconds, source_offsets, sources, "Graph.travel_time")
        return self._g.nearest(sources, source_offsets=offsets, max_seconds=max_seconds, reverse=reverse,
                               progress=current_progress())

    def k_nearest(self, sources, k, *, start_offsets_seconds=None, max_seconds=None, reverse=False,
                  source_offsets=None):
        """The k nearest distinct sources per node: (seconds, nearest) of shape (n_nodes, k), ordered by
        (seconds, source index); missing entries inf / -1. Column 0 equals :meth:`travel_time`."""
        offsets = _start_offsets(start_offsets_seconds, source_offsets, sources, "Graph.k_nearest")
        return self._g.k_nearest(sources, k, source_offsets=offsets, max_seconds=max_seconds,
                                 reverse=reverse)

    def reach(self, sources, max_seconds, *, start_offsets_seconds=None, reverse=False, source_offsets=None):
        """Every node within max_seconds (inclusive) of each source separately, as a SourceReach
        (sparse lists), computed in parallel across sources."""
        offsets = _start_offsets(start_offsets_seconds, source_offsets, sources, "Graph.reach")
        return SourceReach(*self._g.reach(sources, max_seconds, source_offsets=offsets, reverse=reverse))


class Components(NamedTuple):
    """Connected components: ``id`` per node (0 = largest), ``sizes`` (nodes per component, descending)."""
    id: np.ndarray
    sizes: np.ndarray


class SnapResult(NamedTuple):
    """Per point: the graph ``node`` it snapped to (-1 when none within the limit), ``distance_m`` to it, and
    ``access_seconds`` = distance_m / (offroad_speed_kmh / 3.6), the off-network leg (inf when unsnapped)."""
    node: np.ndarray
    distance_m: np.ndarray
    access_seconds: np.ndarray


@dataclass
class RoadTravelTime:
    """Result of RoadGraph.travel_time (seconds; ``inf`` / ``-1`` where unreachable).

    node_seconds, node_nearest   per graph node: facility access leg + network time, facility index
    facility_node, facility_snap_m   where each facility snapped (-1 beyond max_snap_distance_m) and how far
    seconds, nearest             per demand point (None without points): node time + the point's own leg
    point_node, point_snap_m     where each point snapped and how far
    """
    node_seconds: np.ndarray
    node_nearest: np.ndarray
    facility_node: np.ndarray
    facility_snap_m: np.ndarray
    seconds: Optional[np.ndarray] = None
    nearest: Optional[np.ndarray] = None
    point_node: Optional[np.ndarray] = None
    point_snap_m: Optional[np.ndarray] = None


def _profile(profile):
    if isinstance(profile, (str, SpeedProfile)):
        return profile
    if isinstance(profile, dict):
        return SpeedProfile("custom", {str(k): float(v) for k, v in profile.items()})
    raise InputError("profile must be 'car', 'ambulance', 'walking', a SpeedProfile or a dict {class: km/h}")


class RoadGraph:
    """A routable road graph: every road vertex is a node, one or two directed edges per road segment with
    seconds = length / speed. Build it with :meth:`from_osm` or :meth:`from_lines` (see road_graph.hpp for
    the rules: one-way tags, maxspeed, excluded classes, geodesic vs projected lengths).

    Coordinates (``node_xy``, points to snap, facilities) are in the graph's CRS: lon/lat degrees for OSM
    extracts (``geographic`` is True; distances are then great-circle metres), else the layer's projected CRS.
    """

    def __init__(self, core_graph):
        self._g = core_graph

    # ---- construction ----
    @classmethod
    def from_osm(cls, path, profile="car", *, reader=None, turn_restrictions=True, ferries=True,
                 ferry_speed_kmh=20.0, ferry_wait_minutes=30.0):
        """From an OpenStreetMap extract (.osm.pbf / .osm).

        profile: "car", "ambulance", "walking", a SpeedProfile, or a dict {highway class: km/h}.
        reader: ``"osmium"`` (libosmium, the default for files) — ways meet where they share an OSM node (a bridge
            over a road stays apart), turn restrictions and ferries are read; or ``"gdal"`` (GDAL's OSM driver,
            the default and only choice for ``/vsi...`` paths) — vertices matched by coordinates, roads only.
            A truncated or corrupt file raises OSError naming it with either reader.
        turn_restrictions: honour ``restriction`` relations (no_* / only_*, via a node or via ways) for vehicle
            profiles, in every search of the graph (:meth:`travel_time`, :meth:`nearest_from_nodes`, :attr:`graph`'s
            k-nearest and per-source searches, referral, :meth:`turn_arcs` for walk + ride); see docs/network.md.
        ferries: ``route=ferry`` ways and ferry route relations become ferry edges (``edges["ferry"]``) at
            ``ferry_speed_kmh`` (or the way's ``duration``) plus ``ferry_wait_minutes`` when boarding.
        """
        path = os.fspath(path)
        vsi = path.startswith("/vsi")
        if reader is None:
            reader = "gdal" if vsi else "osmium"
        if reader not in ("osmium", "gdal"):
            raise InputError(f"reader={reader!r}: use reader='osmium' (libosmium, node identity, restrictions and "
                             "ferries) or reader='gdal' (GDAL's OSM driver)")
        if reader == "osmium" and vsi:
            raise InputError(f"reader='osmium' cannot open {path}: libosmium reads files only, not GDAL's /vsi... "
                             "virtual paths; give reader='gdal' (or leave reader out), or copy the file to disk")
        for name, value in (("ferry_speed_kmh", ferry_speed_kmh), ("ferry_wait_minutes", ferry_wait_minutes)):
            try:
                v = float(value)
            except (TypeError, ValueError):
                raise InputError(f"{name}={value!r} must be a number") from None
            if not math.isfinite(v) or v < 0 or (v == 0 and name == "ferry_speed_kmh"):
                raise InputError(f"{name}={value!r} must be finite and " +
                                 ("> 0 (e.g. 20)" if name == "ferry_speed_kmh" else ">= 0 (e.g. 30)"))
        return cls(_core.RoadGraph.from_osm(path, _profile(profile), reader=reader,
                                            turn_restrictions=bool(turn_restrictions), ferries=bool(ferries),
                                            ferry_speed_kmh=float(ferry_speed_kmh),
                                            ferry_wait_seconds=float(ferry_wait_minutes) * 60.0,
                                            progress=current_progress()))

    @classmethod
    def from_lines(cls, path, *, layer=None, speed_field=None, class_field=None, oneway_field=None,
                   profile="car"):
        """From any OGR line layer (GeoPackage, shapefile, PostGIS, ...).

        speed_field: km/h (numeric) or maxspeed-like text; class_field: looked up in the profile (classes not
        in it are excluded); oneway_field: yes/true/1/FT forward, -1/reverse/TF backward, else both ways.
        At least one of speed_field / class_field is required.
        """
        return cls(_core.RoadGraph.from_lines(str(path), layer or "", speed_field or "", class_field or "",
                                              oneway_field or "", _profile(profile)))

    @classmethod
    def from_xy_lines(cls, lines, speeds_kmh, *, oneway=None, geographic=False, crs_wkt=""):
        """From lines in memory: a list of (n_i, 2) coordinate arrays, or one (n_lines, n_vertices, 2) array
        (e.g. segments, fast), one speed (km/h) per line, and optionally one direction per line
        (1 forward, -1 backward, 0 both; default all 0)."""
        if isinstance(lines, np.ndarray):
            lines = np.ascontiguousarray(lines, dtype=np.float64)
        else:
            lines = [np.asarray(line, dtype=np.float64) for line in lines]
        directions = np.zeros(len(lines), np.int8) if oneway is None else np.asarray(oneway, dtype=np.int8)
        return cls(_core.RoadGraph.from_xy_lines(lines, np.asarray(speeds_kmh, np.float64), directions,
                                                 geographic, crs_wkt))

    # ---- properties ----
    n_nodes = _core_attribute("n_nodes")
    n_edges = _core_attribute("n_edges", "Directed edges (a two-way segment counts twice).")
    geographic = _core_attribute("geographic")
    crs_wkt = _core_attribute("crs_wkt")

    @property
    def node_xy(self):
        """(n_nodes, 2) float64 node coordinates in the graph CRS."""
        return np.column_stack([self._g.node_x, self._g.node_y])

    @property
    def edges(self):
        """Dict of per-directed-edge arrays (read-only views): tails, heads, seconds, length_m, speed_kmh,
        line_id (OSM way id or feature id), ferry (1 = a ferry crossing) and wait_seconds (the boarding wait
        included in seconds). These are the plain edges: turn restrictions are not in them."""
        g = self._g
        return {"tails": g.edge_tails, "heads": g.edge_heads, "seconds": g.edge_seconds,
                "length_m": g.edge_length_m, "speed_kmh": g.edge_speed_kmh, "line_id": g.edge_line_id,
                "ferry": g.edge_ferry, "wait_seconds": g.edge_wait_seconds, "class": g.edge_class}

    @property
    def class_names(self):
        """The road classes, indexed by ``edges["class"]``: OSM ``highway`` values, ``"ferry"``, a line layer's
        class field ("" for lines without one)."""
        return list(self._g.class_names)

    def with_speed_factors(self, factors=None, *, line_factors=None, edge_factors=None):
        """A new RoadGraph whose edges run at their speed x factor (time of day, congestion): the factor of the
        edge's class in `factors` ``{class: factor}`` (``"*"`` for every class not listed, absent classes 1),
        times its line's in `line_factors` ``{line id: factor}`` (e.g. a field of the road layer, read with
        :func:`careshed.arrays.time_of_day.line_factors_from_field`; lines not listed 1), times `edge_factors`
        (one per edge). A ferry's boarding wait does not scale. Turn restrictions are kept."""
        e = self.edges
        f = np.ones(self.n_edges)
        if factors:
            checked = {str(c): checked_factor(v, f"factors: class {c!r}") for c, v in factors.items()}
            default = checked.get("*", 1.0)
            by_class = np.array([checked.get(c, default) for c in self.class_names] or [1.0])
            f *= by_class[e["class"]]
        if line_factors:
            ids = np.array([int(k) for k in line_factors], dtype=np.int64)
            vals = np.array([checked_factor(v, f"line_factors: line {k}") for k, v in line_factors.items()])
            order = np.argsort(ids, kind="stable")
            ids, vals = ids[order], vals[order]
            at = np.minimum(np.searchsorted(ids, e["line_id"]), ids.size - 1)
            f *= np.where(ids[at] == e["line_id"], vals[at], 1.0)
        if edge_factors is not None:
            ef = np.asarray(edge_factors, dtype=np.float64)
            if ef.shape != (self.n_edges,):
                raise InputError(f"edge_factors: shape {ef.shape}; give one factor per edge ({self.n_edges})")
            f *= ef
        return RoadGraph(self._g.with_speed_factors(np.ascontiguousarray(f)))

    has_turn_restrictions = _core_attribute("has_turn_restrictions",
                                            "Whether searches honour turn restrictions (some were applied).")

    report = _core_attribute("report", "What the builder read and excluded (counts).")

    def __repr__(self):
        kind = "lon/lat" if self.geographic else "projected"
        return f"RoadGraph({self.n_nodes} nodes, {self.n_edges} directed edges, {kind})"

    # ---- analysis ----
    def components(self, strong=False):
        """Connected components: Components(id per node with 0 = largest, sizes).

        strong=False: weakly connected, edge directions ignored — islands and gaps in the data.
        strong=True: strongly connected — every node reaches every other; nodes outside the largest one are
        one-way traps or unreachable pockets (an ambulance can get in but not out, or the reverse).
        """
        return Components(*self._g.components(strong))

    def snap(self, points_xy, *, max_distance_m=None, offroad_speed_kmh=5.0, largest_component_only=False):
        """Nearest graph node of each point (n, 2), within max_distance_m (inclusive) if given, and the seconds
        of the straight off-network leg to it at offroad_speed_kmh (5 km/h: walking). Ties between equally
        near nodes go to the lowest node id. Returns SnapResult(node, distance_m, access_seconds)."""
        if not (np.isfinite(offroad_speed_kmh) and offroad_speed_kmh > 0):
            raise InputError(f"offroad_speed_kmh = {offroad_speed_kmh} must be finite and > 0 (e.g. 5 for walking)")
        node, dist = self._g.snap(points_xy, max_distance_m=max_distance_m,
                                  largest_component_only=largest_component_only)
        return SnapResult(node, dist, dist / (offroad_speed_kmh / 3.6))

    @property
    def graph(self):
        """A :class:`Graph` view of this road graph for searches on node ids — :meth:`Graph.travel_time`,
        :meth:`Graph.k_nearest` and :meth:`Graph.reach` (per-source bounded lists) — that honour the turn
        restrictions like every search of the RoadGraph (no copy: it shares this graph)."""
        view = Graph.__new__(Graph)
        view._g = self._g  # the compiled RoadGraph has the CsrGraph's search methods, restriction-aware
        return view

    def turn_arcs(self, *, to_sources=False):
        """The arcs of the turn-restriction split graph (road_graph.hpp; the one for searches FROM sources, or
        TO them with ``to_sources=True``), in the direction of travel, for engines that take an arc list
        (walk + ride, referral): dict of ``tails``, ``heads`` (node ids; ids >= n_nodes are copies of a node, restricted
        by the turns made to reach it), ``edge`` (the plain edge each arc drives: index ``edges[...]`` with it
        for seconds, lengths, ferry flags) and ``copy_origin`` (per copy, the node it copies: it sits at that
        node's place). A search over these arcs from original nodes, taking each node's best over itself and
        its copies, honours the restrictions in either direction. Without restrictions: the plain edges and no
        copies."""
        tails, heads, edge, origin = self._g.turn_arcs(to_sources=bool(to_sources))
        return {"tails": tails, "heads": heads, "edge": edge, "copy_origin": origin}

    def nearest_from_nodes(self, source_nodes, *, start_offsets_seconds=None, max_seconds=None, reverse=False,
                           source_offsets=None):
        """Multi-source search from graph node ids: (seconds, nearest) per node."""
        offsets = _start_offsets(start_offsets_seconds, source_offsets, source_nodes, "RoadGraph.nearest_from_nodes")
        return self._g.nearest(source_nodes, source_offsets=offsets, max_seconds=max_seconds, reverse=reverse,
                               progress=current_progress())

    def travel_time(self, facility_xy, points_xy=None, *, start_offsets_seconds=None, max_seconds=None,
                    reverse=False, offroad_speed_kmh=5.0, max_snap_distance_m=None, largest_component_only=False,
                    source_offsets=None):
        """Seconds from the nearest facility (or to it, with reverse=True) for every node and demand point.

        Facilities (n, 2) snap to their nearest node; the straight-line distance is covered at
        ``offroad_speed_kmh`` and added to their start (plus ``start_offsets_seconds``, e.g. dispatch + turnout;
        ``source_offsets=`` is its former name, deprecated).
        Demand points snap the same way and their own off-road leg is added to their node's time, so a
        village 2 km from the road is not at the road's time. Points or facilities farther than
        ``max_snap_distance_m`` from the network do not snap (facilities then take no part; points get inf/-1).
        ``max_seconds`` is an inclusive cutoff on the total (legs included).
        """
        offsets = _start_offsets(start_offsets_seconds, source_offsets, facility_xy, "RoadGraph.travel_time")
        r = self._g.travel_time(facility_xy, points_xy, source_offsets=offsets, max_seconds=max_seconds,
                                reverse=reverse, offroad_speed_kmh=offroad_speed_kmh,
                                max_snap_distance_m=max_snap_distance_m,
                                largest_component_only=largest_component_only)
        out = RoadTravelTime(r["node_seconds"], r["node_nearest"], r["facility_node"], r["facility_snap_m"])
        if points_xy is not None:
            out.seconds, out.nearest = r["point_seconds"], r["point_nearest"]
            out.point_node, out.point_snap_m = r["point_node"], r["point_snap_m"]
        return out


def graph_travel_time_grid(graph, grid, facility_xy, *, passable=None, start_offsets_seconds=None, max_seconds=None,
                           reverse=False, offroad_speed_kmh=5.0, max_snap_distance_m=None):
    """Travel time over a road graph, per cell of a grid: ``(seconds float32 (H, W), nearest int32 (H, W),
    facility_node)`` (the node each facility snapped to, -1 when it did not).

    graph : :class:`RoadGraph`; grid : a :class:`careshed.Grid` (or anything with ``shape``, ``crs`` and
    ``xy(rows, cols)``); facility_xy : (n, 2) facility points in the GRID's CRS. Every facility snaps to its nearest
    graph node and every cell centre (where `passable`, default every cell) to its nearest node; each straight
    off-road leg is covered at `offroad_speed_kmh` and added (:meth:`RoadGraph.travel_time`, so the turn
    restrictions hold). Cells and facilities farther than `max_snap_distance_m` from the graph do not snap (cells:
    inf / -1). reverse=False: from the facilities (an ambulance to the patient); True: to them. Coordinates go to
    the graph's CRS (lon/lat for OSM extracts) and back with :func:`careshed.arrays.transform_xy`.
    """
    h, w = grid.shape
    cells = np.flatnonzero(np.ones((h, w), bool) if passable is None else np.asarray(passable, bool))
    rows, cols = np.divmod(cells, w)
    cx, cy = grid.xy(rows, cols)
    fxy = np.asarray(facility_xy, dtype=np.float64).reshape(-1, 2)
    graph_crs = "EPSG:4326" if graph.geographic else graph.crs_wkt
    if graph_crs and grid.crs:
        fx, fy = transform_xy(fxy[:, 0], fxy[:, 1], str(grid.crs), graph_crs)
        cx, cy = transform_xy(np.asarray(cx, float), np.asarray(cy, float), str(grid.crs), graph_crs)
        fxy = np.column_stack([fx, fy])
    r = graph.travel_time(fxy, np.column_stack([cx, cy]), start_offsets_seconds=start_offsets_seconds,
                          max_seconds=max_seconds, reverse=reverse, offroad_speed_kmh=offroad_speed_kmh,
                          max_snap_distance_m=max_snap_distance_m)
    seconds = np.full((h, w), np.inf, dtype=np.float32)
    nearest = np.full((h, w), -1, dtype=np.int32)
    seconds.flat[cells] = r.seconds
    nearest.flat[cells] = r.nearest
    return seconds, nearest, np.asarray(r.facility_node)


def travel_time_straight_line(facility_xy, points_xy, *, speed_kmh, detour_factor=1.0, max_seconds=None,
                              geographic=False, metres_per_unit=1.0, k=None):
    """Crow-fly travel time to the nearest facility: distance_m / (speed_kmh / 3.6) × detour_factor.

    facility_xy, points_xy: (n, 2) arrays in one CRS (metres, or lon/lat with geographic=True for great-circle
    distances). Returns (seconds, nearest) of shape (n,), or (n, k) for the k nearest facilities when k is
    given. Ties go to the lowest facility index; beyond max_seconds (inclusive) inf / -1.
    """
    return _core.straight_line_travel_time(facility_xy, points_xy, speed_kmh=speed_kmh,
                                           detour_factor=detour_factor, max_seconds=max_seconds,
                                           geographic=geographic, metres_per_unit=metres_per_unit, k=k or 0)


def travel_time_straight_line_grid(facility_xy, width, height, geotransform, *, speed_kmh, detour_factor=1.0,
                                   max_seconds=None, geographic=False, metres_per_unit=1.0):
    """Straight-line travel time for every cell centre of a north-up grid (GDAL geotransform):
    (seconds, nearest) of shape (height, width)."""
    return _core.straight_line_travel_time_grid(facility_xy, width, height, tuple(geotransform),
                                                speed_kmh=speed_kmh, detour_factor=detour_factor,
                                                max_seconds=max_seconds, geographic=geographic,
                                                metres_per_unit=metres_per_unit)


# ---- former names (one release) ----------------------------------------------------------------------------
graph_travel_time = deprecated_alias(travel_time_graph, "graph_travel_time")
straight_line_travel_time = deprecated_alias(travel_time_straight_line, "straight_line_travel_time")
straight_line_grid_travel_time = deprecated_alias(travel_time_straight_line_grid, "straight_line_grid_travel_time")
