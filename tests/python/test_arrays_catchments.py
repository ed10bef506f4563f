"""Tests of careshed.catchments and careshed.capacity_coverage.

Expected numbers come from hand-worked grids (written out below), from numpy oracles on random inputs (sorting for
the 90th percentile) and, for capacity coverage, from an independent reference of the AccessMod algorithm written
here with plain loops and a heapq Dijkstra of the raster cost rule (DESIGN.md) — no careshed search involved.
Random inputs log their seed.
"""
from __future__ import annotations

import heapq
import math
import os

import numpy as np
import pytest
from shapely.ops import unary_union

import careshed
from careshed import InputError

INF = np.inf


def _seed(request_name: str) -> int:
    seed = int(os.environ.get("CARESHED_TEST_SEED", np.random.SeedSequence().entropy % (2**32)))
    print(f"{request_name}: random seed {seed}")
    return seed


# ---- catchments -----------------------------------------------------------------------------------------------

def test_catchments_hand_worked_ties_empty_and_zero_population():
    # 1 x 7 row of 100 m cells at 0.5 s/m (50 s per step); col 6 is impassable.
    # Facility 0 at col 4, facility 1 at col 0, facility 2 on the impassable col 6 (reaches nothing).
    # Col 2 is 100 s from both 0 and 1: the tie goes to facility 0 (lowest index).
    friction = np.full((1, 7), 0.5)
    friction[0, 6] = np.nan
    pop = np.array([[10.0, 0.0, 20.0, 30.0, 40.0, 0.0, 99.0]])
    grid = careshed.Grid(7, 1, (500000.0, 100.0, 0.0, 3200100.0, 0.0, -100.0), "EPSG:32650")
    with pytest.warns(RuntimeWarning):
        seconds, nearest = careshed.arrays.travel_time_grid(friction, [(0, 4), (0, 0), (0, 6)], cell_size=(100, 100))
    assert nearest.tolist() == [[1, 1, 0, 0, 0, 0, -1]]
    t = careshed.catchments(seconds, nearest, pop, grid, resources={"beds": [9, 2, 5]}, n_facilities=3)
    # facility 0: cols 2..5 → 20 + 30 + 40 + 0 = 90 people at 100, 50, 0, 50 s
    assert t["population"].tolist() == [90.0, 10.0, 0.0]
    assert t["cells"].tolist() == [4, 2, 0]
    assert t["area_km2"].tolist() == pytest.approx([0.04, 0.02, 0.0])
    assert t.loc[0, "mean_minutes"] == pytest.approx((20 * 100 + 30 * 50 + 0) / 90 / 60)
    # 90 % of 90 = 81 people: cumulative 40 (0 s), 70 (50 s), 90 (100 s) → 100 s
    assert t.loc[0, "p90_minutes"] == pytest.approx(100 / 60)
    assert t.loc[1, "p90_minutes"] == 0.0  # all 10 people at the facility's own cell
    assert math.isnan(t.loc[2, "mean_minutes"]) and math.isnan(t.loc[2, "p90_minutes"])
    assert t["beds_per_1000"].tolist()[:2] == pytest.approx([9 / 90 * 1000, 2 / 10 * 1000])
    assert math.isnan(t.loc[2, "beds_per_1000"])  # nobody in the catchment: NaN, not 0 or inf
    assert t.totals["unreached_population"] == 99.0
    assert t.totals["reached_population"] == 100.0
    assert t.polygons is None


def test_catchments_zero_population_catchment_and_facility_table():
    import pandas as pd

    seconds = np.array([[0, 10], [5, 20]], np.float32)
    nearest = np.array([[0, 0], [1, 1]], np.int32)
    pop = np.array([[0, 0], [4, 6]], np.float32)
    fac = pd.DataFrame({"name": ["a", "b"], "beds": [3.0, 1.0]}, index=["h1", "h2"])
    t = careshed.catchments(seconds, nearest, pop, facilities=fac, resources="beds")
    assert list(t.index) == ["h1", "h2"]
    assert t.loc["h1", "population"] == 0 and t.loc["h1", "cells"] == 2
    assert math.isnan(t.loc["h1", "beds_per_1000"])
    assert t.loc["h2", "beds_per_1000"] == pytest.approx(100.0)
    assert t.loc["h2", "mean_minutes"] == pytest.approx((4 * 5 + 6 * 20) / 10 / 60)
    assert math.isnan(t.loc["h1", "area_km2"])  # no grid given


def test_catchments_bad_inputs():
    seconds = np.array([[0, INF]], np.float32)
    with pytest.raises(InputError, match="disagree"):
        careshed.catchments(seconds, np.array([[0, 0]]), np.ones((1, 2)))
    with pytest.raises(InputError, match="shape"):
        careshed.catchments(seconds, np.array([[0, -1]]), np.ones((2, 2)))
    with pytest.raises(InputError, match="negative"):
        careshed.catchments(seconds, np.array([[0, -1]]), np.array([[-1.0, 0.0]]))
    with pytest.raises(InputError, match="resources"):
        careshed.catchments(seconds, np.array([[0, -1]]), np.ones((1, 2)), resources={"beds": [1, 2]})
    with pytest.raises(InputError, match="only 1 facilities"):
        careshed.catchments(seconds, np.array([[1, -1]]), np.ones((1, 2)), n_facilities=1)


def test_catchments_random_against_numpy():
    seed = _seed("catchments random")
    rng = np.random.default_rng(seed)
    for _ in range(10):
        h, w = rng.integers(5, 30, size=2)
        friction = rng.uniform(0.01, 0.2, (h, w))
        friction[rng.random((h, w)) < 0.1] = np.nan
        pop = rng.uniform(0, 100, (h, w))
        pop[rng.random((h, w)) < 0.2] = 0
        k = int(rng.integers(1, 6))
        src = np.column_stack([rng.integers(0, h, k), rng.integers(0, w, k)])
        with _nowarn():
            seconds, nearest = careshed.arrays.travel_time_grid(friction, src, cell_size=(100, 100), max_seconds=500)
        t = careshed.catchments(seconds, nearest, pop, n_facilities=k)
        reach = np.isfinite(seconds)
        assert t["population"].sum() == pytest.approx(pop[reach].sum(), rel=1e-12)
        assert t.totals["unreached_population"] == pytest.approx(pop[~reach].sum(), rel=1e-12, abs=1e-9)
        for f in range(k):
            m = nearest == f
            p, s = pop[m], seconds[m].astype(np.float64)
            assert t.loc[f, "cells"] == m.sum()
            if p.sum() > 0:
                assert t.loc[f, "mean_minutes"] * 60 == pytest.approx((p * s).sum() / p.sum(), rel=1e-9)
                o = np.argsort(s, kind="stable")
                cum = np.cumsum(p[o])
                exact = s[o][np.searchsorted(cum, 0.9 * p.sum() * (1 - 1e-12))]
                assert t.loc[f, "p90_minutes"] * 60 == pytest.approx(math.ceil(exact), abs=1e-9)  # 1-s bin edge
            else:
                assert math.isnan(t.loc[f, "mean_minutes"])


class _nowarn:
    """Sources may land on impassable cells in random grids; their RuntimeWarning is expected and ignored."""

    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def test_catchment_polygons_valid_and_exact():
    grid = careshed.make_grid((500000, 3200000, 500600, 3200500), 100.0, "EPSG:32650")
    h, w = grid.shape
    rng = np.random.default_rng(7)
    friction = rng.uniform(0.05, 0.1, (h, w))
    friction[2, 1:4] = np.nan  # a wall
    src = [(0, 0), (4, 5), (2, 5)]
    seconds, nearest = careshed.arrays.travel_time_grid(friction, src, cell_size=(100, 100))
    t = careshed.catchments(seconds, nearest, np.ones((h, w)), grid, polygons=True)
    g = t.polygons
    assert list(g["facility"]) == [0, 1, 2]
    assert g.crs is not None and g.crs.to_epsg() == 32650
    for f in range(3):
        geom = g.geometry.iloc[f]
        assert geom.geom_type == "MultiPolygon" and geom.is_valid
        assert geom.area == pytest.approx((nearest == f).sum() * 1e4)
        assert g["area_km2"].iloc[f] == pytest.approx((nearest == f).sum() * 0.01)
    # The catchments tile the reached cells without overlap.
    union = unary_union(list(g.geometry))
    assert union.area == pytest.approx(np.isfinite(seconds).sum() * 1e4)
    assert sum(p.area for p in g.geometry) == pytest.approx(union.area)


# ---- capacity coverage: independent reference ----------------------------------------------------------------

def _dijkstra(friction, dx, dy, src, max_s):
    """{cell: seconds} from one source, 8 neighbours, step = length × mean friction (r.cost rule)."""
    h, w = friction.shape
    r0, c0 = src
    if not np.isfinite(friction[r0, c0]):
        return {}
    dist = {(r0, c0): 0.0}
    heap = [(0.0, r0, c0)]
    done = set()
    while heap:
        d, r, c = heapq.heappop(heap)
        if (r, c) in done:
            continue
        done.add((r, c))
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                if dr == 0 and dc == 0:
                    continue
                rr, cc = r + dr, c + dc
                if not (0 <= rr < h and 0 <= cc < w) or not np.isfinite(friction[rr, cc]):
                    continue
                nd = d + math.hypot(dc * dx, dr * dy) * (friction[r, c] + friction[rr, cc]) / 2
                if nd <= max_s and nd < dist.get((rr, cc), INF):
                    dist[(rr, cc)] = nd
                    heapq.heappush(heap, (nd, rr, cc))
    return {r * w + c: t for (r, c), t in dist.items()}


def _accessmod_reference(friction, dx, dy, sources, pop, capacity, max_s, band_s, order):
    """Plain-loop AccessMod geographic coverage: returns (covered per facility, exhausted time per facility,
    uncovered flat array, all times)."""
    rem = [0.0 if math.isnan(p) else float(p) for p in pop.ravel()]
    times = [_dijkstra(friction, dx, dy, s, max_s) for s in sources]
    n = len(sources)
    if order == "population":
        within = [sum(rem[c] for c in sorted(times[f])) for f in range(n)]  # cell order, as careshed sums
        seq = sorted(range(n), key=lambda f: (-within[f], f))
    else:
        seq = list(range(n))
    covered = [0.0] * n
    when = [max_s] * n
    for f in seq:
        cap = float(capacity[f])
        if cap == 0:
            when[f] = 0.0
            continue
        bands = {}
        for cell, t in times[f].items():
            bands.setdefault(math.ceil(t / band_s), []).append(cell)
        for k in sorted(bands):
            total = sum(rem[c] for c in bands[k])
            if total <= 0:
                continue
            if total <= cap:
                for c in bands[k]:
                    rem[c] = 0.0
                cap -= total
                covered[f] += total
            else:
                share = cap / total
                for c in bands[k]:
                    rem[c] -= rem[c] * share
                covered[f] += cap
                cap = 0.0
            if cap <= 0:
                when[f] = min(k * band_s, max_s)
                break
    unc = np.array(rem).reshape(pop.shape)
    unc[np.isnan(pop)] = np.nan
    return covered, when, unc, times


def test_capacity_coverage_matches_the_accessmod_reference_on_random_grids():
    seed = _seed("capacity reference")
    rng = np.random.default_rng(seed)
    trials = 0
    while trials < 12:
        h, w = rng.integers(6, 16, size=2)
        friction = rng.uniform(0.02, 0.12, (h, w))
        friction[rng.random((h, w)) < 0.1] = np.nan
        pop = rng.uniform(0, 50, (h, w))
        pop[rng.random((h, w)) < 0.1] = np.nan
        k = int(rng.integers(1, 7))
        src = [(int(rng.integers(0, h)), int(rng.integers(0, w))) for _ in range(k)]
        cap = rng.uniform(0, 1500, k)
        cap[rng.random(k) < 0.15] = 0.0
        max_min = float(rng.integers(1, 6))
        order = "population" if rng.random() < 0.5 else "index"
        cov, when, unc, times = _accessmod_reference(friction, 100.0, 100.0, src, pop, cap, max_min * 60, 60.0,
                                                     order)
        # The two implementations round differently (exact ticks → float32 vs double): skip draws with a time
        # within 1 ms of a band edge, where the band could legitimately differ.
        all_t = np.array([t for d in times for t in d.values()])
        if np.any((np.abs(all_t - 60.0 * np.round(all_t / 60.0)) < 1e-3) & (all_t > 0)):
            continue
        trials += 1
        with _nowarn():
            r = careshed.capacity_coverage(friction, src, pop, cap, cell_size=(100, 100), max_minutes=max_min,
                                           order=order)
        np.testing.assert_allclose(r.facilities["covered"], cov, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(r.facilities["exhausted_minutes"] * 60, when, rtol=0, atol=1e-9)
        np.testing.assert_allclose(r.uncovered, unc, rtol=1e-9, atol=1e-9)
        assert r.facilities["cells_reached"].tolist() == [len(d) for d in times]
        # Invariants.
        fin = ~np.isnan(pop)
        assert np.all(r.facilities["covered"] <= cap * (1 + 1e-12))
        assert np.all(r.uncovered[fin] >= 0) and np.all(r.uncovered[fin] <= pop[fin])
        assert np.nansum(r.covered) == pytest.approx(r.facilities["covered"].sum(), rel=1e-9, abs=1e-9)
        np.testing.assert_allclose(r.covered[fin] + r.uncovered[fin], pop[fin], rtol=1e-12)


def test_capacity_fractional_last_band_by_hand():
    # 3 x 3, 100 m at 0.5 s/m: centre 0 s, rook cells 50 s, diagonals 70.7 s. Capacity 60 with one-minute bands:
    # the centre's 10, then half of the rook cells' 100 (band (0, 60 s]); capacity runs out at 60 s.
    friction = np.full((3, 3), 0.5)
    pop = np.array([[5, 10, 5], [20, 10, 30], [5, 40, 5]], float)
    r = careshed.capacity_coverage(friction, [(1, 1)], pop, [60], cell_size=100, max_minutes=60)
    assert r.facilities.loc[0, "covered"] == 60
    assert r.facilities.loc[0, "exhausted"]
    assert r.facilities.loc[0, "exhausted_minutes"] == 1.0
    np.testing.assert_allclose(r.uncovered, [[5, 5, 5], [10, 0, 15], [5, 20, 5]])
    # Bands of exact times: runs out at the rook cells' 50 s.
    r0 = careshed.capacity_coverage(friction, [(1, 1)], pop, [60], cell_size=100, max_minutes=60, band_minutes=0)
    assert r0.facilities.loc[0, "exhausted_minutes"] == pytest.approx(50 / 60)
    np.testing.assert_allclose(r0.uncovered, r.uncovered)


def test_capacity_sixty_minutes_is_inclusive():
    # 1 x 62 row: 120 m cells at 0.5 s/m, so cell j is at exactly 60·j s; cell 60 at 60 min 0 s.
    friction = np.full((1, 62), 0.5)
    pop = np.ones((1, 62))
    r = careshed.capacity_coverage(friction, [(0, 0)], pop, [np.inf], cell_size=120, max_minutes=60)
    assert r.facilities.loc[0, "covered"] == 61
    assert r.uncovered[0, 60] == 0 and r.uncovered[0, 61] == 1
    assert not r.facilities.loc[0, "exhausted"] and r.facilities.loc[0, "exhausted_minutes"] == 60
    r = careshed.capacity_coverage(friction, [(0, 0)], pop, [60.5], cell_size=120, max_minutes=60)
    assert r.uncovered[0, 60] == pytest.approx(0.5)
    assert r.facilities.loc[0, "exhausted_minutes"] == 60


def test_capacity_order_field_population_and_zones():
    # 1 x 5 row, 60 s per step, max 2 min. A (col 0, capacity 40) reaches 1 + 2 + 30 = 33 people, B (col 4,
    # capacity 20) reaches 30 + 4 + 5 = 39.
    friction = np.full((1, 5), 0.5)
    pop = np.array([[1, 2, 30, 4, 5]], float)
    src, cap = [(0, 0), (0, 4)], [40, 20]
    zones = np.array([[0, 0, 1, 1, -1]])
    r = careshed.capacity_coverage(friction, src, pop, cap, cell_size=120, max_minutes=2, zones=zones,
                                   zone_ids=["west", "east"])
    assert r.facilities["covered"].tolist() == [33, 9]  # index order: A takes col 2 whole
    r = careshed.capacity_coverage(friction, src, pop, cap, cell_size=120, max_minutes=2, order="population",
                                   zones=zones, zone_ids=["west", "east"])
    # B first: 5 + 4 + 11 of col 2's 30; then A: 1 + 2 + 19.
    assert r.processing_order.tolist() == [1, 0]
    assert r.facilities["covered"].tolist() == pytest.approx([22, 20])
    assert r.facilities["order_population"].tolist() == [33, 39]
    # A field, descending: [1, 5] → B first, same as population order; ascending → A first.
    rf = careshed.capacity_coverage(friction, src, pop, cap, cell_size=120, max_minutes=2, order=[1, 5])
    assert rf.facilities["covered"].tolist() == pytest.approx([22, 20])
    ra = careshed.capacity_coverage(friction, src, pop, cap, cell_size=120, max_minutes=2, order=[1, 5],
                                    order_descending=False)
    assert ra.facilities["covered"].tolist() == [33, 9]
    z = r.zones.set_index("zone")
    assert z.loc["west", "population"] == 3 and z.loc["west", "covered_share"] == 1.0
    assert z.loc["east", "population"] == 34 and z.loc["east", "covered"] == pytest.approx(34)
    assert r.total_population == 42 and r.total_covered == pytest.approx(42)


def test_capacity_bad_inputs():
    f = np.full((2, 2), 0.5)
    pop = np.ones((2, 2))
    with pytest.raises(InputError, match="capacity"):
        careshed.capacity_coverage(f, [(0, 0)], pop, [-1], cell_size=100, max_minutes=10)
    with pytest.raises(InputError, match="capacity"):
        careshed.capacity_coverage(f, [(0, 0)], pop, [1, 2], cell_size=100, max_minutes=10)
    with pytest.raises(InputError, match="max_minutes"):
        careshed.capacity_coverage(f, [(0, 0)], pop, [1], cell_size=100, max_minutes=np.inf)
    with pytest.raises(InputError, match="order"):
        careshed.capacity_coverage(f, [(0, 0)], pop, [1], cell_size=100, max_minutes=10, order="beds")
    with pytest.raises(InputError, match="population"):
        careshed.capacity_coverage(f, [(0, 0)], -pop, [1], cell_size=100, max_minutes=10)
    with pytest.raises(InputError, match="cell_size"):
        careshed.capacity_coverage(f, [(0, 0)], pop, [1], max_minutes=10)


def test_catchments_lonlat_area_per_row():
    # 10 x 10 cells of 0.01° at 28°N: the area comes from per-row cell sizes on the ellipsoid; check the total
    # against the spherical zone formula R² Δλ (sin φ2 − sin φ1) (sphere vs ellipsoid: well within 1 %).
    grid = careshed.make_lonlat_grid((119.0, 28.0, 119.1, 28.1), 0.01)
    h, w = grid.shape
    seconds = np.zeros((h, w), np.float32)
    nearest = np.zeros((h, w), np.int32)
    nearest[:, 5:] = 1
    t = careshed.catchments(seconds, nearest, np.ones((h, w)), grid)
    west, south, east, north = grid.bounds
    r_km = 6371.0088
    sphere = r_km**2 * math.radians(east - west) * (math.sin(math.radians(north)) - math.sin(math.radians(south)))
    assert t["area_km2"].sum() == pytest.approx(sphere, rel=1e-2)
    assert t.loc[0, "area_km2"] == pytest.approx(t.loc[1, "area_km2"], rel=1e-12)  # same rows, same areas
    # Rows nearer the pole hold smaller cells: the top half has less area than the bottom half.
    halves = np.repeat((np.arange(h)[:, None] >= h // 2).astype(np.int32), w, axis=1)  # 0 = northern rows
    top = careshed.catchments(seconds, halves, np.ones((h, w)), grid)
    assert top.loc[0, "area_km2"] < top.loc[1, "area_km2"]


def test_capacity_friction_surface_and_zone_raster():
    grid = careshed.make_grid((500000, 3200000, 501000, 3200800), 100.0, "EPSG:32650")
    h, w = grid.shape
    rng = np.random.default_rng(3)
    f = rng.uniform(0.05, 0.1, (h, w))
    pop = rng.uniform(0, 10, (h, w))
    surface = careshed.FrictionSurface(f, grid)
    src, cap = [(1, 1), (6, 8)], [120.0, 90.0]
    a = careshed.capacity_coverage(surface, src, pop, cap, max_minutes=5)
    b = careshed.capacity_coverage(f, src, pop, cap, cell_size=100, max_minutes=5)
    np.testing.assert_array_equal(a.uncovered, b.uncovered)
    # Two zones split through the middle of column 4 (area fractions 1/2): per-zone covered = zonal sum of the
    # covered grid under the same ZoneRaster.
    from shapely.geometry import box

    zones = careshed.rasterize_zones([box(500000, 3200000, 500450, 3200800), box(500450, 3200000, 501000, 3200800)],
                                     grid, "fraction")
    assert (zones.zone == -2).sum() == h
    r = careshed.capacity_coverage(f, src, pop, cap, cell_size=100, max_minutes=5, zones=zones,
                                   zone_ids=["west", "east"])
    np.testing.assert_allclose(r.zones["population"], careshed.zonal_sum(pop, zones), rtol=1e-12)
    np.testing.assert_allclose(r.zones["covered"], careshed.zonal_sum(r.covered, zones), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(r.zones["covered_share"], r.zones["covered"] / r.zones["population"], rtol=1e-12)
    assert r.zones["population"].sum() == pytest.approx(pop.sum())


def test_capacity_start_offsets_minutes_by_hand_and_the_former_keyword_warns():
    # The 3 x 3 case above with the facility starting 1 minute late and exact-time bands: centre at 60 s, rook
    # cells at 110 s; capacity 60 takes the centre's 10 and half the rook cells' 100, exhausted at 110 s.
    friction = np.full((3, 3), 0.5)
    pop = np.array([[5, 10, 5], [20, 10, 30], [5, 40, 5]], float)
    kw = dict(cell_size=100, max_minutes=60, band_minutes=0)
    r = careshed.capacity_coverage(friction, [(1, 1)], pop, [60], start_offsets_minutes=[1.0], **kw)
    assert r.facilities.loc[0, "covered"] == 60
    assert r.facilities.loc[0, "exhausted_minutes"] == pytest.approx(110 / 60)
    np.testing.assert_allclose(r.uncovered, [[5, 5, 5], [10, 0, 15], [5, 20, 5]])
    with pytest.warns(DeprecationWarning, match="capacity_coverage: offsets_minutes= is deprecated"):
        old = careshed.capacity_coverage(friction, [(1, 1)], pop, [60], offsets_minutes=[1.0], **kw)
    assert old.facilities.loc[0, "exhausted_minutes"] == r.facilities.loc[0, "exhausted_minutes"]
    np.testing.assert_array_equal(old.uncovered, r.uncovered)
