"""careshed.arrays.travel_time_graph, RoadGraph and the straight-line fallback against independent oracles:
networkx multi_source_dijkstra, a plain heapq Dijkstra written here, scipy's cKDTree-free brute force, and
times worked by hand. Random graphs use logged seeds (printed on failure via the parametrisation id)."""
import heapq
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import careshed
from careshed.arrays.network import profiles, travel_time_straight_line_grid

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"


# ---- helpers -----------------------------------------------------------------------------------------
def random_graph(seed, integer_costs):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 200))
    m = int(rng.integers(2 * n, 4 * n))
    tails = rng.integers(0, n, m)
    heads = rng.integers(0, n, m)
    cut = n - n // 5  # nodes >= cut only link among themselves: an unreachable part
    cross = (tails >= cut) != (heads >= cut)
    heads[cross] = tails[cross]  # self loops
    seconds = rng.integers(0, 6, m).astype(float) if integer_costs else rng.uniform(0, 10, m)
    # parallel edges
    k = m // 7
    tails = np.concatenate([tails, tails[:k]])
    heads = np.concatenate([heads, heads[:k]])
    seconds = np.concatenate([seconds, rng.integers(0, 6, k).astype(float) if integer_costs else rng.uniform(0, 10, k)])
    return n, tails, heads, seconds, rng


def plain_dijkstra(n, tails, heads, seconds, source, start):
    adj = [[] for _ in range(n)]
    for t, h, c in zip(tails, heads, seconds):
        adj[t].append((h, c))
    dist = [math.inf] * n
    dist[source] = start
    pq = [(start, source)]
    while pq:
        d, v = heapq.heappop(pq)
        if d > dist[v]:
            continue
        for w, c in adj[v]:
            if d + c < dist[w]:
                dist[w] = d + c
                heapq.heappush(pq, (dist[w], w))
    return np.array(dist)


def oracle_nearest(n, tails, heads, seconds, sources, offsets, max_seconds):
    per = [plain_dijkstra(n, tails, heads, seconds, s, offsets[j]) for j, s in enumerate(sources)]
    best = np.full(n, math.inf)
    idx = np.full(n, -1)
    for j, d in enumerate(per):  # ascending j with strict < keeps the lowest index on ties
        better = (d < best) & (d <= max_seconds)
        best[better] = d[better]
        idx[better] = j
    return best, idx


# ---- travel_time_graph ---------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(1, 31))
def test_travel_time_graph_matches_plain_dijkstra(seed):
    n, tails, heads, seconds, rng = random_graph(seed, integer_costs=seed % 2 == 0)
    sources = rng.integers(0, n - n // 5, int(rng.integers(1, 7)))
    sources = np.append(sources, sources[0])  # duplicate source
    offsets = rng.integers(0, 4, sources.size).astype(float) if seed % 3 == 0 else np.zeros(sources.size)
    reverse = seed % 4 == 0
    t_, h_ = (heads, tails) if reverse else (tails, heads)
    best, idx = oracle_nearest(n, t_, h_, seconds, sources, offsets, math.inf)
    finite = np.sort(best[np.isfinite(best)])
    for cutoff in (None, float(finite[len(finite) // 2])):  # cutoff exactly at a node's time
        sec, near = careshed.arrays.travel_time_graph(n, tails, heads, seconds, sources,
                                                      start_offsets_seconds=offsets if seed % 3 == 0 else None,
                                                      max_seconds=cutoff, reverse=reverse)
        assert sec.dtype == np.float64 and near.dtype == np.int32 and sec.shape == (n,)
        exp_best, exp_idx = oracle_nearest(n, t_, h_, seconds, sources, offsets,
                                           math.inf if cutoff is None else cutoff)
        np.testing.assert_allclose(sec, exp_best, rtol=1e-12, atol=0)
        if seed % 2 == 0:  # integer costs: exact ties, the lowest index must win
            np.testing.assert_array_equal(near, exp_idx)
        else:
            np.testing.assert_array_equal(near == -1, exp_idx == -1)


@pytest.mark.parametrize("seed", [101, 102, 103, 104, 105])
def test_travel_time_graph_matches_networkx(seed):
    rng = np.random.default_rng(seed)
    G = nx.gnm_random_graph(300, 900, seed=seed, directed=True)
    tails = np.array([u for u, v in G.edges], dtype=np.int64)
    heads = np.array([v for u, v in G.edges], dtype=np.int64)
    seconds = rng.uniform(0.5, 60.0, tails.size)
    for (u, v), c in zip(G.edges, seconds):
        G[u][v]["weight"] = c
    sources = [int(s) for s in rng.choice(300, 5, replace=False)]
    dist, paths = nx.multi_source_dijkstra(G, sources, weight="weight")
    sec, near = careshed.arrays.travel_time_graph(300, tails, heads, seconds, sources)
    for v in range(300):
        if v in dist:
            assert sec[v] == pytest.approx(dist[v], rel=1e-12)
            assert sources[near[v]] == paths[v][0]
        else:
            assert np.isinf(sec[v]) and near[v] == -1
    # reverse = time TO the sources = networkx on the reversed graph
    rdist, _ = nx.multi_source_dijkstra(G.reverse(copy=True), sources, weight="weight")
    rsec, _ = careshed.arrays.travel_time_graph(300, tails, heads, seconds, sources, reverse=True)
    for v in range(300):
        assert (rsec[v] == pytest.approx(rdist[v], rel=1e-12)) if v in rdist else np.isinf(rsec[v])


def test_ties_go_to_lowest_index_and_offsets():
    # path 0-1-2-3-4, unit costs both ways; sources at 4 (index 0) and 0 (index 1): node 2 is a tie.
    t = [0, 1, 1, 2, 2, 3, 3, 4]
    h = [1, 0, 2, 1, 3, 2, 4, 3]
    c = [1.0] * 8
    sec, near = careshed.arrays.travel_time_graph(5, t, h, c, [4, 0])
    assert list(near) == [1, 1, 0, 0, 0]
    assert list(sec) == [0, 1, 2, 1, 0]
    # an offset of 1 s on source 0 makes node 2 strictly nearer to source 1
    sec, near = careshed.arrays.travel_time_graph(5, t, h, c, [4, 0], start_offsets_seconds=[1.0, 0.0])
    assert list(near) == [1, 1, 1, 0, 0] and list(sec) == [0, 1, 2, 2, 1]


def test_inputs_are_validated_with_clear_errors():
    t, h, c = np.array([0, 1]), np.array([1, 2]), np.array([1.0, 1.0])
    with pytest.raises(careshed.InputError, match=r"heads\[1\] = 2"):
        careshed.arrays.travel_time_graph(2, t, h, c, [0])
    with pytest.raises(careshed.InputError, match=r"seconds\[0\]"):
        careshed.arrays.travel_time_graph(3, t, h, np.array([-1.0, 1.0]), [0])
    with pytest.raises(careshed.InputError, match=r"seconds\[1\]"):
        careshed.arrays.travel_time_graph(3, t, h, np.array([1.0, np.nan]), [0])
    with pytest.raises(careshed.InputError, match=r"sources\[0\]"):
        careshed.arrays.travel_time_graph(3, t, h, c, [7])
    with pytest.raises(careshed.InputError, match="same length"):
        careshed.arrays.travel_time_graph(3, t, h[:1], c, [0])
    with pytest.raises(careshed.InputError, match="seconds must be 1-D with 2"):
        careshed.arrays.travel_time_graph(3, t, h, c[:1], [0])
    with pytest.raises(careshed.InputError, match="integer"):
        careshed.arrays.travel_time_graph(3, t.astype(float), h, c, [0])
    with pytest.raises(careshed.InputError, match="start_offsets_seconds"):
        careshed.arrays.travel_time_graph(3, t, h, c, [0], start_offsets_seconds=[-5.0])
    with pytest.raises(careshed.InputError, match="max_seconds"):
        careshed.arrays.travel_time_graph(3, t, h, c, [0], max_seconds=-1.0)
    with pytest.raises(ValueError):  # InputError is a ValueError
        careshed.arrays.travel_time_graph(3, t, h, c, [[0]])


def test_int32_and_int64_inputs_agree_and_unreachable():
    t, h, c = np.array([0, 1], np.int32), np.array([1, 0], np.int32), np.array([2.5, 4.0])
    a = careshed.arrays.travel_time_graph(4, t, h, c, np.array([0], np.int32))
    b = careshed.arrays.travel_time_graph(4, t.astype(np.int64), h.astype(np.int64), c, np.array([0], np.int64))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert np.isinf(a[0][3]) and a[1][3] == -1
    sec, near = careshed.arrays.travel_time_graph(4, t, h, c, [])
    assert np.all(np.isinf(sec)) and np.all(near == -1)


def test_strided_and_other_integer_dtypes_are_accepted():
    n, tails, heads, seconds, rng = random_graph(9, integer_costs=False)
    ref = careshed.arrays.travel_time_graph(n, tails, heads, seconds, [0, 3])
    both = np.stack([tails, heads], axis=1)  # columns are strided views
    got = careshed.arrays.travel_time_graph(n, both[:, 0], both[:, 1], np.repeat(seconds, 2)[::2],
                                            np.array([0, 3], np.uint16))
    for x, y in zip(ref, got):
        np.testing.assert_array_equal(x, y)
    got = careshed.arrays.travel_time_graph(n, tails.astype(np.uint32), heads.astype(np.uint64), seconds, [0, 3])
    np.testing.assert_array_equal(ref[0], got[0])


def test_k_nearest_and_bounded_lists_match_per_source_searches():
    n, tails, heads, seconds, rng = random_graph(77, integer_costs=True)
    sources = rng.integers(0, n - n // 5, 6)
    g = careshed.arrays.network.Graph(n, tails, heads, seconds)
    per = np.array([plain_dijkstra(n, tails, heads, seconds, s, 0.0) for s in sources])  # (k, n)
    ks, kn = g.k_nearest(sources, 3)
    for v in range(n):
        order = sorted((per[j, v], j) for j in range(len(sources)) if np.isfinite(per[j, v]))
        for r in range(3):
            if r < len(order):
                assert ks[v, r] == order[r][0] and kn[v, r] == order[r][1]
            else:
                assert kn[v, r] == -1 and np.isinf(ks[v, r])
    reach = g.reach(sources, 6.0)
    for j in range(len(sources)):
        expect = np.flatnonzero(per[j] <= 6.0)
        nodes, secs = reach.of(j)
        np.testing.assert_array_equal(nodes, expect)
        np.testing.assert_array_equal(secs, per[j][expect])
    np.testing.assert_array_equal(ks[:, 0], g.travel_time(sources)[0])


# ---- speed profiles ----------------------------------------------------------------------------------
def test_speed_profiles(tmp_path):
    car = careshed.SpeedProfile.car()
    assert "footway" not in car and car["primary"] > car["residential"]
    assert set(profiles()) == {"car", "ambulance", "walking"}
    p = careshed.SpeedProfile("mine", {"primary": 60.0, "track": 10.0}, use_maxspeed=False)
    p["residential"] = 25.0
    del p["track"]
    assert p.to_dict() == {"primary": 60.0, "residential": 25.0}
    path = tmp_path / "p.csv"
    p.to_csv(str(path))
    assert path.read_text().splitlines()[0] == "class,speed_kmh"
    q = careshed.SpeedProfile.from_csv(str(path), "again")
    assert q.to_dict() == p.to_dict() and q.name == "again"
    with pytest.raises(careshed.InputError):
        p["primary"] = -1.0
    with pytest.raises(KeyError):
        p["footway"]
    assert careshed.parse_maxspeed("30 mph") == pytest.approx(30 * 1.609344)  # 1 mph = 1.609344 km/h exactly
    assert careshed.parse_maxspeed("50;30") == 30.0
    assert careshed.parse_maxspeed("none") is None


# ---- RoadGraph on real OSM ---------------------------------------------------------------------------
def haversine(lon1, lat1, lon2, lat2):
    r, k = 6371008.8, math.pi / 180
    a = math.sin((lat2 - lat1) * k / 2) ** 2 + math.cos(lat1 * k) * math.cos(lat2 * k) * math.sin((lon2 - lon1) * k / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


@pytest.fixture(scope="module")
def helsinki():
    # The plain graph: these tests check searches against oracles on its edge lists (restrictions: below).
    return careshed.RoadGraph.from_osm(DATA / "osm" / "helsinki.osm.pbf", profile="car", turn_restrictions=False)


def test_roadgraph_turn_restrictions_of_real_streets_only_lengthen_trips(helsinki):
    # The restriction search itself is checked against a Dijkstra on the edge-expanded graph in C++
    # (tests/cpp/road_graph_turns_test.cpp); here: Helsinki's restrictions are read and applied.
    g = careshed.RoadGraph.from_osm(DATA / "osm" / "helsinki.osm.pbf", profile="car")
    r = g.report
    assert r["restrictions_applied"] > 10 and g.has_turn_restrictions and not helsinki.has_turn_restrictions
    # Helsinki's extract: 45 read (none via a way), 43 applied, 2 unusable.
    assert r["restrictions_read"] == r["restrictions_applied"] + r["restrictions_unusable"]
    assert r["restrictions_via_way"] <= r["restrictions_read"]
    assert g.n_edges == helsinki.n_edges  # restrictions change the searches, not the edges
    for reverse in (False, True):
        with_turns, _ = g.nearest_from_nodes([5, 700], reverse=reverse)
        free, _ = helsinki.nearest_from_nodes([5, 700], reverse=reverse)
        both = np.isfinite(free)
        assert np.all(np.isfinite(with_turns) <= both)
        assert np.all(with_turns[both & np.isfinite(with_turns)] >= free[both & np.isfinite(with_turns)] - 1e-9)
        assert np.count_nonzero(with_turns != free) > 0


def test_roadgraph_graph_view_k_nearest_and_reach_honour_the_restrictions(helsinki):
    # The restricted searches are checked against the route-state oracle in C++ (road_graph_turns_test.cpp);
    # here: RoadGraph.graph's k-nearest and per-source searches are the restricted ones (column 0 equals the
    # restricted nearest search, each reach list equals that source's own restricted search cut at the limit),
    # and they differ from the same searches on the plain edges.
    g = careshed.RoadGraph.from_osm(DATA / "osm" / "helsinki.osm.pbf", profile="car")
    view, plain = g.graph, helsinki.graph
    src = np.array([5, 700, 1500])
    for reverse in (False, True):
        secs, near = g.nearest_from_nodes(src, reverse=reverse)
        ks, kn = view.k_nearest(src, 2, reverse=reverse)
        np.testing.assert_array_equal(kn[:, 0], near)
        np.testing.assert_array_equal(ks[:, 0], secs)
        assert np.any(ks != plain.k_nearest(src, 2, reverse=reverse)[0])
        limit = 300.0
        reach = view.reach(src, limit, reverse=reverse)
        for j, s in enumerate(src):
            alone, _ = g.nearest_from_nodes([s], reverse=reverse, max_seconds=limit)
            nodes, seconds = reach.of(j)
            np.testing.assert_array_equal(nodes, np.flatnonzero(np.isfinite(alone)))
            np.testing.assert_array_equal(seconds, alone[nodes])
        t, _ = view.travel_time(src, reverse=reverse)
        np.testing.assert_array_equal(t, secs)
    arcs = g.turn_arcs()
    assert arcs["copy_origin"].size == 43 and arcs["tails"].size > g.n_edges  # one copy per restricted entry
    assert np.array_equal(helsinki.turn_arcs()["edge"], np.arange(helsinki.n_edges))


def test_roadgraph_reader_choice_and_its_errors(tmp_path):
    path = DATA / "osm" / "helsinki.osm.pbf"
    gdal = careshed.RoadGraph.from_osm(path, profile="car", reader="gdal")
    assert gdal.report["restrictions_read"] == 0 and not gdal.has_turn_restrictions
    with pytest.raises(careshed.InputError, match="use reader='osmium'.*or reader='gdal'"):
        careshed.RoadGraph.from_osm(path, reader="osm2pgsql")
    with pytest.raises(careshed.InputError, match="reader='osmium' cannot open /vsimem/"):
        careshed.RoadGraph.from_osm("/vsimem/x.osm.pbf", reader="osmium")
    with pytest.raises(careshed.InputError, match="ferry_speed_kmh=0"):
        careshed.RoadGraph.from_osm(path, ferry_speed_kmh=0)
    with pytest.raises(careshed.InputError, match="ferry_wait_minutes=-1"):
        careshed.RoadGraph.from_osm(path, ferry_wait_minutes=-1)


def test_roadgraph_edges_nodes_and_lengths(helsinki):
    g = helsinki
    assert g.geographic and g.n_nodes == g.node_xy.shape[0]
    e = g.edges
    assert e["tails"].size == g.n_edges
    xy = g.node_xy
    for i in range(0, g.n_edges, 97):
        a, b = e["tails"][i], e["heads"][i]
        L = haversine(xy[a, 0], xy[a, 1], xy[b, 0], xy[b, 1])
        assert e["length_m"][i] == pytest.approx(L, rel=1e-9)
        assert e["seconds"][i] == pytest.approx(L / (e["speed_kmh"][i] / 3.6), rel=1e-9)
    r = g.report
    assert r["oneway_lines"] > 100 and r["speed_from_maxspeed"] > 100 and r["excluded_class"] > 100
    # Same search through the graph object and through the array-level contract
    sec1, near1 = g.nearest_from_nodes([0, 10])
    sec2, near2 = careshed.arrays.travel_time_graph(g.n_nodes, e["tails"], e["heads"], e["seconds"], [0, 10])
    np.testing.assert_array_equal(sec1, sec2)
    np.testing.assert_array_equal(near1, near2)


def test_roadgraph_search_matches_networkx_on_real_streets(helsinki):
    g = helsinki
    e = g.edges
    G = nx.MultiDiGraph()
    G.add_nodes_from(range(g.n_nodes))
    G.add_weighted_edges_from(zip(e["tails"].tolist(), e["heads"].tolist(), e["seconds"].tolist()))
    sources = [5, 700, 1500]
    for reverse in (False, True):
        H = G.reverse(copy=True) if reverse else G
        dist, paths = nx.multi_source_dijkstra(H, sources, weight="weight")
        sec, near = g.nearest_from_nodes(sources, reverse=reverse)
        for v in range(g.n_nodes):
            if v in dist:
                assert sec[v] == pytest.approx(dist[v], rel=1e-12)
            else:
                assert np.isinf(sec[v]) and near[v] == -1


def test_roadgraph_strong_components_match_networkx(helsinki):
    g = helsinki
    comp = g.components(strong=True)
    G = nx.DiGraph()
    G.add_nodes_from(range(g.n_nodes))
    G.add_edges_from(zip(g.edges["tails"].tolist(), g.edges["heads"].tolist()))
    expect = sorted(nx.strongly_connected_components(G), key=lambda c: (-len(c), min(c)))
    assert comp.sizes.tolist() == [len(c) for c in expect]
    for k, members in enumerate(expect):
        assert np.all(comp.id[sorted(members)] == k)
    assert comp.sizes[0] < g.components().sizes[0]  # one-way streets trap some nodes


def test_roadgraph_oneway_is_asymmetric(helsinki):
    g = helsinki
    e = g.edges
    pairs = set(zip(e["tails"].tolist(), e["heads"].tolist()))
    one = [(a, b) for a, b in pairs if (b, a) not in pairs]
    assert len(one) > 100
    a, b = one[0]
    fwd, _ = g.nearest_from_nodes([a])
    back, _ = g.nearest_from_nodes([b])
    assert back[a] > fwd[b]
    to_a, _ = g.nearest_from_nodes([a], reverse=True)
    assert to_a[b] == pytest.approx(back[a], rel=1e-12)  # summed in the other order


def test_roadgraph_comoros_ferries_join_the_islands():
    path = DATA / "comoros" / "comores-latest.osm.pbf"
    g = careshed.RoadGraph.from_osm(path, profile="car", ferry_wait_minutes=45)
    roads = careshed.RoadGraph.from_osm(path, profile="car", ferries=False)
    e = g.edges
    assert g.report["ferry_lines"] >= 2 and roads.report["ferry_lines"] == 0
    ferry = e["ferry"] == 1
    assert ferry.any() and not roads.edges["ferry"].any()
    assert set(np.unique(e["wait_seconds"][ferry])) <= {0.0, 2700.0} and (e["wait_seconds"][~ferry] == 0).all()
    # every ferry line is boarded once each way it runs
    assert np.count_nonzero(e["wait_seconds"] > 0) <= 2 * g.report["ferry_lines"]
    assert g.components().sizes[0] > roads.components().sizes[0]  # ferries link road networks


def test_roadgraph_components_comoros():
    g = careshed.RoadGraph.from_osm(DATA / "comoros" / "comores-latest.osm.pbf", profile="car")
    comp = g.components()
    assert comp.sizes.sum() == g.n_nodes and len(comp.sizes) >= 3
    assert np.all(np.diff(comp.sizes) <= 0)
    assert np.bincount(comp.id).tolist() == comp.sizes.tolist()
    # networkx agrees on the partition sizes
    G = nx.Graph()
    G.add_nodes_from(range(g.n_nodes))
    G.add_edges_from(zip(g.edges["tails"].tolist(), g.edges["heads"].tolist()))
    assert sorted((len(c) for c in nx.connected_components(G)), reverse=True) == comp.sizes.tolist()


def test_roadgraph_snap_and_access_legs():
    # A projected toy network worked by hand: (0,0)→(1000,0) one-way at 36 km/h, (1000,0)–(1000,1000) at 72.
    g = careshed.RoadGraph.from_xy_lines([[(0, 0), (1000, 0)], [(1000, 0), (1000, 1000)]], [36.0, 72.0],
                                         oneway=[1, 0])
    snap = g.snap(np.array([[0.0, 100.0], [1200.0, 0.0], [5000.0, 0.0]]), max_distance_m=1000)
    assert snap.distance_m[0] == 100.0 and snap.distance_m[1] == 200.0
    assert snap.node[2] == -1 and np.isinf(snap.distance_m[2]) and np.isinf(snap.access_seconds[2])
    assert snap.access_seconds[1] == pytest.approx(200 / (5 / 3.6))
    assert g.snap(np.array([[1200.0, 0.0]]), offroad_speed_kmh=20).access_seconds[0] == pytest.approx(36.0)
    with pytest.raises(careshed.InputError, match="offroad_speed_kmh"):
        g.snap(np.zeros((1, 2)), offroad_speed_kmh=0)
    tt = g.travel_time(np.array([[0.0, 100.0]]), np.array([[1200.0, 0.0], [1000.0, 1000.0]]),
                       start_offsets_seconds=[30.0], offroad_speed_kmh=5.0)
    walk = 3.6 / 5.0  # seconds per metre at 5 km/h
    assert tt.seconds[0] == pytest.approx(30 + 100 * walk + 100 + 200 * walk)
    assert tt.seconds[1] == pytest.approx(30 + 100 * walk + 100 + 50)
    assert list(tt.nearest) == [0, 0]
    back = g.travel_time(np.array([[0.0, 100.0]]), np.array([[1200.0, 0.0]]), reverse=True)
    assert np.isinf(back.seconds[0]) and back.nearest[0] == -1  # cannot drive west on the one-way road


def test_from_xy_lines_block_equals_list():
    rng = np.random.default_rng(5)
    pts = rng.integers(0, 20, (200, 2, 2)).astype(float) * 50
    pts = pts[np.any(pts[:, 0] != pts[:, 1], axis=1)]
    speeds = rng.uniform(10, 80, len(pts))
    dirs = rng.integers(-1, 2, len(pts))
    a = careshed.RoadGraph.from_xy_lines(pts, speeds, oneway=dirs)
    b = careshed.RoadGraph.from_xy_lines(list(pts), speeds, oneway=dirs)
    np.testing.assert_array_equal(a.node_xy, b.node_xy)
    for k in ("tails", "heads", "seconds"):
        np.testing.assert_array_equal(a.edges[k], b.edges[k])
    with pytest.raises(careshed.InputError, match="n_lines, n_vertices, 2"):
        careshed.RoadGraph.from_xy_lines(np.zeros((3, 2)), [1.0, 1.0, 1.0])


def test_roadgraph_from_lines_layer(tmp_path):
    gpkg = tmp_path / "roads.geojson"
    gpkg.write_text(
        '{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::32638"}},'
        '"features":[{"type":"Feature","properties":{"cls":"primary","oneway":"yes"},'
        '"geometry":{"type":"LineString","coordinates":[[0,0],[0,900]]}},'
        '{"type":"Feature","properties":{"cls":"footway","oneway":null},'
        '"geometry":{"type":"LineString","coordinates":[[0,900],[50,900]]}}]}')
    g = careshed.RoadGraph.from_lines(gpkg, class_field="cls", oneway_field="oneway", profile={"primary": 54.0})
    assert not g.geographic and g.n_nodes == 2 and g.n_edges == 1
    assert g.report["excluded_class"] == 1
    assert g.edges["seconds"][0] == pytest.approx(900 / 15.0)
    with pytest.raises(careshed.InputError, match="cls, oneway"):
        careshed.RoadGraph.from_lines(gpkg, class_field="highway")
    with pytest.raises(OSError):
        careshed.RoadGraph.from_osm(tmp_path / "missing.osm.pbf")


# ---- straight line -----------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_straight_line_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    fac = rng.integers(0, 30, (20, 2)).astype(float) * 100
    fac[5] = fac[2]  # duplicate facility: index 2 wins
    pts = rng.integers(0, 30, (300, 2)).astype(float) * 100
    sec, near = careshed.arrays.travel_time_straight_line(fac, pts, speed_kmh=30, detour_factor=1.4, max_seconds=400)
    d = np.hypot(pts[:, None, 0] - fac[None, :, 0], pts[:, None, 1] - fac[None, :, 1])
    t = d / (30 / 3.6) * 1.4
    t[t > 400] = np.inf
    exp_near = np.where(np.isfinite(t.min(1)), t.argmin(1), -1)  # argmin returns the first (lowest) index
    np.testing.assert_allclose(sec, t.min(1), rtol=1e-12)
    np.testing.assert_array_equal(near, exp_near)
    ks, kn = careshed.arrays.travel_time_straight_line(fac, pts, speed_kmh=30, detour_factor=1.4, k=2)
    order = np.argsort(d / (30 / 3.6) * 1.4, axis=1, kind="stable")[:, :2]
    np.testing.assert_array_equal(kn, order)


def test_straight_line_grid_and_geographic():
    sec, near = travel_time_straight_line_grid(np.array([[50.0, 250.0]]), 3, 3, (0, 100, 0, 300, 0, -100),
                                               speed_kmh=3.6)
    assert sec.shape == (3, 3) and sec[0, 0] == 0 and sec[0, 2] == 200 and sec[2, 0] == 200
    assert near.dtype == np.int32 and np.all(near == 0)
    s, _ = careshed.arrays.travel_time_straight_line(np.array([[43.25, -11.70]]), np.array([[43.26, -11.71]]),
                                                     speed_kmh=3.6, geographic=True)
    assert s[0] == pytest.approx(haversine(43.25, -11.70, 43.26, -11.71), rel=1e-9)
    with pytest.raises(careshed.InputError, match="speed_kmh"):
        careshed.arrays.travel_time_straight_line(np.zeros((1, 2)), np.zeros((1, 2)), speed_kmh=0)


# ---- former names (one release): graph_travel_time, straight_line_*, source_offsets= ----------------------

def test_former_engine_names_warn_and_give_the_same_result():
    t, h, c = np.array([0, 1, 2]), np.array([1, 2, 3]), np.array([1.0, 2.0, 3.0])
    pairs = [("graph_travel_time", "travel_time_graph", (4, t, h, c, [0]), {"start_offsets_seconds": [2.0]}),
             ("straight_line_travel_time", "travel_time_straight_line", (np.zeros((1, 2)), np.ones((3, 2))),
              {"speed_kmh": 30}),
             ("straight_line_grid_travel_time", "travel_time_straight_line_grid",
              (np.array([[50.0, 250.0]]), 3, 3, (0, 100, 0, 300, 0, -100)), {"speed_kmh": 36})]
    for old, new, args, kw in pairs:
        expected = getattr(careshed.arrays, new)(*args, **kw)
        with pytest.warns(DeprecationWarning, match=f"{old} is deprecated; use {new}") as caught:
            got = getattr(careshed.arrays, old)(*args, **kw)
        assert caught[0].filename == __file__
        for g, e in zip(got, expected):
            np.testing.assert_array_equal(g, e)


def flat(result):
    """The arrays of a graph search's result (RoadTravelTime: the per-node ones)."""
    if isinstance(result, careshed.arrays.RoadTravelTime):
        return [result.node_seconds, result.node_nearest]
    return [np.asarray(a) for a in result]


def test_former_offsets_keyword_warns_on_every_graph_search():
    t, h, c = np.array([0, 1, 2]), np.array([1, 2, 3]), np.array([1.0, 2.0, 3.0])
    graph = careshed.arrays.Graph(4, t, h, c)
    road = careshed.RoadGraph.from_xy_lines([[(0, 0), (1000, 0)]], [36.0])
    searches = {
        "travel_time_graph": lambda **kw: careshed.arrays.travel_time_graph(4, t, h, c, [0, 2], **kw),
        "Graph.travel_time": lambda **kw: graph.travel_time([0, 2], **kw),
        "Graph.k_nearest": lambda **kw: graph.k_nearest([0, 2], 2, **kw),
        "Graph.reach": lambda **kw: graph.reach([0, 2], 10.0, **kw),
        "RoadGraph.nearest_from_nodes": lambda **kw: road.nearest_from_nodes([0, 1], **kw),
        "RoadGraph.travel_time": lambda **kw: road.travel_time(np.array([[0.0, 0.0], [1000.0, 0.0]]), **kw),
    }
    for where, search in searches.items():
        new = flat(search(start_offsets_seconds=[4.0, 0.0]))
        assert not all(np.array_equal(a, b) for a, b in zip(new, flat(search()))), where  # offsets matter
        with pytest.warns(DeprecationWarning, match=f"{where}: source_offsets= is deprecated") as caught:
            old = flat(search(source_offsets=[4.0, 0.0]))
        assert caught[0].filename == __file__, where
        for a, b in zip(old, new):
            np.testing.assert_array_equal(a, b)
        # bad offsets are refused in the keyword the caller knows
        with pytest.raises(careshed.InputError, match=r"start_offsets_seconds\[0\] = -1"):
            search(start_offsets_seconds=[-1.0, 0.0])
        with pytest.raises(careshed.InputError, match="one value per source"):
            search(start_offsets_seconds=[1.0])


def test_fork_after_reading_osm_reads_again_in_the_child():
    # libosmium's default thread pool is a process-wide static: a process forked after a read inherited it
    # without its threads and hung forever on its next read (Python's multiprocessing forks on Linux). Each read
    # now owns its pool (core/src/osm_reader.cpp). Run in a fresh interpreter so pytest itself never forks.
    script = f"""
import os, signal, sys
import careshed
path = {str(DATA / "osm" / "helsinki.osm.pbf")!r}
parent = careshed.RoadGraph.from_osm(path, profile="car")
pid = os.fork()
if pid == 0:
    signal.alarm(60)  # the old behaviour: a hang, ended here as SIGALRM
    child = careshed.RoadGraph.from_osm(path, profile="car")
    os._exit(0 if child.n_edges == parent.n_edges and child.n_nodes == parent.n_nodes else 3)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, (run.returncode, run.stderr[-2000:])
