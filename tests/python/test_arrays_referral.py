"""careshed.arrays.referral against independent references on random inputs (logged, replayable seed:
CARESHED_TEST_SEED): a plain per-facility Dijkstra on a small grid (tests/python/oracles.py) and networkx on a
small directed graph; plus hand-worked cases (ties, a level with no facility, assigned vs nearest, one-way
streets), argument errors and two_leg_seconds."""
from __future__ import annotations

import math
import os

import networkx as nx
import numpy as np
import pytest

from careshed.arrays.referral import level_codes, referral_graph, referral_grid, two_leg_seconds
from careshed.errors import InputError

from oracles import dijkstra


def _seed(name: str) -> int:
    seed = int(os.environ.get("CARESHED_TEST_SEED", np.random.SeedSequence().entropy % (2**32)))
    print(f"[ seed ] {name}: CARESHED_TEST_SEED={seed}")
    return seed


def _step(friction, cell, a, b):
    """(seconds, metres) of one 8-neighbour step between flat cells a and b (the r.cost rule)."""
    cols = friction.shape[1]
    (ra, ca), (rb, cb) = divmod(int(a), cols), divmod(int(b), cols)
    assert max(abs(ra - rb), abs(ca - cb)) == 1, f"route step {a}->{b} is not between neighbours"
    length = math.hypot(ra - rb, ca - cb) * cell
    return length * (friction[ra, ca] + friction[rb, cb]) / 2, length


@pytest.mark.parametrize("trial", range(4))
def test_grid_against_per_facility_dijkstra(trial):
    rng = np.random.default_rng(_seed(f"grid trial {trial}"))
    rows, cols, cell = 14, 17, 50.0
    friction = rng.uniform(0.02, 0.2, size=(rows, cols))
    friction[rng.random((rows, cols)) < 0.12] = np.nan   # impassable cells: some facilities unreachable
    passable = np.flatnonzero(np.isfinite(friction.ravel()))
    n = 12
    cells = rng.choice(passable, size=n, replace=False)
    rc = np.column_stack(divmod(cells, cols)).astype(np.int64)
    level = rng.integers(0, 3, size=n)
    level[:3] = [0, 1, 2]
    assigned = np.full(n, -1)
    assigned[rng.choice(n, size=3, replace=False)] = -2   # placeholders, resolved below (never to itself)
    for i in np.flatnonzero(assigned == -2):
        assigned[i] = (i + 1 + rng.integers(0, n - 1)) % n
    cutoff = None if trial % 2 == 0 else 25.0
    ref = referral_grid(friction.astype(np.float32) if trial == 3 else friction, rc, level, cell_size=(cell, cell),
                        assigned=assigned, max_seconds=cutoff, keep_routes=True)
    f = friction.astype(np.float32).astype(np.float64) if trial == 3 else friction
    dist = dijkstra(f, [tuple(x) for x in rc], np.zeros(n), cell)   # (n, rows, cols) from each facility
    if cutoff is not None:
        dist[dist > cutoff] = np.inf
    # per level: nearest facility per cell (lowest index among near-ties skipped), seconds
    for lv in range(3):
        members = np.flatnonzero(level == lv)
        d = dist[members]
        best = d.min(axis=0)
        got = ref.seconds[lv].astype(np.float64)
        np.testing.assert_allclose(got, best.astype(np.float32), rtol=2e-6, atol=1e-5)
        srt = np.sort(d, axis=0)
        with np.errstate(invalid="ignore"):   # inf - inf where no facility of the level reaches
            clear = np.isfinite(best) & ((srt[1] - srt[0] > 1e-3 * np.maximum(srt[0], 1)) if len(members) > 1
                                         else True)
        want = np.where(np.isfinite(best), members[np.argmin(d, axis=0)], -1)
        assert np.array_equal(ref.nearest[lv][clear], want[clear])
        assert np.array_equal(ref.nearest[lv] < 0, ~np.isfinite(best))
    # per facility: target, seconds, and the route (checked step by step with the oracle's rule)
    for i in range(n):
        r, c = rc[i]
        if assigned[i] >= 0:
            cand = np.array([assigned[i]])
        elif level[i] + 1 <= 2:
            cand = np.flatnonzero(level == level[i] + 1)
        else:
            cand = np.array([], dtype=int)
        times = dist[cand, r, c] if cand.size else np.array([])
        if not cand.size or not np.isfinite(times.min()):
            assert ref.target[i] == -1 and ref.target_seconds[i] == np.inf and ref.target_metres[i] == np.inf
            assert ref.routes[i].size == 0
            continue
        assert ref.assigned[i] == (assigned[i] >= 0)
        srt = np.sort(times)
        if srt.size == 1 or srt[1] - srt[0] > 1e-3 * max(srt[0], 1):
            assert ref.target[i] == cand[np.argmin(times)], f"facility {i}"
        assert ref.target_seconds[i] == pytest.approx(times.min(), rel=2e-6, abs=1e-5)
        route = ref.routes[i]
        j = ref.target[i]
        assert route[0] == r * cols + c and route[-1] == rc[j, 0] * cols + rc[j, 1]
        secs = metres = 0.0
        for a, b in zip(route[:-1], route[1:]):
            s, m = _step(f, cell, a, b)
            secs += s
            metres += m
        assert secs == pytest.approx(ref.target_seconds[i], rel=1e-4), f"route of facility {i} is not least-time"
        assert ref.target_metres[i] == pytest.approx(metres, rel=1e-12)


def _random_graph(rng, n_nodes, n_edges):
    edges = {}
    while len(edges) < n_edges:
        a, b = (int(v) for v in rng.integers(0, n_nodes, size=2))
        if a != b:
            edges[(a, b)] = (float(rng.integers(1, 6)), float(rng.integers(10, 500)))  # integer seconds: exact ties
    tails = np.array([k[0] for k in edges]); heads = np.array([k[1] for k in edges])
    secs = np.array([v[0] for v in edges.values()]); lens = np.array([v[1] for v in edges.values()])
    return tails, heads, secs, lens


@pytest.mark.parametrize("trial", range(4))
def test_graph_against_networkx(trial):
    rng = np.random.default_rng(_seed(f"graph trial {trial}"))
    n_nodes = 60
    tails, heads, secs, lens = _random_graph(rng, n_nodes, 150)
    g = nx.DiGraph()
    g.add_nodes_from(range(n_nodes))
    for t, h, s, m in zip(tails, heads, secs, lens):
        g.add_edge(int(t), int(h), seconds=s, metres=m)
    n = 15
    nodes = rng.choice(n_nodes, size=n, replace=True)     # facilities may share a node
    level = rng.integers(0, 3, size=n)
    level[:3] = [0, 1, 2]
    names = ["clinic", "centre", "hospital"]
    assigned = np.full(n, -1)
    for i in rng.choice(n, size=3, replace=False):
        assigned[i] = (i + 1 + rng.integers(0, n - 1)) % n
    cutoff = None if trial < 2 else 6.0
    ref = referral_graph(n_nodes, tails, heads, secs, lens, nodes, [names[v] for v in level], level_order=names,
                         assigned=assigned, max_seconds=cutoff, keep_routes=True)
    # time from every node TO facility k: Dijkstra from its node on the reversed graph
    rev = g.reverse(copy=True)
    to = np.full((n, n_nodes), np.inf)
    for k in range(n):
        for v, d in nx.single_source_dijkstra_path_length(rev, int(nodes[k]), weight="seconds").items():
            if cutoff is None or d <= cutoff:
                to[k, v] = d
    for lv in range(3):
        members = np.flatnonzero(level == lv)
        d = to[members]
        best = d.min(axis=0)
        want = np.where(np.isfinite(best), members[np.argmin(d, axis=0)], -1)   # argmin: first = lowest index
        np.testing.assert_array_equal(ref.seconds[lv], best)
        np.testing.assert_array_equal(ref.nearest[lv], want)
    for i in range(n):
        if assigned[i] >= 0:
            cand = np.array([assigned[i]])
        elif level[i] < 2:
            cand = np.flatnonzero(level == level[i] + 1)
        else:
            cand = np.array([], dtype=int)
        times = to[cand, nodes[i]] if cand.size else np.array([np.inf])
        if not np.isfinite(times.min()):
            assert ref.target[i] == -1 and ref.target_seconds[i] == np.inf and ref.target_metres[i] == np.inf
            continue
        assert ref.target[i] == cand[np.argmin(times)]          # exact ties: the lowest index
        assert ref.target_seconds[i] == times.min()
        route = ref.routes[i]
        assert route[0] == nodes[i] and route[-1] == nodes[ref.target[i]]
        s = sum(g.edges[int(a), int(b)]["seconds"] for a, b in zip(route[:-1], route[1:]))
        m = sum(g.edges[int(a), int(b)]["metres"] for a, b in zip(route[:-1], route[1:]))
        assert s == ref.target_seconds[i] and m == ref.target_metres[i]


def test_hand_worked_strip_ties_empty_level_assigned():
    # 1 x 7 strip, 1 m cells at 1 s/m. Facilities: 0 level "B" at col 6, 1 level "B" at col 0, 2 level "A" at
    # col 3 (3 s from both "B": the tie goes to facility 0). Level "C" has no facility.
    f = np.ones((1, 7))
    rc = np.array([[0, 6], [0, 0], [0, 3]])
    r = referral_grid(f, rc, ["B", "B", "A"], level_order=["A", "B", "C"], cell_size=(1.0, 1.0))
    assert r.levels == ["A", "B", "C"]
    assert r.target.tolist() == [-1, -1, 0]
    assert r.target_seconds.tolist() == [np.inf, np.inf, 3.0]
    assert r.target_metres.tolist() == [np.inf, np.inf, 3.0]
    assert np.all(r.nearest[2] == -1) and np.all(np.isinf(r.seconds[2]))
    # two legs from col 1: 2 s to the "A" facility, then its 3 s referral
    assert two_leg_seconds(r, "A")[0].tolist() == [6.0, 5.0, 4.0, 3.0, 4.0, 5.0, 6.0]
    assert np.all(np.isinf(two_leg_seconds(r, "B")))   # "B" refers to nothing
    # assigned to facility 1 (west) instead of the nearest
    a = referral_grid(f, rc, ["B", "B", "A"], level_order=["A", "B", "C"], cell_size=(1.0, 1.0),
                      assigned=[-1, -1, 1])
    assert a.target[2] == 1 and a.assigned.tolist() == [False, False, True]
    # assigned by NaN for "nearest" (a float field read from a file)
    b = referral_grid(f, rc, ["B", "B", "A"], level_order=["A", "B", "C"], cell_size=(1.0, 1.0),
                      assigned=[np.nan, np.nan, 1.0])
    assert b.target[2] == 1


def test_level_codes_and_errors():
    codes, names = level_codes(["county", "village", "county"], ["village", "township", "county"])
    assert codes.tolist() == [2, 0, 2] and names == ["village", "township", "county"]
    assert level_codes([0, 2, 1])[1] == ["0", "1", "2"]
    with pytest.raises(InputError, match="level_order"):
        level_codes(["a", "b"])
    with pytest.raises(InputError, match="facility 1 has level 'x'"):
        level_codes(["a", "x"], ["a", "b"])
    with pytest.raises(InputError, match="listed twice"):
        level_codes(["a"], ["a", "a"])
    with pytest.raises(InputError, match="facility 0 has level 3"):
        level_codes([3], ["a", "b"])
    f = np.ones((2, 2))
    with pytest.raises(InputError, match="assigned to itself"):
        referral_grid(f, [[0, 0], [1, 1]], [0, 1], cell_size=(1, 1), assigned=[0, -1])
    with pytest.raises(InputError, match="does not exist"):
        referral_grid(f, [[0, 0], [1, 1]], [0, 1], cell_size=(1, 1), assigned=[5, -1])
    with pytest.raises(InputError, match="one level per facility"):
        referral_grid(f, [[0, 0], [1, 1]], [0], cell_size=(1, 1))
    with pytest.raises(InputError, match="outside"):
        referral_grid(f, [[0, 0], [2, 1]], [0, 1], cell_size=(1, 1))
    with pytest.raises(InputError, match="length_m"):
        referral_graph(2, [0], [1], [1.0], [-1.0], [0, 1], [0, 1])


def test_progress_and_stopping_through_the_progress_callable():
    """The run reports increasing fractions up to 1.0 under the study's reporter, and an exception raised by the
    reporter (as Ctrl-C's KeyboardInterrupt would be) stops it — bindings/run_watch.hpp."""
    from careshed.progress import reporting

    rng = np.random.default_rng(7)
    f = rng.uniform(0.02, 0.5, size=(900, 900)).astype(np.float32)
    rc = np.column_stack([rng.integers(0, 900, 60), rng.integers(0, 900, 60)])
    level = np.arange(60) % 3
    calls = []
    with reporting(lambda frac, phase: calls.append((frac, phase))):
        r = referral_grid(f, rc, level, cell_size=(100.0, 100.0))
    fr = [c[0] for c in calls]
    assert fr and fr[-1] == 1.0 and all(a <= b for a, b in zip(fr, fr[1:]))
    plain = referral_grid(f, rc, level, cell_size=(100.0, 100.0))
    np.testing.assert_array_equal(r.target, plain.target)

    class Stop(Exception):
        pass

    def stop(frac, phase):
        if frac > 0.3:
            raise Stop(phase)

    with reporting(stop), pytest.raises(Stop):
        referral_grid(f, rc, level, cell_size=(100.0, 100.0))


def _knight_aware_step(friction, cell, a, b):
    """(seconds, metres) of one step of the 16-neighbour rule (raster_search.hpp: knight's moves average four cells)."""
    cols = friction.shape[1]
    (ra, ca), (rb, cb) = divmod(int(a), cols), divmod(int(b), cols)
    dr, dc = rb - ra, cb - ca
    length = math.hypot(dr, dc) * cell
    if max(abs(dr), abs(dc)) == 1:
        return length * (friction[ra, ca] + friction[rb, cb]) / 2, length
    assert sorted((abs(dr), abs(dc))) == [1, 2], f"route step {a}->{b} is not a move of the 16-neighbour rule"
    if abs(dr) == 2:
        c1, c2 = friction[ra + dr // 2, ca], friction[ra + dr // 2, cb]
    else:
        c1, c2 = friction[ra, ca + dc // 2], friction[rb, ca + dc // 2]
    return length * (friction[ra, ca] + friction[rb, cb] + c1 + c2) / 4, length


def test_sixteen_neighbours_routes_are_least_time_and_match_the_engine():
    """With knight's moves: each referral time equals the engine's single-source search at the facility's cell
    (travel_time_grid from the target), and the retraced route, summed with the 16-neighbour rule written here,
    takes that time."""
    from careshed.arrays.travel_time import travel_time_grid

    rng = np.random.default_rng(_seed("16 neighbours"))
    f = rng.uniform(0.02, 0.2, size=(25, 30))
    f[rng.random(f.shape) < 0.05] = np.nan
    passable = np.flatnonzero(np.isfinite(f.ravel()))
    cells = rng.choice(passable, size=10, replace=False)
    rc = np.column_stack(divmod(cells, 30)).astype(np.int64)
    level = np.array([0, 0, 0, 0, 0, 1, 1, 1, 2, 2])
    r = referral_grid(f, rc, level, cell_size=(30.0, 30.0), neighbours=16, keep_routes=True)
    for i in range(10):
        j = r.target[i]
        if j < 0:
            assert level[i] == 2 or not np.isfinite(r.target_seconds[i])
            continue
        s, _ = travel_time_grid(f, rc[[j]], cell_size=(30.0, 30.0), neighbours=16)
        assert r.target_seconds[i] == pytest.approx(float(s[rc[i, 0], rc[i, 1]]), rel=1e-6)
        secs = metres = 0.0
        for a, b in zip(r.routes[i][:-1], r.routes[i][1:]):
            t, m = _knight_aware_step(f, 30.0, a, b)
            secs, metres = secs + t, metres + m
        assert secs == pytest.approx(r.target_seconds[i], rel=1e-4)
        assert metres == pytest.approx(r.target_metres[i], rel=1e-12)


REFERRAL_RUN = r"""
import sys, time
import numpy as np
from careshed.arrays.referral import referral_grid
from careshed.progress import reporting
n = 2500
rng = np.random.default_rng(3)
friction = rng.uniform(0.02, 0.5, size=(n, n)).astype(np.float32)  # 2.7 s of CPU in all (uniform: 1.2 s)
facilities = rng.integers(0, n, size=(400, 2))
seen = [0.0]
def progress(fraction, phase):
    seen[0] = fraction
    print("progress", fraction, flush=True)
print("start", flush=True)
try:
    with reporting(progress):
        referral_grid(friction, facilities, np.arange(400) % 4, cell_size=(100.0, 100.0), threads=1)
except KeyboardInterrupt:
    print("interrupted at", seen[0], flush=True)
    sys.exit(3)
print("finished", flush=True)
"""


def test_ctrl_c_stops_a_referral_within_one_second():
    """SIGINT (Ctrl-C, Jupyter's interrupt) during a referral run: KeyboardInterrupt within 1 s, mid-run."""
    import interrupt_case

    p = interrupt_case.start(["-c", REFERRAL_RUN])
    r = interrupt_case.interrupt(p, interrupt_case.wait_for_progress(p))
    assert r.returncode == 3, (r.stdout, r.stderr)
    assert "finished" not in r.stdout
    r.check(threads=1)  # threads=1 in the run
    assert 0.0 < float(r.stdout.split("interrupted at")[1].split()[0]) < 1.0


def test_real_streets_of_helsinki_against_networkx():
    """referral_graph on a RoadGraph built from the shipped Helsinki OSM extract (one-way streets, real speeds), with
    random facilities in 3 levels (logged seed): nearest times per level, targets and route metres against networkx
    on the same directed edges."""
    from pathlib import Path

    import careshed

    g = careshed.RoadGraph.from_osm(Path(__file__).resolve().parents[2] / "data" / "osm" / "helsinki.osm.pbf",
                                    profile="car")
    e = g.edges
    rng = np.random.default_rng(_seed("helsinki referral"))
    nodes = rng.choice(g.n_nodes, size=30, replace=False)
    level = rng.integers(0, 3, size=30)
    level[:3] = [0, 1, 2]
    r = referral_graph(g.n_nodes, e["tails"], e["heads"], e["seconds"], e["length_m"], nodes, level,
                       keep_routes=True)
    dg = nx.DiGraph()
    for t, h, s, m in zip(e["tails"], e["heads"], e["seconds"], e["length_m"]):
        t, h = int(t), int(h)
        if not dg.has_edge(t, h) or dg.edges[t, h]["seconds"] > s:   # parallel edges: the faster one
            dg.add_edge(t, h, seconds=float(s), metres=float(m))
    assert (r.target >= 0).sum() >= 5, "too few referrals in reach to test anything (seed above)"
    rev = dg.reverse(copy=True)
    to = np.full((30, g.n_nodes), np.inf)
    for k in range(30):
        if int(nodes[k]) in rev:
            for v, d in nx.single_source_dijkstra_path_length(rev, int(nodes[k]), weight="seconds").items():
                to[k, v] = d
    for lv in range(3):
        members = np.flatnonzero(level == lv)
        best = to[members].min(axis=0)
        np.testing.assert_allclose(r.seconds[lv], best, rtol=1e-12)
    for i in range(30):
        if level[i] == 2:
            assert r.target[i] == -1
            continue
        cand = np.flatnonzero(level == level[i] + 1)
        times = to[cand, nodes[i]]
        if not np.isfinite(times.min()):
            assert r.target[i] == -1
            continue
        assert r.target_seconds[i] == pytest.approx(times.min(), rel=1e-12)
        route = r.routes[i]
        assert route[0] == nodes[i] and route[-1] == nodes[r.target[i]]
        s = sum(dg.edges[int(a), int(b)]["seconds"] for a, b in zip(route[:-1], route[1:]))
        assert s == pytest.approx(r.target_seconds[i], rel=1e-12)
        m = sum(dg.edges[int(a), int(b)]["metres"] for a, b in zip(route[:-1], route[1:]))
        assert r.target_metres[i] == pytest.approx(m, rel=1e-9)
