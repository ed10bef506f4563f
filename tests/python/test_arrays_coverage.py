"""Tests of careshed.coverage_by_zone / ambulance_check / isochrones.

Expected numbers come from hand-worked grids (written out below) and from independent numpy oracles on random
inputs (sorting for the 90th percentile, brute-force masks for the curve) with a logged seed.
"""
from __future__ import annotations

import math
import os

import numpy as np
import pytest
import shapely.geometry as sg

import careshed
from careshed import InputError

INF = np.inf


def _seed(name: str) -> int:
    """A fresh random seed, or CARESHED_TEST_SEED to replay one; printed so a failure shows it."""
    seed = int(os.environ.get("CARESHED_TEST_SEED", np.random.SeedSequence().entropy % (2**32)))
    print(f"[ seed ] {name}: CARESHED_TEST_SEED={seed}")
    return seed


def hand_case():
    """2 x 3 cells; urban (class 0) 11 min, rural (class 1) 15 min.

    cell 0: zone A, urban, 660 s (= 11 min exactly: covered), 100 people, station 0
    cell 1: zone A, urban, 661 s (1 s late),                   50 people, station 1
    cell 2: zone A, rural, 800 s,                              30 people, station 1
    cell 3: zone B, no class (255 → urban), unreachable,       20 people
    cell 4: split 1/4 A, 3/4 B, rural, 900 s (= 15 min: covered), 40 people, station 0
    cell 5: in no zone, 1000 people at 10 s (ignored everywhere)
    """
    seconds = np.array([[660, 661, 800], [INF, 900, 10]], np.float32)
    nearest = np.array([[0, 1, 1], [-1, 0, 0]], np.int32)
    population = np.array([[100, 50, 30], [20, 40, 1000]], np.float64)
    zones = {"zone": np.array([[0, 0, 0], [1, -2, -1]], np.int32), "split_cell": np.array([4, 4]),
             "split_zone": np.array([0, 1]), "split_fraction": np.array([0.25, 0.75])}
    classes = np.array([[0, 0, 1], [255, 1, 0]], np.uint8)
    return seconds, nearest, population, zones, classes


def test_hand_worked_table():
    seconds, nearest, population, zones, classes = hand_case()
    t = careshed.coverage_by_zone(seconds, nearest, population, zones, [11, 15], classes, curve_max_minutes=20,
                                  zone_ids=["A", "B"], class_names=["urban", "rural"], station_ids=["s0", "s1"])
    z = t.zones.set_index("zone")
    assert list(z.index) == ["A", "B", "region"]
    # A: 100 + 50 + 30 + 40/4 = 190; covered 100 (urban, inclusive) + 30 + 10 (rural) = 140.
    assert z.loc["A", "population"] == 190
    assert z.loc["A", "covered"] == 140
    assert z.loc["A", "covered_urban"] == 100 and z.loc["A", "population_urban"] == 150
    assert z.loc["A", "covered_rural"] == 40 and z.loc["A", "population_rural"] == 40
    assert z.loc["A", "uncovered"] == 50 and z.loc["A", "unreachable"] == 0
    assert z.loc["A", "mean_response_s"] == pytest.approx(695.0)  # (66000 + 33050 + 24000 + 9000) / 190
    assert z.loc["A", "mean_response_min"] == pytest.approx(695.0 / 60)
    assert z.loc["A", "p90_response_s"] == 800  # 90 % of 190 = 171: cumulative 100, 150, 180 at 800 s
    # B: 20 unreachable + 30 rural at 900 s.
    assert z.loc["B", "population"] == 50 and z.loc["B", "covered"] == 30 and z.loc["B", "unreachable"] == 20
    assert z.loc["B", "covered_share"] == pytest.approx(0.6)
    assert z.loc["B", "mean_response_s"] == 900  # reached people only
    assert z.loc["B", "p90_response_s"] == INF   # 40 % unreachable
    # Region: the zones together; 90 % of 240 = 216 is reached at 900 s.
    assert z.loc["region", "population"] == 240 and z.loc["region", "covered"] == 170
    assert z.loc["region", "p90_response_s"] == 900
    assert z.loc["region", "mean_response_s"] == pytest.approx(159050 / 220)
    # Curve at whole minutes, inclusive.
    c = t.curve
    assert c.index.name == "minute" and list(c.columns) == ["A", "B", "region"] and len(c) == 21
    assert c.loc[10, "A"] == 0 and c.loc[11, "A"] == pytest.approx(100 / 190)
    assert c.loc[12, "A"] == pytest.approx(150 / 190) and c.loc[15, "A"] == 1.0
    assert c.loc[15, "B"] == pytest.approx(0.6) and c.loc[20, "B"] == pytest.approx(0.6)
    # Stations.
    s = t.stations.set_index("station")
    assert s.loc["s0", "population"] == 140 and s.loc["s0", "covered_population"] == 140
    assert s.loc["s1", "population"] == 80 and s.loc["s1", "covered_population"] == 30
    assert s.loc["s1", "covered_share"] == pytest.approx(30 / 80)
    assert t.bin_seconds == 1.0


def test_threshold_forms_and_default_class():
    seconds, nearest, population, zones, classes = hand_case()
    a = careshed.coverage_by_zone(seconds, nearest, population, zones, {0: 11, 1: 15}, classes)
    b = careshed.coverage_by_zone(seconds, nearest, population, zones, [11, 15], classes)
    assert a.zones.equals(b.zones)
    assert list(a.zones.zone) == [0, 1, "region"]
    assert "covered_class1" in a.zones.columns
    # One threshold, no class grid: every cell 13.5 min (810 s): A covers 660, 661, 800 s → 180.
    c = careshed.coverage_by_zone(seconds, None, population, zones, 13.5)
    assert c.zones.covered.tolist() == [180, 0, 180]
    assert c.stations.empty


def test_unsorted_split_arrays_are_accepted():
    seconds, nearest, population, zones, classes = hand_case()
    zones = dict(zones, split_zone=np.array([1, 0]), split_fraction=np.array([0.75, 0.25]))
    t = careshed.coverage_by_zone(seconds, nearest, population, zones, [11, 15], classes)
    assert t.zones.population.tolist() == [190, 50, 240]


def test_errors_name_the_problem():
    seconds, nearest, population, zones, classes = hand_case()
    with pytest.raises(InputError, match="class 1"):
        careshed.coverage_by_zone(seconds, nearest, population, zones, [11], classes)
    with pytest.raises(InputError, match=r"missing class\(es\) \[1\]"):
        careshed.coverage_by_zone(seconds, nearest, population, zones, {0: 11, 2: 15}, classes)
    with pytest.raises(InputError, match="positive"):
        careshed.coverage_by_zone(seconds, nearest, population, zones, [11, -1], classes)
    bad = population.copy()
    bad[0, 1] = -5
    with pytest.raises(InputError, match="negative population"):
        careshed.coverage_by_zone(seconds, nearest, bad, zones, [11, 15], classes)
    with pytest.raises(InputError, match="shape"):
        careshed.coverage_by_zone(seconds, nearest, population[:, :2], zones, [11, 15], classes)
    bad_n = nearest.copy()
    bad_n[1, 0] = 0  # unreachable cell with a station
    with pytest.raises(InputError, match="unreachable"):
        careshed.coverage_by_zone(seconds, bad_n, population, zones, [11, 15], classes)
    with pytest.raises(ValueError):  # InputError is a ValueError
        careshed.coverage_by_zone(np.full((2, 3), np.nan, np.float32), nearest, population, zones, [11], None)


def oracle(seconds, nearest, population, zone, splits, classes, thr_s, n_zones, n_stations, curve_max):
    """Independent numpy/sort implementation of the definitions (one row per zone, region last)."""
    H, W = seconds.shape
    t = seconds.ravel().astype(np.float64)
    p = np.nan_to_num(population.ravel(), nan=0.0)
    cls = classes.ravel().astype(np.int64)
    cls[cls == 255] = 0
    z = zone.ravel()
    # (cell, zone, weight) contributions
    cells = np.flatnonzero(z >= 0)
    rows = [(cells, z[cells], np.ones(len(cells)))]
    sc, sz, sf = splits
    rows.append((sc, sz, sf))
    cell = np.concatenate([r[0] for r in rows])
    zz = np.concatenate([r[1] for r in rows])
    w = np.concatenate([r[2] for r in rows]) * p[cell]
    tt = t[cell]
    thr = np.asarray(thr_s)[cls[cell]]
    out = []
    for target in list(range(n_zones)) + ["region"]:
        m = np.ones(len(cell), bool) if target == "region" else zz == target
        wt, tz = w[m], tt[m]
        pop = wt.sum()
        reached = np.isfinite(tz)
        order = np.argsort(tz, kind="stable")
        cum = np.cumsum(wt[order])
        # smallest t with cum(time <= t) >= 0.9 pop: group equal times by taking the last index of each run
        ts = tz[order]
        last = np.r_[ts[1:] != ts[:-1], True]
        ok = (10 * cum >= 9 * pop) & last
        p90 = ts[np.argmax(ok)] if pop > 0 and ok.any() else (np.nan if pop == 0 else INF)
        row = {
            "population": pop,
            "covered": wt[tz <= thr[m]].sum(),
            "unreachable": wt[~reached].sum(),
            "mean": (wt[reached] * tz[reached]).sum() / wt[reached].sum() if wt[reached].sum() > 0 else np.nan,
            "p90": p90,
            "curve": [wt[tz <= 60 * k].sum() / pop if pop > 0 else np.nan for k in range(curve_max + 1)],
        }
        out.append(row)
    st = np.zeros(n_stations)
    stc = np.zeros(n_stations)
    reach = np.isfinite(tt)
    np.add.at(st, nearest.ravel()[cell][reach], w[reach])
    cov = reach & (tt <= thr)
    np.add.at(stc, nearest.ravel()[cell][cov], w[cov])
    return out, st, stc


@pytest.mark.parametrize("trial", range(4))
def test_random_inputs_match_numpy_oracle(trial):
    seed = _seed(f"coverage oracle trial {trial}")
    rng = np.random.default_rng(seed)
    H, W, n_zones, n_stations, n_classes = 23 + trial, 31, 1 + trial, 4, 1 + trial % 3
    u = rng.random((H, W))
    seconds = np.where(u < 0.35, rng.random((H, W)) * 2400, rng.integers(0, 41, (H, W)) * 60.0)
    seconds = np.where(u < 0.07, INF, seconds).astype(np.float32)
    nearest = np.where(np.isinf(seconds), -1, rng.integers(0, n_stations, (H, W))).astype(np.int32)
    population = rng.integers(0, 50, (H, W)).astype(np.float64)  # integers: sums are exact
    population[rng.random((H, W)) < 0.05] = np.nan
    classes = rng.integers(0, n_classes + 1, (H, W)).astype(np.uint8)
    classes[classes == n_classes] = 255
    zone = rng.integers(-1, n_zones, (H, W)).astype(np.int32)
    split = rng.random((H, W)) < 0.15
    zone[split] = -2
    sc, sz, sf = [], [], []
    for c in np.flatnonzero(split.ravel()):
        k = min(n_zones, int(rng.integers(1, 4)))
        zs = np.sort(rng.choice(n_zones, k, replace=False))
        eighths = rng.multinomial(8, np.ones(k + 1) / (k + 1))[:k]  # dyadic fractions summing to <= 1
        sc += [c] * k
        sz += list(zs)
        sf += list(eighths / 8.0)
    splits = (np.array(sc, np.int64), np.array(sz, np.int32), np.array(sf))
    zones = {"zone": zone, "split_cell": splits[0], "split_zone": splits[1], "split_fraction": splits[2],
             "n_zones": n_zones}
    thr_min = [8 + 4 * c + (0.5 if trial % 2 else 0) for c in range(n_classes)]
    t = careshed.coverage_by_zone(seconds, nearest, population, zones, thr_min, classes, curve_max_minutes=45,
                                  n_stations=n_stations)
    want, st, stc = oracle(seconds, nearest, population, zone, splits, classes, [m * 60 for m in thr_min],
                           n_zones, n_stations, 45)
    for i, row in enumerate(want):
        got = t.zones.iloc[i]
        assert got.population == row["population"]
        assert got.covered == row["covered"]
        assert got.unreachable == row["unreachable"]
        assert got.uncovered == row["population"] - row["covered"]
        np.testing.assert_allclose(got.mean_response_s, row["mean"], rtol=1e-9)
        if math.isnan(row["p90"]) or math.isinf(row["p90"]):
            np.testing.assert_equal(got.p90_response_s, row["p90"])
        else:  # first 1-s bin edge at or above the exact percentile
            assert got.p90_response_s == math.ceil(row["p90"]), (seed, i, row["p90"])
        np.testing.assert_array_equal(t.curve.iloc[:, i].to_numpy(), np.array(row["curve"]))
    np.testing.assert_array_equal(t.stations.population.to_numpy(), st)
    np.testing.assert_array_equal(t.stations.covered_population.to_numpy(), stc)
    region = t.zones.iloc[-1]
    assert t.stations.population.sum() == region.population - region.unreachable
    for col in ["population", "covered", "uncovered", "unreachable"]:
        assert t.zones[col].iloc[:-1].sum() == region[col]


def test_with_real_zone_raster_and_search_offsets():
    """Zones rasterised with the area-fraction rule and times from careshed.arrays.travel_time_grid with a dispatch
    offset. 20 x 20 cells of 100 m, 1 person per cell; zone W = x < 1050 m, zone E = x >= 1050 m (the
    boundary halves column 10). One station in cell (0, 0) leaving after 3 min; friction 0.06 s/m → 6 s per
    100 m step. Threshold 3 min + 12 s: only cells whose travel is <= 12 s — (0,0), (0,1), (1,0), (0,2),
    (2,0), (1,1) at 8.49 s — are covered: 6 people, all in W."""
    grid = careshed.Grid(20, 20, (0.0, 100.0, 0.0, 2000.0, 0.0, -100.0), "EPSG:32650")
    w = sg.box(0, 0, 1050, 2000)
    e = sg.box(1050, 0, 2000, 2000)
    zr = careshed.rasterize_zones([w.wkb, e.wkb], grid, "fraction")
    assert (zr.zone == -2).sum() == 20
    friction = np.full(grid.shape, 0.06)
    seconds, nearest = careshed.arrays.travel_time_grid(friction, [[0, 0]], cell_size=(100.0, 100.0),
                                                        start_offsets_seconds=[180.0])
    population = np.ones(grid.shape, np.float32)
    t = careshed.coverage_by_zone(seconds, nearest, population, zr, 3 + 12 / 60, zone_ids=["W", "E"])
    z = t.zones.set_index("zone")
    assert z.loc["W", "population"] == pytest.approx(200 + 20 * 0.5)
    assert z.loc["E", "population"] == pytest.approx(180 + 20 * 0.5)
    assert z.loc["W", "covered"] == pytest.approx(6)
    assert z.loc["E", "covered"] == 0
    assert t.stations.population.sum() == pytest.approx(400)
    assert t.stations.covered_population.sum() == pytest.approx(6)
    # Nobody is closer than the 3-minute offset.
    assert t.curve.loc[2, "region"] == 0


def test_ambulance_check():
    t = careshed.ambulance_check([0, 30000, 30001, 95000], [0, 1, 1, 2], zone_ids=list("abcd"))
    assert t.needed.tolist() == [0, 1, 2, 4]
    assert t.shortfall.tolist() == [0, 0, 1, 2]
    assert careshed.ambulance_check([100], [0], residents_per_vehicle=50).needed.tolist() == [2]
    with pytest.raises(InputError, match="residents_per_vehicle"):
        careshed.ambulance_check([1], [1], 0)


def test_isochrones_valid_exact_area_and_holes():
    grid = careshed.Grid(5, 5, (500000.0, 100.0, 0.0, 3300000.0, 0.0, -100.0), "EPSG:32650")
    s = np.full((5, 5), 2400, np.float32)
    s[1:4, 1:4] = 300
    s[2, 2] = 1200  # a slow pocket: a hole in the 10-minute ring
    s[0, 0] = INF
    rings = careshed.isochrones(s, grid, [10, 30])
    assert rings.crs.to_epsg() == 32650
    assert rings.cells.tolist() == [8, 1]
    assert rings.label.tolist() == ["0-10 min", "10-30 min"]
    assert all(rings.geometry.is_valid)
    assert rings.geometry.area.tolist() == [8 * 1e4, 1e4]
    assert rings.area_m2.tolist() == [8 * 1e4, 1e4]
    assert len(rings.geometry.iloc[0].geoms[0].interiors) == 1
    cum = careshed.isochrones(s, grid, [10, 30], cumulative=True)
    assert cum.geometry.area.tolist() == [8 * 1e4, 9 * 1e4]
    assert len(cum.geometry.iloc[1].geoms[0].interiors) == 0
    assert cum.geometry.iloc[1].contains(cum.geometry.iloc[0])


def test_isochrones_random_field():
    seed = _seed("isochrones")
    rng = np.random.default_rng(seed)
    grid = careshed.Grid(40, 30, (0.0, 50.0, 0.0, 1500.0, 0.0, -50.0), "EPSG:32650")
    yy, xx = np.mgrid[0:30, 0:40]
    s = (np.hypot(xx - 20, yy - 15) * 60 + rng.random((30, 40)) * 200).astype(np.float32)
    for eight in (False, True):
        g = careshed.isochrones(s, grid, [5, 10, 15], eight_connected=eight)
        lo = np.r_[-1, np.array([5, 10]) * 60]
        hi = np.array([5, 10, 15]) * 60
        n = [int(((s > a) & (s <= b)).sum()) for a, b in zip(lo, hi)]
        assert g.cells.tolist() == n
        assert all(g.geometry.is_valid)
        np.testing.assert_array_equal(g.geometry.area.to_numpy(), np.array(n) * 2500.0)  # exact: cell edges
    simp = careshed.isochrones(s, grid, [5, 10, 15], simplify=True)
    assert all(simp.geometry.is_valid)


_OUT_OF_MEMORY_IN_THE_THREADS = '''
import resource, sys
import numpy as np
from careshed.arrays.coverage import coverage_by_zone

rows, cols, n_zones = 300, 250, 1000
seconds = (np.arange(rows * cols) % 4000).astype(np.float32).reshape(rows, cols)
population = np.full((rows, cols), 2.0)
zones = (np.arange(rows * cols) % n_zones).astype(np.int32).reshape(rows, cols)
coverage_by_zone(seconds, None, population, np.zeros_like(zones), 10)  # starts the threads; small histograms
vm_kb = int(next(line for line in open("/proc/self/status") if line.startswith("VmSize:")).split()[1])
# 20 MB more address space: less than one thread's histograms (1000 zones x 4000 one-second bins x 16 B = 64 MB),
# which each thread allocates inside the parallel pass
resource.setrlimit(resource.RLIMIT_AS, (vm_kb * 1024 + (20 << 20), resource.getrlimit(resource.RLIMIT_AS)[1]))
try:
    coverage_by_zone(seconds, None, population, zones, 10)
except MemoryError as e:
    print(type(e).__name__, e)
    sys.exit(0)
print("no MemoryError")
sys.exit(1)
'''


def test_out_of_memory_inside_the_threaded_pass_is_a_memory_error_not_an_abort():
    """Issue 8: std::bad_alloc inside an OpenMP parallel region used to call std::terminate (SIGABRT kills Python).
    Each thread allocates its histograms inside the region; with the address space capped below that, the run
    must raise careshed's MemoryLimitError. MALLOC_ARENA_MAX=1: glibc would otherwise serve the allocation from a
    thread arena's already-reserved address space, which the cap does not limit."""
    import subprocess
    import sys

    env = dict(os.environ, OMP_NUM_THREADS="2", MALLOC_ARENA_MAX="1",
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    r = subprocess.run([sys.executable, "-c", _OUT_OF_MEMORY_IN_THE_THREADS], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert r.stdout.startswith("MemoryLimitError careshed ran out of memory"), r.stdout
    assert "terminate called" not in r.stderr
