"""careshed.arrays.travel_time_grid / travel_time_grid_k_nearest / travel_time_grid_reach_lists against an
independent oracle.

The oracle is a plain binary-heap Dijkstra written here (heapq, float64, one search per source) that
follows the r.cost convention of ../shared/DESIGN.md. careshed computes in integer ticks of ~1e-7 s and
returns float32 seconds, so times are compared with a relative tolerance, and source indices exactly
except where two sources are within that tolerance of each other (a near-tie the oracle's float64 and
careshed's ticks may order differently). Seeds are logged in the assertion messages.
"""

import heapq
import math
import warnings

import numpy as np
import pytest

import careshed

DIRS = [(0, -1), (0, 1), (-1, 0), (1, 0), (-1, -1), (-1, 1), (1, -1), (1, 1),
        (-2, -1), (-2, 1), (2, -1), (2, 1), (-1, -2), (-1, 2), (1, -2), (1, 2)]


def step(f, r, c, k, dx, dy):
    """Cost of move k from (r, c) by the r.cost rule, or None if blocked / outside."""
    H, W = f.shape
    dr, dc = DIRS[k]
    r2, c2 = r + dr, c + dc
    if not (0 <= r2 < H and 0 <= c2 < W):
        return None
    cells = [(r, c), (r2, c2)]
    if k >= 8:  # knight's move: also the two cells it passes between
        if abs(dr) == 2:
            cells += [(r + dr // 2, c), (r + dr // 2, c + dc)]
        else:
            cells += [(r, c + dc // 2), (r + dr, c + dc // 2)]
    vals = [float(f[a, b]) for a, b in cells]
    if not all(math.isfinite(v) for v in vals):
        return None
    wdx = dx if np.ndim(dx) == 0 else (dx[r] + dx[r2]) / 2.0
    length = math.hypot(dc * wdx, dr * dy)
    return length * sum(vals) / len(vals)


def dijkstra(f, src, start, neighbours, dx, dy, cut=math.inf):
    H, W = f.shape
    d = np.full((H, W), math.inf)
    if not math.isfinite(f[src]) or start > cut:
        return d
    d[src] = start
    pq = [(start, src)]
    while pq:
        du, (r, c) = heapq.heappop(pq)
        if du > d[r, c]:
            continue
        for k in range(neighbours):
            w = step(f, r, c, k, dx, dy)
            if w is None:
                continue
            v = (r + DIRS[k][0], c + DIRS[k][1])
            nd = du + w
            if nd <= cut and nd < d[v]:
                d[v] = nd
                heapq.heappush(pq, (nd, v))
    return d


def random_case(rng):
    H, W = rng.integers(1, 14, size=2)
    f = rng.uniform(0.5, 2.0, size=(H, W))
    f[rng.random((H, W)) < 0.15] = 0.03            # fast cells ("roads")
    f[rng.random((H, W)) < 0.1] = 0.0              # zero-cost cells
    f[rng.random((H, W)) < rng.uniform(0, 0.3)] = np.nan   # holes
    dx = float(rng.uniform(10, 100))
    dy = dx if rng.random() < 0.5 else float(rng.uniform(10, 100))
    if rng.random() < 0.25:
        dx = rng.uniform(20, 100, size=H)
    k = int(rng.integers(1, 6))
    src = np.column_stack([rng.integers(0, H, k), rng.integers(0, W, k)])
    if k > 1 and rng.random() < 0.3:
        src[-1] = src[0]                             # duplicate source
    offsets = np.floor(rng.uniform(0, 300, k)) if rng.random() < 0.4 else None
    cut = float(rng.uniform(0, 2000)) if rng.random() < 0.4 else None
    nb = 16 if rng.random() < 0.5 else 8
    return f, src, dx, dy, offsets, cut, nb


def oracle(f, src, dx, dy, offsets, cut, nb):
    cutv = math.inf if cut is None else cut
    return np.stack([dijkstra(f, tuple(s), 0.0 if offsets is None else offsets[i], nb, dx, dy, cutv)
                     for i, s in enumerate(src)])


RTOL = 2e-6


def check_nearest(seconds, nearest, d, msg):
    best = d.min(axis=0)
    assert seconds.dtype == np.float32 and nearest.dtype == np.int32, msg
    reach = np.isfinite(best)
    assert np.array_equal(np.isfinite(seconds), reach), msg
    assert np.all(nearest[~reach] == -1), msg
    np.testing.assert_allclose(seconds[reach], best[reach], rtol=RTOL, atol=1e-4, err_msg=msg)
    for r, c in zip(*np.nonzero(reach)):
        tied = np.flatnonzero(d[:, r, c] <= best[r, c] * (1 + 2 * RTOL) + 1e-4)
        # The lowest index among the (near-)tied sources, unless the tie is only near (then any of them).
        if len(tied) == 1 or np.all(d[tied, r, c] == best[r, c]):
            assert nearest[r, c] == tied[0], f"{msg} cell {(r, c)}"
        else:
            assert nearest[r, c] in tied, f"{msg} cell {(r, c)}"


@pytest.mark.parametrize("seed", range(40))
def test_nearest_matches_dijkstra_oracle(seed):
    rng = np.random.default_rng(seed)
    f, src, dx, dy, offsets, cut, nb = random_case(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # sources on holes are allowed here
        seconds, nearest = careshed.arrays.travel_time_grid(f, src, cell_size=(dx, dy), neighbours=nb,
                                                            max_seconds=cut, start_offsets_seconds=offsets)
    check_nearest(seconds, nearest, oracle(f, src, dx, dy, offsets, cut, nb), f"seed {seed}")


@pytest.mark.parametrize("seed", range(20))
def test_k_nearest_matches_per_source_oracle(seed):
    rng = np.random.default_rng(1000 + seed)
    f, src, dx, dy, offsets, cut, nb = random_case(rng)
    k = int(rng.integers(1, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ks, kn = careshed.arrays.travel_time_grid_k_nearest(f, src, k=k, cell_size=(dx, dy), neighbours=nb,
                                                            max_seconds=cut, start_offsets_seconds=offsets)
        s1, n1 = careshed.arrays.travel_time_grid(f, src, cell_size=(dx, dy), neighbours=nb, max_seconds=cut,
                                                  start_offsets_seconds=offsets)
    assert ks.shape == f.shape + (k,) and kn.shape == f.shape + (k,)
    np.testing.assert_array_equal(ks[..., 0], s1)
    np.testing.assert_array_equal(kn[..., 0], n1)
    d = oracle(f, src, dx, dy, offsets, cut, nb)
    expected = np.sort(d, axis=0)[:k]                  # the k smallest per-source times per cell
    if expected.shape[0] < k:
        expected = np.concatenate([expected, np.full((k - expected.shape[0],) + f.shape, np.inf)])
    got = np.moveaxis(ks, -1, 0)
    fin = np.isfinite(expected)
    assert np.array_equal(np.isfinite(got), fin), f"seed {seed}"
    np.testing.assert_allclose(got[fin], expected[fin], rtol=RTOL, atol=1e-4, err_msg=f"seed {seed}")
    idx = np.moveaxis(kn, -1, 0)
    assert np.all(idx[~fin] == -1)
    for r, c in zip(*np.nonzero(fin[0])):
        listed = [int(i) for i in idx[:, r, c] if i >= 0]
        assert len(set(listed)) == len(listed), f"seed {seed}: sources repeat at {(r, c)}"
        for j, i in enumerate(listed):   # each listed source really is at the listed time
            assert d[i, r, c] == pytest.approx(got[j, r, c], rel=RTOL, abs=1e-4), f"seed {seed}"


@pytest.mark.parametrize("seed", range(15))
def test_reach_lists_match_per_source_oracle(seed):
    rng = np.random.default_rng(2000 + seed)
    f, src, dx, dy, offsets, cut, nb = random_case(rng)
    cut = 600.0 if cut is None else cut
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        offs, cells, secs = careshed.arrays.travel_time_grid_reach_lists(f, src, max_seconds=cut, cell_size=(dx, dy),
                                                                         neighbours=nb, start_offsets_seconds=offsets)
    assert offs.shape == (len(src) + 1,) and offs[0] == 0 and offs[-1] == len(cells) == len(secs)
    d = oracle(f, src, dx, dy, offsets, cut, nb)
    for s in range(len(src)):
        got_cells = cells[offs[s]:offs[s + 1]]
        got_secs = secs[offs[s]:offs[s + 1]]
        assert np.all(np.diff(got_cells.astype(np.int64)) > 0), "cell ids ascending"
        flat = d[s].ravel()
        # Cells within a hair of the cutoff may fall either side of it (float64 oracle vs ticks).
        sure = np.flatnonzero(flat <= cut * (1 - 1e-6) - 1e-6)
        maybe = np.flatnonzero(flat <= cut * (1 + 1e-6) + 1e-6)
        assert set(sure) <= set(got_cells.tolist()) <= set(maybe), f"seed {seed} source {s}"
        np.testing.assert_allclose(got_secs, flat[got_cells], rtol=RTOL, atol=1e-4)
        assert np.all(got_secs <= cut)


# ---- hand-worked r.cost convention ---------------------------------------------------------------

def test_mean_friction_along_a_row():
    s, n = careshed.arrays.travel_time_grid(np.array([[1.0, 2.0, 3.0]]), [[0, 0]], cell_size=(10, 10))
    np.testing.assert_allclose(s, [[0, 15, 40]])   # 10*(1+2)/2, then + 10*(2+3)/2
    assert n.tolist() == [[0, 0, 0]]


def test_rectangular_cells_and_per_row_widths():
    s, _ = careshed.arrays.travel_time_grid(np.ones((2, 2)), [[0, 0]], cell_size=(3, 4))
    np.testing.assert_allclose(s, [[0, 3], [4, 5]])
    s, _ = careshed.arrays.travel_time_grid(np.ones((2, 2)), [[0, 0]], cell_size=(np.array([3.0, 5.0]), 4))
    np.testing.assert_allclose(s, [[0, 3], [4, math.hypot(4, 4)]], rtol=1e-6)


def test_knight_move_averages_four_cells_and_is_blocked_by_a_hole():
    f = np.array([[1, 9], [1, 1], [9, 1]], dtype=float)
    s16, _ = careshed.arrays.travel_time_grid(f, [[0, 0]], cell_size=(1, 1), neighbours=16)
    s8, _ = careshed.arrays.travel_time_grid(f, [[0, 0]], cell_size=(1, 1), neighbours=8)
    assert s16[2, 1] == pytest.approx(math.sqrt(5), rel=1e-6)
    assert s8[2, 1] == pytest.approx(1 + math.sqrt(2), rel=1e-6)
    f[1, 1] = np.nan      # one of the cells the knight passes between
    f[0, 1] = f[2, 0] = 1
    s16, n16 = careshed.arrays.travel_time_grid(f, [[0, 0]], cell_size=(1, 1), neighbours=16)
    assert s16[2, 1] == pytest.approx(1 + math.sqrt(2), rel=1e-6)
    assert n16[1, 1] == -1 and np.isinf(s16[1, 1])


def test_barrier_leaves_an_unreachable_pocket():
    f = np.ones((3, 5))
    f[:, 2] = np.nan
    s, n = careshed.arrays.travel_time_grid(f, [[1, 0]], cell_size=(1, 1))
    assert np.all(np.isinf(s[:, 2:])) and np.all(n[:, 2:] == -1)
    assert np.all(n[:, :2] == 0)


def test_zero_friction_and_exact_ties_go_to_lowest_index():
    s, n = careshed.arrays.travel_time_grid(np.zeros((3, 3)), [[2, 2], [0, 0]], cell_size=(1, 1))
    assert np.all(s == 0) and np.all(n == 0)
    s, n = careshed.arrays.travel_time_grid(np.ones((1, 5)), [[0, 4], [0, 0]], cell_size=(10, 10))
    assert n[0, 2] == 0 and s[0, 2] == 20       # tie at the middle: index 0 (the one at column 4)
    assert n[0, 1] == 1


def test_duplicate_sources_and_offsets():
    f = np.ones((2, 2))
    _, n = careshed.arrays.travel_time_grid(f, [[1, 1], [1, 1]], cell_size=(1, 1))
    assert np.all(n == 0)
    s, n = careshed.arrays.travel_time_grid(f, [[1, 1], [1, 1]], cell_size=(1, 1), start_offsets_seconds=[5, 0])
    assert np.all(n == 1) and s[1, 1] == 0
    s, n = careshed.arrays.travel_time_grid(np.ones((1, 5)), [[0, 0], [0, 4]], cell_size=(10, 10),
                                            start_offsets_seconds=[25, 0])
    assert s[0, 0] == 25 and n[0, 0] == 0 and s[0, 1] == 30 and n[0, 1] == 1


def test_cutoff_is_inclusive():
    s, n = careshed.arrays.travel_time_grid(np.ones((1, 4)), [[0, 0]], cell_size=(10, 10), max_seconds=20)
    assert s[0, 2] == 20 and n[0, 2] == 0
    assert np.isinf(s[0, 3]) and n[0, 3] == -1
    offs, cells, secs = careshed.arrays.travel_time_grid_reach_lists(np.ones((1, 4)), [[0, 0]], max_seconds=20,
                                                                     cell_size=(10, 10))
    assert cells.tolist() == [0, 1, 2] and secs.tolist() == [0, 10, 20]


def test_source_on_impassable_cell_warns_and_reaches_nothing():
    f = np.array([[np.nan, 1.0, 1.0]])
    with pytest.warns(RuntimeWarning, match=r"sources \[0\]"):
        s, n = careshed.arrays.travel_time_grid(f, [[0, 0], [0, 2]], cell_size=(1, 1))
    assert n.tolist() == [[-1, 1, 1]] and np.isinf(s[0, 0])
    f[0, 0] = np.inf      # +inf friction is impassable too
    with pytest.warns(RuntimeWarning):
        s, n = careshed.arrays.travel_time_grid(f, [[0, 0]], cell_size=(1, 1))
    assert np.all(n == -1)


def test_float32_and_float64_give_the_same_result_and_outputs_share_one_buffer():
    rng = np.random.default_rng(7)
    f = rng.uniform(0.5, 2, (30, 40)).astype(np.float32)
    src = [[3, 4], [20, 30]]
    s32, n32 = careshed.arrays.travel_time_grid(f, src, cell_size=(25, 25))
    s64, n64 = careshed.arrays.travel_time_grid(f.astype(np.float64), src, cell_size=(25, 25))
    np.testing.assert_array_equal(s32, s64)
    np.testing.assert_array_equal(n32, n64)
    assert s32.shape == n32.shape == (30, 40)
    assert s32.strides == n32.strides == (40 * 8, 8)     # two views of one 8-bytes-per-cell buffer
    assert s32.base is not None and n32.base is not None


def test_no_sources_means_everything_unreachable():
    s, n = careshed.arrays.travel_time_grid(np.ones((2, 3)), np.zeros((0, 2), int), cell_size=(1, 1))
    assert np.all(np.isinf(s)) and np.all(n == -1)


# ---- errors name the argument and the fix ----------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    (dict(friction=np.ones(3)), "friction must be a 2-D"),
    (dict(friction=np.array([[1.0, -1.0]])), r"friction\[0, 1\] = -1"),
    (dict(friction=np.array([["a", "b"]])), "friction must be a float"),
    (dict(sources=[[0, 5]]), r"sources\[0\] = \(row 0, col 5\)"),
    (dict(sources=[[0.5, 1.0]]), "integer"),
    (dict(sources=[1, 2, 3]), r"shape \(K, 2\)"),
    (dict(cell_size=(0, 1)), "dx must be a positive"),
    (dict(cell_size=5), r"cell_size must be \(dx, dy\)"),
    (dict(cell_size=(np.ones(5), 1)), "one width per friction row"),
    (dict(neighbours=4), "neighbours must be 8 or 16"),
    (dict(max_seconds=-1), "max_seconds must be >= 0"),
    (dict(max_seconds=float("nan")), "max_seconds must be >= 0"),
    (dict(start_offsets_seconds=[1, 2]), "one value per source"),
    (dict(start_offsets_seconds=[-3]), r"start_offsets_seconds\[0\]"),
])
def test_bad_input_raises_input_error(kwargs, match):
    args = dict(friction=np.ones((2, 2)), sources=[[0, 0]], cell_size=(1, 1))
    args.update(kwargs)
    friction, sources = args.pop("friction"), args.pop("sources")
    with pytest.raises(careshed.InputError, match=match):
        careshed.arrays.travel_time_grid(friction, sources, **args)


def test_reach_lists_need_a_cutoff_and_k_is_checked():
    with pytest.raises(careshed.InputError, match="max_seconds is required"):
        careshed.arrays.travel_time_grid_reach_lists(np.ones((2, 2)), [[0, 0]], max_seconds=None, cell_size=(1, 1))
    with pytest.raises(careshed.InputError, match="k must be"):
        careshed.arrays.travel_time_grid_k_nearest(np.ones((2, 2)), [[0, 0]], k=0, cell_size=(1, 1))


def test_large_uniform_grid_gives_octile_distances():
    # 1024 x 1100 cells: large enough for the threaded search and the separately mapped output buffer.
    H, W, cell = 1024, 1100, 10.0
    f = np.ones((H, W), np.float32)
    src = np.array([[500, 600], [100, 100]])
    seconds, nearest = careshed.arrays.travel_time_grid(f, src, cell_size=(cell, cell))
    rr, cc = np.mgrid[:H, :W]
    d = []
    for r0, c0 in src:
        a, b = np.abs(rr - r0), np.abs(cc - c0)
        d.append(cell * (np.maximum(a, b) - np.minimum(a, b)) + cell * math.sqrt(2) * np.minimum(a, b))
    best = np.minimum(d[0], d[1])
    np.testing.assert_allclose(seconds, best, rtol=2e-6)
    clear = np.abs(d[0] - d[1]) > 1e-3 * best
    assert np.array_equal(nearest[clear], np.where(d[0] < d[1], 0, 1)[clear])


# ---- former names (one release): raster_* engines, source_offsets= -----------------------------------------

@pytest.mark.parametrize("old, new, extra", [
    ("raster_travel_time", "travel_time_grid", {}),
    ("raster_k_nearest", "travel_time_grid_k_nearest", {"k": 2}),
    ("raster_reach_lists", "travel_time_grid_reach_lists", {"max_seconds": 40.0}),
])
def test_former_engine_names_warn_and_give_the_same_result(old, new, extra):
    f = np.arange(1.0, 13.0).reshape(3, 4)
    src, kw = [[0, 0], [2, 3]], dict(cell_size=(10, 10), start_offsets_seconds=[5.0, 0.0], **extra)
    expected = getattr(careshed.arrays, new)(f, src, **kw)
    for module in (careshed.arrays, careshed):  # the former top-level names are the same aliases
        with pytest.warns(DeprecationWarning, match=f"{old} is deprecated; use {new}") as caught:
            got = getattr(module, old)(f, src, **kw)
        assert caught[0].filename == __file__  # the warning points at the caller's line
        for g, e in zip(got, expected):
            np.testing.assert_array_equal(g, e)


@pytest.mark.parametrize("name", ["travel_time_grid", "travel_time_grid_k_nearest", "travel_time_grid_reach_lists"])
def test_former_offsets_keyword_warns_and_means_start_offsets_seconds(name):
    engine = getattr(careshed.arrays, name)
    f, src, kw = np.ones((1, 5)), [[0, 0], [0, 4]], {"cell_size": (10, 10), "max_seconds": 100.0}
    new = engine(f, src, start_offsets_seconds=[25.0, 0.0], **kw)
    plain = engine(f, src, **kw)
    assert not all(np.array_equal(a, b) for a, b in zip(new, plain))  # the offsets change the answer
    with pytest.warns(DeprecationWarning, match="source_offsets= is deprecated; use start_offsets_seconds=") as c:
        old = engine(f, src, source_offsets=[25.0, 0.0], **kw)
    assert c[0].filename == __file__
    for a, b in zip(old, new):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match="give start_offsets_seconds= only"):
        engine(f, src, start_offsets_seconds=[1.0, 0.0], source_offsets=[1.0, 0.0], **kw)
