"""careshed.arrays.multimodal: walk + ride in one search.

Oracle: networkx's Dijkstra on the explicit multimodal graph built here from the documented rules (cells with
r.cost walking arcs, ride nodes with their arcs, boarding and alighting arcs), per source, then the minimum per
cell with ties to the lowest source index; random grids, graphs and transfers (seed logged as CARESHED_TEST_SEED).
Hand case: a fast road along the strip beats walking beyond the break-even distance, and the mode split says so.
"""
from __future__ import annotations

import math
import os

import networkx as nx
import numpy as np
import pytest

import careshed
from careshed.arrays.multimodal import travel_time_multimodal
from careshed.arrays.travel_time import travel_time_grid


def explicit_graph(f, cell, tails, heads, secs, node_cells, board, alight):
    """The traveller's arcs: ('c', r, c) cells and ('n', i) ride nodes."""
    g = nx.DiGraph()
    rows, cols = f.shape
    for r in range(rows):
        for c in range(cols):
            if not np.isfinite(f[r, c]):
                continue
            g.add_node(("c", r, c))
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rr, cc = r + dr, c + dc
                    if (dr == dc == 0) or not (0 <= rr < rows and 0 <= cc < cols) or not np.isfinite(f[rr, cc]):
                        continue
                    g.add_edge(("c", r, c), ("c", rr, cc), weight=math.hypot(dc * cell, dr * cell) * (f[r, c] + f[rr, cc]) / 2)
    for t, h, w in zip(tails, heads, secs):
        a, b = ("n", int(t)), ("n", int(h))
        if not g.has_edge(a, b) or g[a][b]["weight"] > w:  # parallel arcs: the cheaper one
            g.add_edge(a, b, weight=float(w))
    for i, (r, c) in enumerate(node_cells):
        g.add_node(("n", i))
        if r >= 0 and np.isfinite(f[r, c]):
            g.add_edge(("c", r, c), ("n", i), weight=board)
            g.add_edge(("n", i), ("c", r, c), weight=alight)
    return g


def oracle(f, cell, sources, offsets, edges, node_cells, board, alight, toward):
    g = explicit_graph(f, cell, *edges, node_cells, board, alight)
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


def test_random_cases_match_networkx_on_the_explicit_graph():
    seed = int(os.environ.get("CARESHED_TEST_SEED", np.random.SeedSequence().entropy % 2**32))
    print(f"CARESHED_TEST_SEED={seed}")
    rng = np.random.default_rng(seed)
    for _ in range(15):
        rows, cols = (int(v) for v in rng.integers(2, 12, size=2))
        cell = float(rng.uniform(20, 200))
        f = rng.uniform(0.3, 2.0, (rows, cols))
        f[rng.random((rows, cols)) < 0.15] = np.nan
        n = int(rng.integers(0, 12))
        node_cells = np.column_stack([rng.integers(0, rows, n), rng.integers(0, cols, n)])
        node_cells[rng.random(n) < 0.2] = -1
        m = int(rng.integers(0, 3 * n + 1)) if n else 0
        edges = (rng.integers(0, max(n, 1), m), rng.integers(0, max(n, 1), m), rng.uniform(1, 60, m))
        sources = [(int(rng.integers(rows)), int(rng.integers(cols))) for _ in range(int(rng.integers(1, 4)))]
        offsets = np.floor(rng.uniform(0, 100, len(sources)))
        board, alight = float(rng.uniform(0, 120)), float(rng.uniform(0, 60))
        direction = "toward" if rng.random() < 0.5 else "away"
        kw = dict(ride_edges=edges, node_cells=node_cells) if n else {}
        with np.errstate(all="ignore"):
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # sources on impassable cells
                secs, near, rides = travel_time_multimodal(f, np.array(sources), cell_size=(cell, cell),
                                                           board_minutes=board / 60, alight_minutes=alight / 60,
                                                           start_offsets_seconds=offsets, direction=direction, **kw)
        want, arg = oracle(f, cell, sources, offsets, edges if n else ([], [], []), node_cells if n else [],
                           board, alight, direction == "toward")
        assert np.array_equal(np.isfinite(secs), np.isfinite(want))
        ok = np.isfinite(want)
        np.testing.assert_allclose(secs[ok], want[ok], rtol=1e-12)
        assert np.array_equal(near[ok], arg[ok])
        assert not rides[~ok].any()


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
    # walking only equals the grid engine (to its tick rounding)
    plain, _ = travel_time_grid(f, np.array([[0, 0]]), cell_size=(100.0, 100.0))
    walk, _, _ = travel_time_multimodal(f, np.array([[0, 0]]), cell_size=(100.0, 100.0))
    np.testing.assert_allclose(walk, plain, rtol=1e-6)


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
    (tails, heads, secs), cells = ride_network(grid, roads, ferries, ferry_wait_minutes=30)
    assert len(cells) == roads.n_nodes + ferries.n_nodes == 2 + 3
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
                                               ride_edges=(tails, heads, secs), node_cells=cells)
    assert secs_to[0, 3] == pytest.approx(1800.0 + 500.0)
    assert rides[0, 3] and not rides[0, 9]
