"""careshed.tiled.zones: coverage by zone and catchment populations summed exactly across tiles. Oracles:
math.fsum over the whole grid's cells (the exactly rounded sum) computed here from the in-memory engine's arrays,
for two tile sizes; hand-made sums whose float64 running total is wrong."""
from __future__ import annotations

import math
import os

import numpy as np
import pytest

from careshed.arrays import travel_time_grid
from careshed.tiled import travel_time_tiled
from careshed.tiled.rasters import write_small_geotiff
from careshed.tiled.zones import ExactSums, coverage_tiled

distributed = pytest.importorskip("distributed")
SEED = int(os.environ.get("CARESHED_TEST_SEED", np.random.SeedSequence().entropy % 2**32))


def test_exact_sums_are_exactly_rounded_and_order_free():
    v = np.array([1e16, 1.0, -1e16, 3.5, 1e-300, 2.0 ** -60])
    assert ExactSums.of(v, np.zeros(6, int), 1).values()[0] == math.fsum(v)
    assert sum(v) != math.fsum(v)  # the naive running sum is wrong here
    print(f"CARESHED_TEST_SEED={SEED}")
    rng = np.random.default_rng(SEED)
    x = rng.lognormal(0, 6, 5000) * rng.choice([1, -1], 5000)
    bins = rng.integers(-1, 4, 5000)
    whole = ExactSums.of(x, bins, 4).values()
    parts = ExactSums.of(x[:1234], bins[:1234], 4) + ExactSums.of(x[1234:], bins[1234:], 4)
    parts_reversed = ExactSums.of(x[1234:], bins[1234:], 4) + ExactSums.of(x[:1234], bins[:1234], 4)
    for b in range(4):
        assert whole[b] == math.fsum(x[bins == b])
    assert np.array_equal(parts.values(), whole) and np.array_equal(parts_reversed.values(), whole)


def test_coverage_tiled_equals_the_exact_whole_grid_sums(tmp_path):
    print(f"CARESHED_TEST_SEED={SEED}")
    rng = np.random.default_rng(SEED)
    shape = (37, 45)
    f = rng.uniform(0.05, 1.0, shape)
    f[rng.random(shape) < 0.07] = np.nan
    src = np.stack([rng.integers(0, 37, 6), rng.integers(0, 45, 6)], 1)
    f[src[:, 0], src[:, 1]] = 0.5
    pop = rng.lognormal(2, 2, shape)
    zones = rng.integers(-1, 5, shape).astype(np.float64)
    classes = rng.integers(0, 2, shape).astype(np.float64)
    gt = (500000.0, 50.0, 0.0, 1e6, 0.0, -50.0)
    paths = {n: write_small_geotiff(tmp_path / f"{n}.tif", a, gt) for n, a in
             [("pop", pop), ("zones", zones), ("classes", classes)]}
    thresholds = [3.0, 9.0]  # urban, rural minutes
    beds = np.arange(6) * 10.0 + 5
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as c:
        r = travel_time_tiled(f, src, out_seconds=tmp_path / "s.tif", out_nearest=tmp_path / "n.tif", tile_size=9,
                              cell_size=(50.0, 50.0), transform=gt, client=c)
        results = [coverage_tiled(r.seconds_path, r.nearest_path, paths["pop"], paths["zones"], thresholds,
                                  classes=paths["classes"], within_minutes=[5, 20], beds=beds, tile_size=t, client=c)
                   for t in (7, 64)]
    sec, near = travel_time_grid(f, src, cell_size=(50.0, 50.0))
    sec = np.asarray(sec, np.float64)
    thr = np.where(classes == 0, 180.0, 540.0)
    covered = sec <= thr
    for res in results:
        zt, ft = res.zones, res.facilities
        for z in range(5):
            m = zones == z
            assert zt.loc[z, "population"] == math.fsum(pop[m])
            assert zt.loc[z, "covered_population"] == math.fsum(pop[m & covered])
            assert zt.loc[z, "unreachable_population"] == math.fsum(pop[m & ~np.isfinite(sec)])
            assert zt.loc[z, "within_5_min"] == math.fsum(pop[m & (sec <= 300.0)])
            assert zt.loc[z, "within_20_min"] == math.fsum(pop[m & (sec <= 1200.0)])
        assert zt.loc[5, "zone"] == "region" and zt.loc[5, "population"] == math.fsum(pop[zones >= 0])
        for i in range(6):
            assert ft.loc[i, "population"] == math.fsum(pop[near == i])
            assert ft.loc[i, "covered_population"] == math.fsum(pop[(near == i) & covered])
        assert np.allclose(ft["beds_per_1000"], beds / ft["population"] * 1000.0)
    assert results[0].zones.equals(results[1].zones) and results[0].facilities.equals(results[1].facilities)
