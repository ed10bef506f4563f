"""careshed.arrays.tiles: one tile's search over its window, against the in-memory engine (oracle: a single
tile covering the whole grid is the whole-grid search; two halves exchanged by hand reach the same labels)."""
from __future__ import annotations

import os

import numpy as np
import pytest

from careshed.arrays import travel_time_grid
from careshed.arrays.tiles import (UNREACHED_LABEL, better_labels, friction_summary, pack_labels, tile_halo,
                                   tile_search, tile_search_packed, ticks_to_seconds, tiled_scale, unpack_labels,
                                   labels_to_outputs)
from careshed.errors import InputError

SEED = int(os.environ.get("CARESHED_TEST_SEED", np.random.SeedSequence().entropy % 2**32))


def _problem(rng, shape=(23, 31), k=9):
    f = rng.uniform(0.05, 2.0, shape)
    f[rng.random(shape) < 0.12] = np.nan
    src = np.stack([rng.integers(0, shape[0], k), rng.integers(0, shape[1], k)], 1)
    f[src[:, 0], src[:, 1]] = 1.0  # passable sources (no warning)
    return f, src


@pytest.mark.parametrize("neighbours", [8, 16])
def test_one_tile_over_the_whole_grid_is_the_in_memory_search(neighbours):
    print(f"CARESHED_TEST_SEED={SEED}")
    rng = np.random.default_rng(SEED)
    f, src = _problem(rng)
    ref_s, ref_n = travel_time_grid(f, src, cell_size=(40.0, 30.0), neighbours=neighbours)
    scale = tiled_scale(f.shape, (40.0, 30.0), friction_summary(f), len(src), neighbours=neighbours)
    ticks = np.full(f.shape, -1, np.int64)
    nearest = np.full(f.shape, -1, np.int32)
    stats = tile_search(f, (40.0, 30.0), scale, ticks, nearest, sources=src, source_index=np.arange(len(src)),
                        neighbours=neighbours)
    assert stats["tick_seconds"] == scale.tick_seconds
    assert np.array_equal(ticks_to_seconds(ticks, scale).view(np.int32), np.ascontiguousarray(ref_s).view(np.int32))
    assert np.array_equal(nearest, ref_n)


def test_two_halves_exchanging_their_edges_reach_the_whole_grid_labels():
    print(f"CARESHED_TEST_SEED={SEED}")
    rng = np.random.default_rng(SEED)
    f, src = _problem(rng, (12, 20), 4)
    src[:, 1] = np.minimum(src[:, 1], 9)  # all sources in the left half
    ref_s, ref_n = travel_time_grid(f, src, cell_size=(10.0, 10.0))
    scale = tiled_scale(f.shape, (10.0, 10.0), friction_summary(f), len(src))
    left_w = f[:, :11]          # cols 0..9 + halo col 10
    right_w = f[:, 9:]          # halo col 9 + cols 10..19
    lt, ln = np.full(left_w.shape, -1, np.int64), np.full(left_w.shape, -1, np.int32)
    rt, rn = np.full(right_w.shape, -1, np.int64), np.full(right_w.shape, -1, np.int32)
    tile_search(left_w, (10.0, 10.0), scale, lt, ln, sources=src, source_index=np.arange(4))
    for _ in range(20):  # exchange until nothing improves
        better_r = better_labels(lt[:, 9], ln[:, 9], rt[:, 0], rn[:, 0])
        rt[better_r, 0], rn[better_r, 0] = lt[better_r, 9], ln[better_r, 9]
        tile_search(right_w, (10.0, 10.0), scale, rt, rn, seeds=np.flatnonzero(better_r) * right_w.shape[1])
        better_l = better_labels(rt[:, 1], rn[:, 1], lt[:, 10], ln[:, 10])
        lt[better_l, 10], ln[better_l, 10] = rt[better_l, 1], rn[better_l, 1]
        tile_search(left_w, (10.0, 10.0), scale, lt, ln, seeds=np.flatnonzero(better_l) * left_w.shape[1] + 10)
        if not better_r.any() and not better_l.any():
            break
    ticks = np.concatenate([lt[:, :10], rt[:, 1:]], axis=1)
    nearest = np.concatenate([ln[:, :10], rn[:, 1:]], axis=1)
    assert np.array_equal(ticks_to_seconds(ticks, scale).view(np.int32), np.ascontiguousarray(ref_s).view(np.int32))
    assert np.array_equal(nearest, ref_n)


def test_labels_order_and_conversion():
    t1 = np.array([-1, 5, 5, 5, 3])
    n1 = np.array([-1, 2, 1, 2, 9])
    t2 = np.array([-1, -1, 5, 5, 4])
    n2 = np.array([-1, 0, 2, 1, 0])
    assert better_labels(t1, n1, t2, n2).tolist() == [False, True, True, False, True]
    scale = tiled_scale((2, 2), (1.0, 1.0), (1.0, 4), 1)
    s = ticks_to_seconds(np.array([-1, 0, 2 ** scale.q]), scale)
    assert s[0] == np.inf and s[1] == 0.0 and s[2] == 1.0


def test_bad_arguments_are_refused():
    with pytest.raises(InputError, match="neighbours"):
        tile_halo(12)
    assert (tile_halo(8), tile_halo(16)) == (1, 2)
    with pytest.raises(InputError, match="negative"):
        friction_summary(np.array([[1.0, -2.0]]))
    scale = tiled_scale((2, 2), (1.0, 1.0), (1.0, 4), 1)
    f = np.ones((2, 2))
    with pytest.raises(InputError, match="window's shape"):
        tile_search(f, (1.0, 1.0), scale, np.full((2, 3), -1, np.int64), np.full((2, 2), -1, np.int32))
    with pytest.raises(InputError, match="source_index"):
        tile_search(f, (1.0, 1.0), scale, np.full((2, 2), -1, np.int64), np.full((2, 2), -1, np.int32),
                    sources=[[0, 0]], source_index=[3])



@pytest.mark.parametrize("neighbours", [8, 16])
def test_packed_search_lowers_labels_exactly_as_the_unpacked_one(neighbours):
    """Oracle: tile_search on (ticks, nearest). A window searched from its sources, then from seeds the caller
    lowered (labels from a second, independent search), through both forms: the same labels after every call."""
    print(f"CARESHED_TEST_SEED={SEED}")
    rng = np.random.default_rng(SEED + neighbours)
    f, src = _problem(rng, (19, 26), 7)
    src[(src[:, 0] == 0) & (src[:, 1] == 0)] = [1, 1]
    f[src[:, 0], src[:, 1]] = 1.0
    f[0, 0] = 1.0   # the second search's source: its own cell at least is better than the first search's label
    scale = tiled_scale(f.shape, (30.0, 30.0), friction_summary(f), 12, neighbours=neighbours)
    ticks, nearest = np.full(f.shape, -1, np.int64), np.full(f.shape, -1, np.int32)
    labels = np.full(f.shape, UNREACHED_LABEL, np.uint64)
    idx = np.array([0, 2, 3, 5, 8, 9, 11], np.int32)
    a = tile_search(f, (30.0, 30.0), scale, ticks, nearest, sources=src, source_index=idx, neighbours=neighbours)
    b = tile_search_packed(f, (30.0, 30.0), scale, labels, sources=src, source_index=idx, neighbours=neighbours)
    assert a == b and a["cells_settled"] > 0
    assert np.array_equal(pack_labels(ticks, nearest, scale), labels)
    # Lower the left column as a neighbour would (labels of another search from a source at its top), and seed it.
    other_t, other_n = np.full(f.shape, -1, np.int64), np.full(f.shape, -1, np.int32)
    tile_search(f, (30.0, 30.0), scale, other_t, other_n, sources=[[0, 0]], source_index=[1], neighbours=neighbours)
    col = np.arange(f.shape[0]) * f.shape[1]
    better = better_labels(other_t.ravel()[col], other_n.ravel()[col], ticks.ravel()[col], nearest.ravel()[col])
    seeds = col[better]
    assert seeds.size >= 1
    ticks.ravel()[seeds], nearest.ravel()[seeds] = other_t.ravel()[seeds], other_n.ravel()[seeds]
    packed_in = pack_labels(other_t, other_n, scale).ravel()[col]
    assert np.array_equal(packed_in < labels.ravel()[col], better)   # packed order is the engine's order
    labels.ravel()[seeds] = packed_in[better]
    tile_search(f, (30.0, 30.0), scale, ticks, nearest, seeds=seeds, neighbours=neighbours)
    tile_search_packed(f, (30.0, 30.0), scale, labels, seeds=seeds, neighbours=neighbours)
    t2, n2 = unpack_labels(labels, scale)
    assert np.array_equal(t2, ticks) and np.array_equal(n2, nearest)


def test_packed_labels_refused_when_outside_the_scale():
    scale = tiled_scale((2, 2), (1.0, 1.0), (1.0, 4), 1)
    f = np.ones((2, 2))
    with pytest.raises(InputError, match="window's shape"):
        tile_search_packed(f, (1.0, 1.0), scale, np.full((2, 3), UNREACHED_LABEL, np.uint64))
    bad = np.full((2, 2), UNREACHED_LABEL, np.uint64)
    bad[1, 1] = np.uint64(scale.cut_ticks + 2) << np.uint64(scale.index_bits)   # ticks cut_ticks + 1
    keep = bad.copy()
    with pytest.raises(InputError, match="packed label"):
        tile_search_packed(f, (1.0, 1.0), scale, bad, sources=[[0, 0]], source_index=[0])
    assert np.array_equal(bad, keep)
    t, n = unpack_labels(np.array([UNREACHED_LABEL, np.uint64(1) << np.uint64(scale.index_bits)]), scale)
    assert t.tolist() == [-1, 0] and n.tolist() == [-1, 0]


def test_labels_to_outputs_is_unpacking_and_ticks_to_seconds():
    """Oracle: unpack_labels + ticks_to_seconds (NumPy), on a strided block of random labels of a real scale."""
    print(f"CARESHED_TEST_SEED={SEED}")
    rng = np.random.default_rng(SEED)
    scale = tiled_scale((900, 700), (100.0, 100.0), (2.0, 600000), 1000)
    ticks = rng.integers(0, scale.cut_ticks + 1, (30, 40), dtype=np.int64)
    ticks[rng.random(ticks.shape) < 0.2] = -1
    nearest = np.where(ticks < 0, -1, rng.integers(0, 1 << scale.index_bits, ticks.shape)).astype(np.int32)
    labels = pack_labels(ticks, nearest, scale)
    block = labels[3:27, 5:33]   # rows 40 labels apart
    ref_t, ref_n = unpack_labels(block, scale)
    ref_s = ticks_to_seconds(ref_t, scale)
    s, n = labels_to_outputs(block, scale)
    assert s.dtype == np.float32 and n.dtype == np.int32 and s.shape == block.shape
    assert np.array_equal(s.view(np.int32), ref_s.view(np.int32)) and np.array_equal(n, ref_n)
    s_nan, _ = labels_to_outputs(block, scale, np.nan)
    assert np.array_equal(np.isnan(s_nan), ref_t < 0) and (ref_t < 0).any()
    with pytest.raises(InputError, match="uint64"):
        labels_to_outputs(ticks, scale)
