"""careshed.arrays.multimodal: walk + ride in one search.

Oracles, on random grids, ride graphs, modes, penalties and transfers (seed logged as CARESHED_TEST_SEED):
* a plain Dijkstra (heapq) on the explicit multimodal graph built here from the documented rules, in the engine's
  integer ticks (each walking step, ride arc and transfer rounded once, as multimodal.hpp says) with labels
  (ticks, source, mode code): times, nearest facility and trip mode must be equal exactly;
* networkx's Dijkstra on the same graph in float seconds, per source: the times agree to the tick rounding.
Hand cases: a fast road along a strip beats walking beyond the break-even distance and the mode split says so;
per-mode penalties; a trip that walks between two rides.
"""
from __future__ import annotations

import heapq
import math
import os
import warnings

import networkx as nx
import numpy as np
import pytest

import careshed
from careshed.arrays.multimodal import travel_time_multimodal
from careshed.arrays.travel_time import travel_time_grid

MOVES8 = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0)]
KNIGHT = [(-2, -1), (-2, 1), (2, -1), (2, 1), (-1, -2), (-1, 2), (1, -2), (1, 2)]


def walking_arcs(f, cell, neighbours):
    """(a, b, L * sum / n, cells) of every walking move a -> b: r.cost rule, knight's moves average 4 cells."""
    rows, cols = f.shape
    for r in range(rows):
        for c in range(cols):
            for dr, dc in MOVES8 + (KNIGHT if neighbours == 16 else []):
                rr, cc = r + dr, c + dc
                if not (0 <= rr < rows and 0 <= cc < cols):
                    continue
                cells = [(r, c), (rr, cc)]
                if abs(dr) + abs(dc) == 3:
                    cells += [(r + dr // 2, c), (r + dr // 2, c + dc)] if abs(dr) == 2 else \
                        [(r, c + dc // 2), (r + dr, c + dc // 2)]
                if all(np.isfinite(f[x]) for x in cells):
                    yield (r, c), (rr, cc), float(np.hypot(dc * cell, dr * cell)), cells


def explicit_graph(f, cell, tails, heads, secs, node_cells, board, alight, node_modes=None, neighbours=8):
    """The traveller's arcs in float seconds: ('c', r, c) cells and ('n', i) ride nodes (board/alight per mode)."""
    g = nx.DiGraph()
    for r, c in zip(*np.nonzero(np.isfinite(f))):
        g.add_node(("c", r, c))
    for a, b, length, cells in walking_arcs(f, cell, neighbours):
        g.add_edge(("c",) + a, ("c",) + b, weight=length * sum(f[x] for x in cells) / len(cells))
    for t, h, w in zip(tails, heads, secs):
        a, b = ("n", int(t)), ("n", int(h))
        if not g.has_edge(a, b) or g[a][b]["weight"] > w:  # parallel arcs: the cheaper one
            g.add_edge(a, b, weight=float(w))
    for i, (r, c) in enumerate(node_cells):
        m = 0 if node_modes is None else int(node_modes[i])
        g.add_node(("n", i))
        if r >= 0 and np.isfinite(f[r, c]):
            g.add_edge(("c", r, c), ("n", i), weight=board[m])
            g.add_edge(("n", i), ("c", r, c), weight=alight[m])
    return g


def oracle(f, cell, sources, offsets, edges, node_cells, board, alight, toward, node_modes=None, neighbours=8):
    """networkx per source, float seconds: best time and its lowest source index per cell."""
    g = explicit_graph(f, cell, *edges, node_cells, board, alight, node_modes, neighbours)
    if toward:
        g = g.reverse(copy=True)
    best = np.full(f.shape, np.inf)
    arg = np.full(f.shape, -1)
    for k, (r, c) in enumerate(sources):
        if not np.isfinite(f[r, c]):
            continue
        d = nx.single_source_dijkstra_path_length(g, ("c", r, c))
        for node, v in d.items():
            if node[0] == "c" and v + offsets[k] < best[node[1], node[2]]:
                best[node[1], node[2]], arg[node[1], node[2]] = v + offsets[k], k
    return best, arg


def search_arcs(f, cell, edges, node_cells, node_modes, board, alight, toward, scale, neighbours):
    """The explicit multimodal graph in the search's direction, in integer ticks (2^q = `scale` per second):
    {node: [(node, ticks, mode code entered or 0)]}, nodes ('c', r, c) and ('n', i)."""
    arcs = {}

    def add(a, b, w, code=0):
        if toward:
            a, b = b, a
        arcs.setdefault(a, []).append((b, w, code))

    for a, b, length, cells in walking_arcs(f, cell, neighbours):
        hl = (0.25 if len(cells) == 4 else 0.5) * length * scale
        total = (f[cells[0]] + f[cells[1]]) + ((f[cells[2]] + f[cells[3]]) if len(cells) == 4 else 0.0)
        add(("c",) + a, ("c",) + b, int(float(total) * hl + 0.5))
    tails, heads, secs = edges
    for t, h, w in zip(tails, heads, secs):
        code = int(node_modes[h if not toward else t]) + 1  # the node the search enters
        add(("n", int(t)), ("n", int(h)), math.floor(float(w) * scale + 0.5), code)
    for i, (r, c) in enumerate(node_cells):
        m = int(node_modes[i])
        if r >= 0 and np.isfinite(f[r, c]):
            add(("c", r, c), ("n", i), math.floor(board[m] * scale + 0.5), m + 1 if not toward else 0)
            add(("n", i), ("c", r, c), math.floor(alight[m] * scale + 0.5), 0 if not toward else m + 1)
    return arcs


def exact_oracle(f, cell, sources, offsets, edges, node_cells, node_modes, board, alight, toward, tick,
                 max_seconds=math.inf, neighbours=8):
    """Plain multi-source Dijkstra in integer ticks with labels (ticks, source, mode code): per cell the ticks,
    the source and the mode (0 walking, 1 + the highest mode ridden); the graph in the search's direction."""
    scale = 1.0 / tick
    cut = math.floor(max_seconds * scale) if math.isfinite(max_seconds) else math.inf
    arcs = search_arcs(f, cell, edges, node_cells, node_modes, board, alight, toward, scale, neighbours)
    lab, heap = {}, []
    for k, (r, c) in enumerate(sources):
        t0 = math.floor(offsets[k] * scale + 0.5)
        if np.isfinite(f[r, c]) and t0 <= cut and (t0, k, 0) < lab.get(("c", r, c), (math.inf,)):
            lab[("c", r, c)] = (t0, k, 0)
            heapq.heappush(heap, ((t0, k, 0), ("c", r, c)))
    while heap:
        L, u = heapq.heappop(heap)
        if L != lab[u]:
            continue
        for v, w, code in arcs.get(u, ()):
            n = (L[0] + w, L[1], max(L[2], code))
            if n[0] <= cut and n < lab.get(v, (math.inf,)):
                lab[v] = n
                heapq.heappush(heap, (n, v))
    out_t = np.full(f.shape, -1, np.int64)
    out_s = np.full(f.shape, -1)
    out_m = np.zeros(f.shape, np.uint8)
    for node, (t, k, code) in lab.items():
        if node[0] == "c":
            out_t[node[1], node[2]], out_s[node[1], node[2]], out_m[node[1], node[2]] = t, k, code
    return out_t, out_s, out_m


def random_case(rng, n_modes, max_size=11):
    rows, cols = (int(v) for v in rng.integers(2, max_size + 1, size=2))
    cell = float(rng.choice([50.0, 100.0])) if rng.random() < 0.3 else float(rng.uniform(20, 200))
    f = rng.uniform(0.3, 2.0, (rows, cols))
    if rng.random() < 0.3:  # few friction values: many exact ties
        f = rng.choice([0.5, 1.0], (rows, cols))
    f[rng.random((rows, cols)) < 0.15] = np.nan
    n = int(rng.integers(0, 12))
    node_cells = np.column_stack([rng.integers(0, rows, n), rng.integers(0, cols, n)])
    node_cells[rng.random(n) < 0.2] = -1
    node_modes = rng.integers(0, n_modes, n)
    m = int(rng.integers(0, 3 * n + 1)) if n else 0
    edges = (rng.integers(0, max(n, 1), m), rng.integers(0, max(n, 1), m), np.floor(rng.uniform(1, 60, m)))
    sources = [(int(rng.integers(rows)), int(rng.integers(cols))) for _ in range(int(rng.integers(1, 4)))]
    offsets = np.floor(rng.uniform(0, 100, len(sources)))
    board = [float(rng.choice([0.0, 30.0, rng.uniform(0, 120)])) for _ in range(n_modes)]
    alight = [float(rng.choice([0.0, rng.uniform(0, 60)])) for _ in range(n_modes)]
    return rows, cols, cell, f, n, node_cells, node_modes, edges, sources, offsets, board, alight


def test_random_cases_equal_the_plain_dijkstra_on_the_explicit_graph_exactly():
    seed = int(os.environ.get("CARESHED_TEST_SEED", np.random.SeedSequence().entropy % 2**32))
    print(f"CARESHED_TEST_SEED={seed}")
    rng = np.random.default_rng(seed)
    for case in range(40):
        n_modes = int(rng.integers(1, 4))
        rows, cols, cell, f, n, node_cells, node_modes, edges, sources, offsets, board, alight = \
            random_case(rng, n_modes)
        direction = "toward" if rng.random() < 0.5 else "away"
        neighbours = 16 if rng.random() < 0.25 else 8
        cutoff = float(rng.uniform(100, 2000)) if rng.random() < 0.3 else None
        kw = dict(ride_edges=edges, node_cells=node_cells, node_modes=node_modes) if n else {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # sources on impassable cells
            secs, near, mode, stats = travel_time_multimodal(
                f, np.array(sources), cell_size=(cell, cell), board_minutes=[b / 60 for b in board],
                alight_minutes=[a / 60 for a in alight], start_offsets_seconds=offsets, direction=direction,
                neighbours=neighbours, max_seconds=cutoff, return_stats=True, **kw)
        want_t, want_s, want_m = exact_oracle(
            f, cell, sources, offsets, edges if n else ([], [], []), node_cells if n else [],
            node_modes if n else [], board, alight, direction == "toward", stats["tick_seconds"],
            cutoff if cutoff is not None else math.inf, neighbours)
        ok = want_t >= 0
        assert np.array_equal(np.isfinite(secs), ok), case
        assert np.array_equal(secs[ok], want_t[ok] * stats["tick_seconds"]), case
        assert np.array_equal(near, want_s), case
        assert np.array_equal(mode, want_m), case
        if cutoff is None:  # the float oracle (networkx) agrees to the tick rounding
            want, _ = oracle(f, cell, sources, offsets, edges if n else ([], [], []), node_cells if n else [],
                             board, alight, direction == "toward", node_modes if n else None, neighbours)
            np.testing.assert_allclose(secs[ok], want[ok], rtol=1e-9, atol=1e-6)


def test_a_road_beats_walking_beyond_the_break_even_and_the_mode_split_says_so():
    # 1 x 40 strip of 100 m cells walked at 0.72 s/m (72 s per cell) toward a clinic at cell 0; a road between
    # cells 0 and 39 taking 60 s. From the far end, walking takes 39 x 72 = 2808 s, boarding and riding 390 s.
    f = np.full((1, 40), 0.72)
    secs, near, rides = travel_time_multimodal(f, np.array([[0, 0]]), cell_size=(100.0, 100.0),
                                               ride_edges=([0], [1], [60.0]), node_cells=[[0, 0], [0, 39]],
                                               board_minutes=5, alight_minutes=0)
    # toward the source at cell 0: the traveller boards at cell 39 and rides 1 -> 0? only arc 0 -> 1 exists: no ride
    assert not rides.any()
    np.testing.assert_allclose(secs[0], 72.0 * np.arange(40))
    secs, near, rides = travel_time_multimodal(f, np.array([[0, 0]]), cell_size=(100.0, 100.0),
                                               ride_edges=([1], [0], [60.0]), node_cells=[[0, 0], [0, 39]],
                                               board_minutes=5.5, alight_minutes=0)
    # now the road runs 39 -> 0: cells from 23 on walk to 39 and ride (330 + 60 + 72 (39 - c)) instead of 72 c
    c = np.arange(40)
    want = np.minimum(72.0 * c, 390.0 + 72.0 * (39 - c))
    np.testing.assert_allclose(secs[0], want)
    assert (rides[0] == (390.0 + 72.0 * (39 - c) < 72.0 * c)).all() and rides[0, 23] and not rides[0, 22]
    assert set(np.unique(rides)) == {0, 1}  # one mode: 1 = walk + ride


def test_walking_alone_is_the_grid_engine_bit_for_bit():
    rng = np.random.default_rng(5)
    f = rng.uniform(0.2, 3.0, (60, 70)).astype(np.float32)
    f[rng.random(f.shape) < 0.1] = np.nan
    src = np.array([[3, 4], [50, 60], [30, 10]])
    f[src[:, 0], src[:, 1]] = 1.0
    for nb in (8, 16):
        plain, near = travel_time_grid(f, src, cell_size=(90.0, 90.0), neighbours=nb)
        walk, near2, mode = travel_time_multimodal(f, src, cell_size=(90.0, 90.0), neighbours=nb)
        assert np.array_equal(walk.astype(np.float32), plain) and np.array_equal(near, near2) and not mode.any()


def test_per_mode_penalties_and_a_trip_that_walks_between_two_rides():
    # 1 x 30 strip, 100 m cells at 1 s/m (100 s per step), clinic at cell 0. Road (mode 0): cell 29 -> cell 15
    # in 10 s; bus (mode 1): cell 14 -> cell 0 in 10 s. From cell 29 the best trip boards the road, alights at 15,
    # walks to 14 and boards the bus: 29 = board0 + 10 + alight0 + 100 + board1 + 10 + alight1.
    f = np.ones((1, 30))
    edges = ([1, 3], [0, 2], [10.0, 10.0])
    cells = [[0, 15], [0, 29], [0, 0], [0, 14]]
    secs, near, mode = travel_time_multimodal(f, np.array([[0, 0]]), cell_size=(100, 100), ride_edges=edges,
                                              node_cells=cells, node_modes=[0, 0, 1, 1], board_minutes=[1, 2],
                                              alight_minutes=[0.5, 0])
    road, bus = 60 + 10 + 30, 120 + 10 + 0
    assert secs[0, 29] == road + 100 + bus and mode[0, 29] == 2  # highest mode used: the bus
    assert secs[0, 14] == bus and mode[0, 14] == 2
    # cell 20: walk to 29 and ride (900 + 100 + 230 = 1230) or walk to 14 and take the bus (600 + 130) -> bus
    assert secs[0, 20] == 600 + bus
    assert secs[0, 5] == 500 and mode[0, 5] == 0  # walking (500) beats the bus from 14 (900 + 130)
    # a larger bus boarding penalty (30 min) makes the road + walk the only ride worth it from cell 29
    secs2, _, mode2 = travel_time_multimodal(f, np.array([[0, 0]]), cell_size=(100, 100), ride_edges=edges,
                                             node_cells=cells, node_modes=[0, 0, 1, 1], board_minutes=[1, 30],
                                             alight_minutes=[0.5, 0])
    assert secs2[0, 29] == road + 1500 and mode2[0, 29] == 1


def test_errors_name_the_argument():
    f = np.ones((3, 3))
    src = np.array([[1, 1]])
    with pytest.raises(careshed.InputError, match="together"):
        travel_time_multimodal(f, src, cell_size=(1, 1), ride_edges=([0], [0], [1.0]))
    with pytest.raises(careshed.InputError, match=r"node_cells\[0\] = \(5, 0\)"):
        travel_time_multimodal(f, src, cell_size=(1, 1), ride_edges=([0], [0], [1.0]), node_cells=[[5, 0]])
    with pytest.raises(careshed.InputError, match=r"heads\[0\] = 3"):
        travel_time_multimodal(f, src, cell_size=(1, 1), ride_edges=([0], [3], [1.0]), node_cells=[[0, 0]])
    with pytest.raises(careshed.InputError, match="board_minutes"):
        travel_time_multimodal(f, src, cell_size=(1, 1), board_minutes=-1)
    with pytest.raises(careshed.InputError, match="one number of minutes per ride mode"):
        travel_time_multimodal(f, src, cell_size=(1, 1), ride_edges=([0], [0], [1.0]), node_cells=[[0, 0]],
                               node_modes=[1], board_minutes=[1])
    with pytest.raises(careshed.InputError, match="node_modes"):
        travel_time_multimodal(f, src, cell_size=(1, 1), ride_edges=([0], [0], [1.0]), node_cells=[[0, 0]],
                               node_modes=[0, 1])


def test_ride_network_joins_roads_and_ferries_with_the_wait_at_the_route_ends():
    from careshed.arrays.multimodal import ride_network
    from careshed.io.raster import Grid
    from careshed import _core

    crs = _core.crs_to_wkt("EPSG:32631")
    grid = Grid(10, 1, (500000.0, 100.0, 0.0, 1000100.0, 0.0, -100.0), crs)
    y = 1000050.0
    # a road over cells 0..2; a ferry route from cell 3 via the "sea" (cell 5) to cell 8, 3.6 km/h -> 1 s/m
    roads = careshed.RoadGraph.from_xy_lines([[(500050.0, y), (500250.0, y)]], [36.0], crs_wkt=crs)
    ferries = careshed.RoadGraph.from_xy_lines([[(500350.0, y), (500550.0, y), (500850.0, y)]], [3.6], crs_wkt=crs)
    (tails, heads, secs), cells, modes = ride_network(grid, roads, ferries, ferry_wait_minutes=30)
    assert len(cells) == roads.n_nodes + ferries.n_nodes == 2 + 3
    assert modes.tolist() == [0, 0, 1, 1, 1]  # RIDE_MODES: road, ferry
    ferry_cells = cells[2:]
    assert sorted(map(tuple, ferry_cells.tolist())) == [(-1, -1), (0, 3), (0, 8)]  # the middle is at sea
    # road: 200 m at 36 km/h both ways = 20 s; ferry arcs leaving an end carry the 1800 s wait
    road = tails < 2
    np.testing.assert_allclose(secs[road], 20.0)
    end_nodes = {i + 2 for i, rc in enumerate(ferry_cells.tolist()) if rc != [-1, -1]}
    for t, s in zip(tails[~road], secs[~road]):
        length_s = s - (1800.0 if t in end_nodes else 0.0)
        assert length_s in (pytest.approx(200.0), pytest.approx(300.0))
    # crossing from cell 3 to cell 8 (walking impossible: the sea between is impassable) = wait + 500 s
    f = np.full((1, 10), 0.72)
    f[0, 4:8] = np.nan
    secs_to, _, rides = travel_time_multimodal(f, np.array([[0, 8]]), cell_size=(100.0, 100.0),
                                               ride_edges=(tails, heads, secs), node_cells=cells,
                                               node_modes=modes)
    assert secs_to[0, 3] == pytest.approx(1800.0 + 500.0)
    assert rides[0, 3] == 2 and rides[0, 9] == 0  # 2 = a trip with a ferry


def test_ride_modes_reads_the_spec_and_refuses_what_it_cannot_use(tmp_path):
    from careshed.arrays.multimodal import ride_modes
    from careshed.io.raster import Grid
    from careshed import _core

    crs = _core.crs_to_wkt("EPSG:32631")
    grid = Grid(10, 1, (500000.0, 100.0, 0.0, 1000100.0, 0.0, -100.0), crs)
    road = careshed.RoadGraph.from_xy_lines([[(500050.0, 1000050.0), (500250.0, 1000050.0)]], [36.0], crs_wkt=crs)
    r = ride_modes({"road": {"network": road, "board_minutes": 5, "alight_minutes": 1}}, grid)
    assert r["board_minutes"] == [5.0, 0.0] and r["alight_minutes"] == [1.0, 0.0]  # per RIDE_MODES
    assert r["node_modes"].tolist() == [0, 0] and "board 5 min" in r["notes"][0]
    for spec, match in (({"bus": road}, "modes has 'bus'"), ({"road": {"network": road, "speed": 3}}, "'speed'"),
                        ({"ferry": {"network": "ferry.gpkg"}}, "speed_kmh"), ({"road": {}}, "needs a 'network'"),
                        ({}, "must be a dict")):
        with pytest.raises(careshed.UsageError, match=match):
            ride_modes(spec, grid)


def test_mode_split_counts_people_by_trip_mode_per_zone():
    import geopandas as gpd
    from careshed.arrays.multimodal import mode_split
    from careshed.arrays.zonal import rasterize_zones
    from careshed.io.raster import Grid
    from careshed import _core
    from shapely.geometry import box

    grid = Grid(4, 1, (0.0, 1.0, 0.0, 1.0, 0.0, -1.0), _core.crs_to_wkt("EPSG:32631"))
    zones = rasterize_zones(gpd.GeoSeries([box(0, 0, 2, 1), box(2, 0, 4, 1)], crs="EPSG:32631"), grid)
    mode = np.array([[0, 1, 2, 0]], np.uint8)   # walking, walk + road, with a ferry, (unreachable)
    seconds = np.array([[1.0, 2.0, 3.0, np.inf]])
    pop = np.array([[10.0, 20.0, 30.0, 40.0]])
    # columns: walking only, road, ferry, unreachable; rows: the two zones, then every cell
    assert mode_split(mode, seconds, pop, zones).tolist() == [[10, 20, 0, 0], [0, 0, 30, 40], [10, 20, 30, 40]]


# ---- the maximum walking leg (max_walk_seconds; core/include/careshed/multimodal_walkcap.hpp) -------------------

def walkcap_oracle(f, cell, sources, offsets, edges, node_cells, node_modes, board, alight, toward, tick,
                   max_seconds=math.inf, cap_seconds=math.inf, neighbours=8):
    """A plain Dijkstra (heapq) on the explicit state graph: states (cell, walked ticks of the current leg, ridden)
    and (ride node), labels (ticks, source, mode code) in the engine's integer ticks. A state that has ridden walks
    at most the cap in each leg; boarding needs the leg walked so far within the cap; a walking-only state walks on
    uncapped (its walked ticks kept as min(walked, cap + 1): beyond the cap it can only not board). Per cell: the
    least label over all its states."""
    scale = 1.0 / tick
    cut = math.floor(max_seconds * scale) if math.isfinite(max_seconds) else math.inf
    cap = math.floor(cap_seconds * scale) if math.isfinite(cap_seconds) else math.inf
    arcs = search_arcs(f, cell, edges, node_cells, node_modes, board, alight, toward, scale, neighbours)
    lab, heap = {}, []

    def offer(state, label):
        if label[0] <= cut and label < lab.get(state, (math.inf,)):
            lab[state] = label
            heapq.heappush(heap, (label, state))

    for k, (r, c) in enumerate(sources):
        if np.isfinite(f[r, c]):
            offer((("c", r, c), 0, False), (math.floor(offsets[k] * scale + 0.5), k, 0))
    while heap:
        L, state = heapq.heappop(heap)
        if L != lab[state]:
            continue
        u, walked, ridden = state
        for v, w, code in arcs.get(u, ()):
            n = (L[0] + w, L[1], max(L[2], code))
            if u[0] == "c" and v[0] == "c":  # a walking move: the leg goes on
                nw = walked + w
                if ridden and nw > cap:
                    continue
                offer((v, nw if ridden else min(nw, cap + 1), ridden), n)
            elif u[0] == "c":  # boarding (in the search's direction): the leg ends here
                if walked <= cap:
                    offer((v, 0, True), n)
            else:  # a ride arc, or alighting into a cell: a new leg starts
                offer((v, 0, True), n)
    out_t = np.full(f.shape, -1, np.int64)
    out_s = np.full(f.shape, -1)
    out_m = np.zeros(f.shape, np.uint8)
    for (node, _, _), (t, k, code) in sorted(lab.items(), key=lambda kv: kv[1], reverse=True):
        if node[0] == "c":  # the least label last
            out_t[node[1], node[2]], out_s[node[1], node[2]], out_m[node[1], node[2]] = t, k, code
    return out_t, out_s, out_m


def test_walk_cap_random_cases_equal_the_plain_dijkstra_on_the_explicit_state_graph_exactly():
    seed = int(os.environ.get("CARESHED_TEST_SEED", np.random.SeedSequence().entropy % 2**32))
    print(f"CARESHED_TEST_SEED={seed}")
    rng = np.random.default_rng(seed)
    capped_somewhere = 0
    for case in range(40):
        n_modes = int(rng.integers(1, 4))
        rows, cols, cell, f, n, node_cells, node_modes, edges, sources, offsets, board, alight = \
            random_case(rng, n_modes, max_size=9)
        direction = "toward" if rng.random() < 0.5 else "away"
        neighbours = 16 if rng.random() < 0.25 else 8
        cutoff = float(rng.uniform(100, 2000)) if rng.random() < 0.3 else None
        kw = dict(ride_edges=edges, node_cells=node_cells, node_modes=node_modes) if n else {}
        common = dict(cell_size=(cell, cell), board_minutes=[b / 60 for b in board],
                      alight_minutes=[a / 60 for a in alight], start_offsets_seconds=offsets, direction=direction,
                      neighbours=neighbours, max_seconds=cutoff, return_stats=True, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # sources on impassable cells
            free, _, _, stats = travel_time_multimodal(f, np.array(sources), **common)
            tick = stats["tick_seconds"]
            # The cap: 0, or exactly the ticks of 1-3 walking steps (legs that meet it exactly), or that less a tick.
            fmin = float(np.nanmin(f)) if np.isfinite(f).any() else 1.0
            step = math.floor(cell * fmin / tick + 0.5)
            cap_ticks = int(rng.choice([0, step, 2 * step, 3 * step, 3 * step - 1, 2 * step + 1]))
            secs, near, mode, stats = travel_time_multimodal(f, np.array(sources), max_walk_seconds=cap_ticks * tick,
                                                             **common)
        assert stats["tick_seconds"] == tick
        want_t, want_s, want_m = walkcap_oracle(
            f, cell, sources, offsets, edges if n else ([], [], []), node_cells if n else [],
            node_modes if n else [], board, alight, direction == "toward", tick,
            cutoff if cutoff is not None else math.inf, cap_ticks * tick, neighbours)
        ok = want_t >= 0
        assert np.array_equal(np.isfinite(secs), ok), case
        assert np.array_equal(secs[ok], want_t[ok] * tick), case
        assert np.array_equal(near, want_s), case
        assert np.array_equal(mode, want_m), case
        assert (secs >= free).all(), case  # a cap never makes a trip faster
        capped_somewhere += bool((secs > free).any())
    assert capped_somewhere >= 3  # the cap bit in several cases (not a test of the uncapped engine only)


def test_walk_cap_exactly_met_rides_one_tick_over_walks_and_a_huge_cap_is_the_uncapped_engine():
    # The strip of test_a_road_beats_walking...: road 39 -> 0 boarded in 5.5 min; uncapped, cells >= 23 ride.
    # A cap of 288 s (4 steps): cells 35..39 walk at most 288 s to the road (cell 35 exactly 288 s) and ride.
    f = np.full((1, 40), 0.72)
    kw = dict(cell_size=(100.0, 100.0), ride_edges=([1], [0], [60.0]), node_cells=[[0, 0], [0, 39]],
              board_minutes=5.5, alight_minutes=0)
    c = np.arange(40)
    walk, ride = 72.0 * c, 390.0 + 72.0 * (39 - c)
    secs, near, mode, stats = travel_time_multimodal(f, np.array([[0, 0]]), max_walk_seconds=288.0,
                                                     return_stats=True, **kw)
    assert np.array_equal(secs[0], np.where(c >= 35, ride, walk)) and np.array_equal(mode[0], c >= 35)
    secs, _, mode = travel_time_multimodal(f, np.array([[0, 0]]), max_walk_seconds=288.0 - stats["tick_seconds"], **kw)
    assert secs[0, 35] == walk[35] and mode[0, 35] == 0 and secs[0, 36] == ride[36]
    # a cap nobody reaches: the uncapped engine's output, bit for bit (here and on a random grid with roads)
    rng = np.random.default_rng(7)
    f = rng.uniform(0.2, 3.0, (40, 50)).astype(np.float32)
    f[rng.random(f.shape) < 0.1] = np.nan
    n = 60
    cells = np.column_stack([rng.integers(0, 40, n), rng.integers(0, 50, n)])
    edges = (rng.integers(0, n, 200), rng.integers(0, n, 200), np.floor(rng.uniform(1, 60, 200)))
    src = np.array([[3, 4], [30, 40], [20, 10]])
    for nb, direction in ((8, "toward"), (16, "away")):
        args = dict(cell_size=(90.0, 90.0), ride_edges=edges, node_cells=cells, node_modes=rng.integers(0, 2, n),
                    board_minutes=[1, 20], alight_minutes=[0.5, 0], neighbours=nb, direction=direction,
                    start_offsets_seconds=[0.0, 30.0, 600.0])
        plain = travel_time_multimodal(f, src, **args)
        huge = travel_time_multimodal(f, src, max_walk_seconds=1e9, **args)
        assert all(np.array_equal(a, b) for a, b in zip(plain, huge)) and plain[2].any()
    # without rides every trip walks only, which no cap limits: walking alone, whatever the cap
    walk = travel_time_multimodal(f, src, cell_size=(90.0, 90.0))
    assert all(np.array_equal(a, b) for a, b in zip(walk, travel_time_multimodal(f, src, cell_size=(90.0, 90.0),
                                                                                 max_walk_seconds=0.0)))


def test_walk_cap_a_facility_reachable_only_by_a_walk_longer_than_the_cap():
    # Clinic at cell 0; water in cells 20..25; a road 39 -> 15 leaves riders 15 steps (1080 s) from the clinic.
    # East of the water people reach it only by riding, then walking 1080 s: with a cap of 1080 s they do; with
    # 1079 s nobody there does (inf, -1). West of it, walking-only trips are not capped: cell 19 walks 1368 s.
    f = np.full((1, 40), 0.72)
    f[0, 20:26] = np.nan
    kw = dict(cell_size=(100.0, 100.0), ride_edges=([1], [0], [60.0]), node_cells=[[0, 15], [0, 39]])
    c = np.arange(40)
    ok, _, mode = travel_time_multimodal(f, np.array([[0, 0]]), max_walk_seconds=1080.0, **kw)
    no, near, _ = travel_time_multimodal(f, np.array([[0, 0]]), max_walk_seconds=1079.0, **kw)
    east = c >= 26
    assert np.array_equal(ok[0, east], 72.0 * (39 - c[east]) + 60.0 + 1080.0) and mode[0, east].all()
    assert np.isinf(no[0, east]).all() and (near[0, east] == -1).all()
    assert np.array_equal(no[0, :20], 72.0 * c[:20]) and np.array_equal(ok[0, :20], no[0, :20])


def test_walk_cap_the_fastest_label_walked_too_far_to_board_and_a_slower_facility_serves_the_riders():
    # Clinics at cell 0 (no delay) and cell 12 (1000 s start offset); the road 39 -> 10. The alighting cell is
    # 720 s from clinic 0 but 144 s from clinic 1: with a 300 s cap riders walk to clinic 1 (cell 39: 60 + 144 +
    # 1000 s), though clinic 0 is nearer cell 10 in time — a one-label search would lose them.
    f = np.full((1, 40), 0.72)
    kw = dict(cell_size=(100.0, 100.0), ride_edges=([1], [0], [60.0]), node_cells=[[0, 10], [0, 39]],
              start_offsets_seconds=[0.0, 1000.0])
    secs, near, mode = travel_time_multimodal(f, np.array([[0, 0], [0, 12]]), max_walk_seconds=300.0, **kw)
    c = np.arange(35, 40)
    assert np.array_equal(secs[0, 35:], 72.0 * (39 - c) + 1204.0) and (near[0, 35:] == 1).all()
    assert secs[0, 34] == 72.0 * 34 and near[0, 34] == 0 and mode[0, 34] == 0
    free, free_near, _ = travel_time_multimodal(f, np.array([[0, 0], [0, 12]]), **kw)
    assert free[0, 39] == 780.0 and free_near[0, 39] == 0
    with pytest.raises(careshed.InputError, match="max_walk_seconds"):
        travel_time_multimodal(f, np.array([[0, 0], [0, 12]]), max_walk_seconds=-1, **kw)


def test_ride_network_honours_the_road_graphs_turn_restrictions(tmp_path):
    # The hand-made junction of tests/cpp/osm_reader_test.cpp: way 10 runs west-east 1 - 2 - 3, way 20 north from
    # 2 to 4, way 30 loops 3 - 5 - 4; no left turn from way 10 onto way 20 at node 2. Riding from node 1's cell to
    # node 4's takes the loop — the RoadGraph's own restricted search, checked against the route-state oracle in
    # C++ — not the left turn of the plain edges. Getting out at node 2 and boarding again costs the penalties
    # (1 minute here), more than the loop.
    from careshed.arrays.geometry import transform_xy
    from careshed.arrays.multimodal import ride_network
    from careshed.io.raster import Grid
    from careshed import _core

    nodes = {1: (43.0, -11.5), 2: (43.001, -11.5), 3: (43.002, -11.5), 4: (43.001, -11.499), 5: (43.002, -11.499)}
    xml = ['<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="hand">']
    xml += [f'<node id="{i}" lat="{lat}" lon="{lon}"/>' for i, (lon, lat) in nodes.items()]
    for way, refs in ((10, (1, 2, 3)), (20, (2, 4)), (30, (3, 5, 4))):
        xml.append(f'<way id="{way}">' + "".join(f'<nd ref="{r}"/>' for r in refs) +
                   '<tag k="highway" v="residential"/></way>')
    xml.append('<relation id="100"><member type="way" ref="10" role="from"/><member type="node" ref="2" role="via"/>'
               '<member type="way" ref="20" role="to"/><tag k="type" v="restriction"/>'
               '<tag k="restriction" v="no_left_turn"/></relation></osm>')
    path = tmp_path / "junction.osm"
    path.write_text("\n".join(xml))
    roads = careshed.RoadGraph.from_osm(path, profile="car")
    plain = careshed.RoadGraph.from_osm(path, profile="car", turn_restrictions=False)
    assert roads.has_turn_restrictions and roads.turn_arcs()["copy_origin"].size == 2  # way 10 enters 2 from both sides
    crs = _core.crs_to_wkt("EPSG:32738")
    lon, lat = roads.node_xy.T
    x, y = transform_xy(lon, lat, "EPSG:4326", crs)
    grid = Grid(20, 10, (float(x.min()) - 20.0, 20.0, 0.0, float(y.max()) + 20.0, 0.0, -20.0), crs)
    at = {i: int(np.argmin(np.hypot(lon - p[0], lat - p[1]))) for i, p in nodes.items()}
    cell = {i: grid.rowcol(x[v], y[v]) for i, v in at.items()}
    friction = np.full(grid.shape, 100.0)  # walking 100 s/m: riding wins wherever there is a road
    results = {}
    for name, graph in (("restricted", roads), ("plain", plain)):
        edges, cells, modes = ride_network(grid, graph)
        secs, _, _ = travel_time_multimodal(friction, np.array([cell[4]], dtype=np.int64), cell_size=(20.0, 20.0),
                                            ride_edges=edges, node_cells=cells, node_modes=modes, board_minutes=1)
        results[name] = secs[cell[1]]
    loop = roads.nearest_from_nodes([at[1]])[0][at[4]]
    direct = plain.nearest_from_nodes([at[1]])[0][at[4]]
    assert loop > direct + 20
    assert results["restricted"] == pytest.approx(60.0 + loop, abs=0.01)
    assert results["plain"] == pytest.approx(60.0 + direct, abs=0.01)
