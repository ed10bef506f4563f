"""careshed.tiled.access: the floating catchments' reach lists tile by tile. Oracle: the in-memory per-facility
searches (careshed._core.access_reach_lists, through careshed.arrays.access) on the same grid — equality of every
facility's cells and float32 seconds (bit for bit), and of the accessibility scores computed on them, for tiles
smaller than the catchments, facilities on tile edges and corners, 8 and 16 neighbours, start offsets. Seeds are
logged (CARESHED_TEST_SEED)."""
from __future__ import annotations

import os

import numpy as np
import pytest

from careshed import _core
from careshed.arrays.access import grid_accessibility
from careshed.errors import InputError
from careshed.tiled.access import reach_lists_tiled

distributed = pytest.importorskip("distributed")

SEED = int(os.environ.get("CARESHED_TEST_SEED", np.random.SeedSequence().entropy % 2**32))


def _problem(seed, shape=(37, 45), k=12):
    rng = np.random.default_rng(seed)
    f = rng.uniform(0.02, 1.2, shape)
    f[shape[0] // 2, :] = 0.03                      # a fast road across every column of tiles
    f[rng.random(shape) < 0.08] = np.nan            # barriers (no data)
    src = np.stack([rng.integers(0, shape[0], k), rng.integers(0, shape[1], k)], 1)
    if k >= 7:
        src[:4] = [[7, 7], [8, 8], [16, 0], [0, 15]]   # on the corners and edges of 8-cell tiles
        src[4] = src[5]                                 # two facilities on one cell
    f[src[:, 0], src[:, 1]] = 0.6
    if k >= 7:
        f[src[6, 0], src[6, 1]] = np.nan               # a facility on a barrier reaches nothing
    return f.astype(np.float32), src


def _same_lists(a, b):
    fa, ca, sa = a
    fb, cb, sb = b
    return (np.array_equal(fa, fb) and np.array_equal(ca.astype(np.int64), cb.astype(np.int64))
            and np.array_equal(np.asarray(sa, np.float32).view(np.int32), np.asarray(sb, np.float32).view(np.int32)))


@pytest.mark.parametrize("tile_size,neighbours,shape", [(5, 8, (26, 30)), (8, 16, (37, 45)), (13, 8, (37, 45))])
def test_lists_equal_the_in_memory_searches(dask_threads, tile_size, neighbours, shape):
    print(f"CARESHED_TEST_SEED={SEED}")
    f, src = _problem(SEED + tile_size, shape)
    offsets = np.arange(len(src), dtype=np.float64) % 3 * 25.0
    max_s = 600.0 + (SEED % 7) * 37.3                # catchments spanning many tiles; not a round number
    ref = _core.access_reach_lists(f, 30.0, 30.0, None, src, max_s, neighbours, offsets)
    r = reach_lists_tiled(f, src, max_s, tile_size=tile_size, cell_size=(30.0, 30.0), neighbours=neighbours,
                          start_offsets_seconds=offsets, client=dask_threads)
    assert ref[1].size > 20 * len(src)               # the catchments are larger than a tile
    assert _same_lists(r.lists(), ref)
    assert r.rounds > 1 and r.tiles > 4


def test_cutoff_zero_and_no_facilities(dask_threads):
    f, src = _problem(SEED, (12, 12), 3)
    for max_s in (0.0, 60.0):
        ref = _core.access_reach_lists(f, 30.0, 30.0, None, src, max_s, 8, None)
        r = reach_lists_tiled(f, src, max_s, tile_size=3, cell_size=(30.0, 30.0), client=dask_threads)
        assert _same_lists(r.lists(), ref)
    empty = reach_lists_tiled(f, np.zeros((0, 2), np.int64), 60.0, tile_size=3, cell_size=(30.0, 30.0),
                              client=dask_threads)
    assert empty.first.tolist() == [0] and empty.cells.size == 0 and empty.rounds == 0
    with pytest.raises(InputError, match="finite"):
        reach_lists_tiled(f, src, np.inf, tile_size=3, cell_size=(30.0, 30.0), client=dask_threads)


def test_accessibility_on_tiled_lists_equals_the_in_memory_result(dask_threads):
    print(f"CARESHED_TEST_SEED={SEED}")
    f, src = _problem(SEED + 1, (30, 34), 9)
    rng = np.random.default_rng(SEED + 2)
    pop = rng.uniform(0, 50, f.shape)
    pop[rng.random(f.shape) < 0.2] = np.nan
    supply = rng.uniform(1, 30, len(src))
    zones = (np.arange(f.size) % 3).reshape(f.shape).astype(np.int32)
    tiled = reach_lists_tiled(f, src, 12.5 * 60.0, tile_size=6, cell_size=(30.0, 30.0), client=dask_threads).lists()

    for method in ("2sfca", "e2sfca", "g2sfca", "3sfca", "gravity"):
        kw = dict(max_minutes=12.5, method=method, cell_size_m=(30.0, 30.0), zones=zones, normalize=method == "2sfca")
        a = grid_accessibility(f, pop, src, supply, **kw)
        b = grid_accessibility(f, pop, src, supply, reach_lists=tiled, **kw)
        assert np.array_equal(a.score, b.score, equal_nan=True), method
        assert np.array_equal(a.supply_ratio, b.supply_ratio, equal_nan=True), method
        assert a.zones.equals(b.zones), method
        for key in ("pairs", "empty_catchments", "demand_times_score", "conservation_relative_error"):
            assert a.report[key] == b.report[key] or (np.isnan(a.report[key]) and np.isnan(b.report[key])), key
    assert np.isfinite(a.score).sum() > 100                 # most people have a facility in reach
    # A callable weight runs on the same tiled lists.
    c = grid_accessibility(f, pop, src, supply, max_minutes=12.5, method="2sfca", cell_size_m=(30.0, 30.0),
                           weights=lambda m: np.exp(-m / 5.0))
    d = grid_accessibility(f, pop, src, supply, max_minutes=12.5, method="2sfca", cell_size_m=(30.0, 30.0),
                           weights=lambda m: np.exp(-m / 5.0), reach_lists=tiled)
    assert np.array_equal(c.score, d.score, equal_nan=True)


def test_malformed_lists_are_refused():
    pop = np.ones((3, 3))
    spec = {"kind": "binary"}
    with pytest.raises(ValueError, match="ascending"):
        _core.grid_fca_on_reach(pop, np.ones(1), np.array([0, 2]), np.array([4, 1], np.uint32),
                                np.zeros(2, np.float32), 60.0, "two", spec)
    with pytest.raises(ValueError, match="outside the grid"):
        _core.grid_fca_on_reach(pop, np.ones(1), np.array([0, 1]), np.array([9], np.uint32),
                                np.zeros(1, np.float32), 60.0, "two", spec)


def test_a_study_with_tiles_makes_the_reach_lists_of_access_and_optimize_on_tiles():
    """Study.reach_lists (what access and optimize use) is tiled when the Study tiles a grid this size, and gives
    the in-memory lists bit for bit (start offsets included)."""
    from strip_case import strip_study
    rng = np.random.default_rng(SEED)
    print(f"CARESHED_TEST_SEED={SEED}")
    f = rng.uniform(0.2, 1.0, (3, 10))
    plain, tiled, one_tile = strip_study(f), strip_study(f, tiles=3, workers=1), strip_study(f, tiles=10)
    assert not plain.searches_reach_lists(2, 300.0) and not one_tile.searches_reach_lists(2, 300.0)
    assert tiled.searches_reach_lists(2, 300.0)
    src, offsets = np.array([[1, 0], [2, 7]]), np.array([0.0, 30.0])
    assert _same_lists(tiled.reach_lists(src, 300.0, 8, offsets), plain.reach_lists(src, 300.0, 8, offsets))


def test_study_access_with_tiles_equals_in_memory():
    from strip_case import cell_centre, points, strip_study
    rng = np.random.default_rng(SEED)
    print(f"CARESHED_TEST_SEED={SEED}")
    f = rng.uniform(0.2, 1.0, (3, 10))
    st = points(["s1", "s2", "s3"], [cell_centre(1, 0), cell_centre(2, 7), cell_centre(0, 9)], beds=[10, 20, 5])
    plain = strip_study(f)
    tiled = strip_study(f, tiles=3, workers=1)
    a = plain.access(st, supply="beds", max_minutes=3)
    b = tiled.access(st, supply="beds", max_minutes=3)
    assert np.array_equal(a.score, b.score, equal_nan=True)
    assert a.table.equals(b.table) and a.facilities.equals(b.facilities)

