"""careshed.arrays.terrain: walking on terrain.

Oracles: a plain Dijkstra written here on the explicit directed 8-neighbour graph (float64, the documented
formulas; random DEMs with NaN holes, seed logged in CARESHED_TEST_SEED); closed forms on a cone (uphill !=
downhill); the isotropic engine on flat ground (bit for bit). Real data: the SRTM tiles of the Comoros.
"""
from __future__ import annotations

import heapq
import math
import os
import random
import warnings

import numpy as np
import pytest

import careshed
from careshed import _core
from careshed.arrays import terrain
from careshed.arrays.terrain import dem_paths, read_elevation, terrain_options, travel_time_terrain
from careshed.arrays.travel_time import travel_time_grid
from conftest import ROOT

SRTM = ROOT / "data" / "comoros" / "srtm"


def seed():
    s = int(os.environ.get("CARESHED_TEST_SEED", random.randrange(2**31)))
    print(f"CARESHED_TEST_SEED={s}")
    return s


def move_seconds(model, rwalk, L, fa, fb, dz):
    """The documented cost of one rook/diagonal move (careshed/terrain.hpp), float64, in the traveller's direction."""
    F = L * (fa + fb) / 2
    S = dz / L
    if model == "tobler":
        return F * math.exp(3.5 * (abs(S + 0.05) - 0.05))
    a, b, c, d, sf, lam = rwalk
    walk = a * L + (b * dz if dz > 0 else (d * dz if S < sf else c * dz))
    return walk + lam * F


def oracle(friction, z, sources, cell, model, rwalk, toward):
    rows, cols = friction.shape
    best = np.full((len(sources), rows, cols), np.inf)
    ok = np.isfinite(friction) & ~np.isnan(z)
    for k, (sr, sc) in enumerate(sources):
        dist = best[k]
        if not ok[sr, sc]:
            continue
        dist[sr, sc] = 0.0
        heap = [(0.0, sr, sc)]
        while heap:
            d, r, c = heapq.heappop(heap)
            if d > dist[r, c]:
                continue
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rr, cc = r + dr, c + dc
                    if (dr == dc == 0) or not (0 <= rr < rows and 0 <= cc < cols) or not ok[rr, cc]:
                        continue
                    L = math.hypot(dr, dc) * cell
                    # toward the sources the traveller goes (rr, cc) -> (r, c)
                    dz = float(z[r, c]) - float(z[rr, cc]) if toward else float(z[rr, cc]) - float(z[r, c])
                    nd = d + move_seconds(model, rwalk, L, friction[r, c], friction[rr, cc], dz)
                    if nd < dist[rr, cc]:
                        dist[rr, cc] = nd
                        heapq.heappush(heap, (nd, rr, cc))
    return best


def test_random_dems_match_a_plain_dijkstra_on_the_directed_graph():
    rng = np.random.default_rng(seed())
    for _ in range(12):
        rows, cols = rng.integers(2, 14, size=2)
        cell = float(rng.uniform(10, 90))
        friction = rng.uniform(0.2, 1.5, size=(rows, cols))
        friction[rng.random((rows, cols)) < 0.1] = np.nan
        z = (rng.normal(0, 1, size=(rows, cols)).cumsum(axis=1) * rng.uniform(0, 20)).astype(np.float32)
        z[rng.random((rows, cols)) < 0.05] = np.nan
        sources = [(int(rng.integers(rows)), int(rng.integers(cols))) for _ in range(int(rng.integers(1, 4)))]
        model = "tobler" if rng.random() < 0.5 else "rwalk"
        direction = "toward" if rng.random() < 0.5 else "away"
        _, rw, toward = terrain_options(model, None, direction)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # cells without elevation: tested below
            seconds, nearest = travel_time_terrain(friction, z, np.array(sources), cell_size=(cell, cell), model=model,
                                                   direction=direction)
        want = oracle(friction, z, sources, cell, model, rw, toward)
        t = want.min(axis=0)
        reached = np.isfinite(t)
        assert np.array_equal(np.isfinite(seconds), reached)
        # The engine rounds each move once to its tick (2^-q s, coarser when cliffs make huge move costs possible:
        # careshed/terrain.hpp): a path of at most rows * cols moves is within half a tick per move.
        _, stats = _core._raster_travel_time_terrain(
            np.ascontiguousarray(friction), z, np.array(sources, dtype=np.int64), cell, cell, None, 8, math.inf, None,
            model=model, toward_sources=toward)
        steps = rows * cols
        np.testing.assert_allclose(seconds[reached], t[reached], rtol=2e-6, atol=0.5 * stats["tick_seconds"] * steps)
        # the nearest source is one whose time is the minimum (ties are measure-zero with random floats)
        rr, cc = np.nonzero(reached)
        assert np.allclose(want[nearest[reached], rr, cc], t[reached], rtol=2e-6,
                           atol=stats["tick_seconds"] * steps)


def test_cone_closed_form_uphill_is_slower_than_downhill():
    n, cell, f, s = 31, 30.0, 0.72, 0.15
    r, c = np.mgrid[0:n, 0:n]
    dist = cell * np.hypot(r - n // 2, c - n // 2)
    z = (1000.0 - s * dist).astype(np.float32)  # the facility on the summit
    friction = np.full((n, n), f)
    src = np.array([[n // 2, n // 2]])
    up, _ = travel_time_terrain(friction, z, src, cell_size=(cell, cell))
    down, _ = travel_time_terrain(friction, z, src, cell_size=(cell, cell), direction="away")
    ray = (r == n // 2) | (c == n // 2) | (r - n // 2 == c - n // 2) | (r - n // 2 == n // 2 - c)
    np.testing.assert_allclose(up[ray], (dist * f * np.exp(3.5 * s))[ray], rtol=3e-6)
    np.testing.assert_allclose(down[ray], (dist * f * np.exp(3.5 * (s - 0.1)))[ray], rtol=3e-6)
    assert (up[ray & (dist > 0)] > 1.3 * down[ray & (dist > 0)]).all()


def test_flat_ground_equals_the_isotropic_engine_and_is_symmetric():
    rng = np.random.default_rng(seed())
    friction = rng.uniform(0.1, 2, size=(40, 30)).astype(np.float32)
    friction[rng.random(friction.shape) < 0.1] = np.nan
    z = np.full(friction.shape, 312.5, dtype=np.float32)
    src = np.array([[3, 4], [30, 20], [10, 25]])
    iso_s, iso_n = travel_time_grid(friction, src, cell_size=(50.0, 50.0), max_seconds=3000)
    for direction in ("toward", "away"):
        s, nn = travel_time_terrain(friction, z, src, cell_size=(50.0, 50.0), max_seconds=3000, direction=direction)
        assert np.array_equal(s, iso_s) and np.array_equal(nn, iso_n)


def test_cells_without_elevation_are_impassable_and_reported():
    friction = np.ones((3, 5))
    z = np.zeros((3, 5), dtype=np.float32)
    z[:, 2] = np.nan  # a band of missing DEM cuts the grid in two
    with pytest.warns(RuntimeWarning, match="3 passable cell"):
        s, n = travel_time_terrain(friction, z, np.array([[1, 0]]), cell_size=(10.0, 10.0))
    assert np.isinf(s[:, 2:]).all() and (n[:, 2:] == -1).all()
    assert np.isfinite(s[:, :2]).all()


def test_errors_name_the_argument():
    f = np.ones((3, 3))
    z = np.zeros((3, 3), dtype=np.float32)
    src = np.array([[1, 1]])
    with pytest.raises(careshed.InputError, match="model 'walk'"):
        travel_time_terrain(f, z, src, cell_size=(1, 1), model="walk")
    with pytest.raises(careshed.InputError, match="direction 'up'"):
        travel_time_terrain(f, z, src, cell_size=(1, 1), direction="up")
    with pytest.raises(careshed.InputError, match="unknown rwalk coefficient"):
        travel_time_terrain(f, z, src, cell_size=(1, 1), model="rwalk", rwalk={"e": 1})
    with pytest.raises(careshed.InputError, match="model is 'tobler'"):
        travel_time_terrain(f, z, src, cell_size=(1, 1), rwalk={"a": 1})
    with pytest.raises(careshed.InputError, match="d = 1"):
        travel_time_terrain(f, z, src, cell_size=(1, 1), model="rwalk", rwalk={"d": 1})
    with pytest.raises(careshed.InputError, match="shape"):
        travel_time_terrain(f, z[:2], src, cell_size=(1, 1))
    with pytest.raises(careshed.InputError, match="does not exist"):
        dem_paths(["/nonexistent/dem.tif"])


def test_srtm_tiles_of_the_comoros_on_a_utm_grid():
    paths = dem_paths(SRTM)
    assert [os.path.basename(p) for p in paths] == ["S12E043.SRTMGL1.hgt.zip", "S13E043.SRTMGL1.hgt.zip",
                                                   "S13E044.SRTMGL1.hgt.zip"]
    # Ngazidja (Grande Comore) at 500 m, WGS 84 / UTM 38S
    grid = careshed.make_grid((300000, 8678000, 340000, 8748000), 500, "EPSG:32738")
    z, rep = read_elevation(SRTM, grid)
    assert z.dtype == np.float32 and z.shape == grid.shape
    assert rep["valid_cells"] == np.count_nonzero(~np.isnan(z))
    assert 1800 < np.nanmax(z) <= 2361  # Karthala, 2361 m, smoothed by 500 m cells
    assert terrain.RWALK_DEFAULTS["slope_factor"] == -0.2125
