"""`careshed catchments`, `careshed access` (grid form) and the demo's county vs catchment vs E2SFCA comparison.

Oracle: the hand case below is small enough for a plain Dijkstra written here (8 neighbours, the r.cost rule:
centre distance x mean friction), an AccessMod band loop written here and the 2SFCA formulas written here; the
CLI's CSV and GeoTIFF outputs are compared with them.

    two zones in UTM 31N (EPSG:32631), 100 m cells, 20 x 10 cells:
        A: x 500000-501000, y 1000000-1001000, 2000 people -> 20 per cell (100 cells)
        B: x 501000-502000, same y,            5000 people -> 50 per cell (100 cells)
    travel: 28.8 km/h everywhere -> friction 0.125 s/m exactly (a rook step 12.5 s, a diagonal 17.68 s), so no
    time lands exactly on a 60 s band edge or on the 90 s limit and float32 vs float64 cannot flip a comparison.
    hospitals: h1 (500250, 1000550) in A, 10 beds; h2 (501750, 1000250) in B, 30 beds.
"""
from __future__ import annotations

import heapq
import math

import numpy as np
import pandas as pd
import pytest

from careshed.cli import main

from conftest import QUZHOU, QUZHOU_CENSUS_TOTAL

CELL = 100.0
ROWS, COLS = 10, 20
X0, Y1 = 500000.0, 1001000.0
FRICTION = 3.6 / 28.8  # s/m
HOSPITALS = [("h1", 500250.0, 1000550.0, 10.0), ("h2", 501750.0, 1000250.0, 30.0)]
MAX_S = 90.0


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    import geopandas as gpd
    from shapely.geometry import box

    d = tmp_path_factory.mktemp("issue5")
    zones = gpd.GeoDataFrame({"zone": ["A", "B"], "pop": [2000, 5000]},
                             geometry=[box(500000, 1000000, 501000, 1001000), box(501000, 1000000, 502000, 1001000)],
                             crs="EPSG:32631")
    zones.to_file(d / "zones.gpkg", layer="zones", driver="GPKG")
    pd.DataFrame({"hid": [h[0] for h in HOSPITALS], "x": [h[1] for h in HOSPITALS], "y": [h[2] for h in HOSPITALS],
                  "beds": [h[3] for h in HOSPITALS]}).to_csv(d / "hospitals.csv", index=False)
    return d


def _common(case) -> list:
    return [str(case / "zones.gpkg"), str(case / "hospitals.csv"), "--x", "x", "--y", "y", "--crs", "EPSG:32631",
            "--facility-id", "hid", "--zone-id", "zone", "--population", "pop", "--background-speed", "28.8",
            "--cell-size", "100"]


def _dijkstra(src_rc) -> np.ndarray:
    """Seconds from one cell to every cell: 8 neighbours, centre distance x mean friction (uniform here)."""
    t = np.full((ROWS, COLS), np.inf)
    t[src_rc] = 0.0
    heap = [(0.0, src_rc)]
    while heap:
        d, (r, c) = heapq.heappop(heap)
        if d > t[r, c]:
            continue
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                if dr == dc == 0:
                    continue
                rr, cc = r + dr, c + dc
                if 0 <= rr < ROWS and 0 <= cc < COLS:
                    nd = d + math.hypot(dr, dc) * CELL * FRICTION
                    if nd < t[rr, cc]:
                        t[rr, cc] = nd
                        heapq.heappush(heap, (nd, (rr, cc)))
    return t


@pytest.fixture(scope="module")
def oracle():
    pop = np.zeros((ROWS, COLS))
    pop[:, :10] = 20.0
    pop[:, 10:] = 50.0
    zone = np.zeros((ROWS, COLS), dtype=int)
    zone[:, 10:] = 1
    cells = [(int((Y1 - y) // CELL), int((x - X0) // CELL)) for _, x, y, _ in HOSPITALS]
    times = np.stack([_dijkstra(rc) for rc in cells])        # (2, ROWS, COLS), each hospital alone
    beds = np.array([h[3] for h in HOSPITALS])
    return {"pop": pop, "zone": zone, "cells": cells, "times": times, "beds": beds}


def _read_csv(path):
    return pd.read_csv(path, comment="#", index_col=0)


def _notes(path) -> list:
    return [ln[2:] for ln in path.read_text().splitlines() if ln.startswith("# ")]


def _band_coverage(times, pop, capacity, max_s):
    """AccessMod geographic coverage written from the rule: order = population within max_s (descending, ties
    lowest index); each facility takes the remaining people by 1-minute band ((k-1)60, k*60] s, band 0 = 0 s,
    the band that does not fit fractionally."""
    remaining = pop.copy()
    reach_pop = [float(pop[t <= max_s].sum()) for t in times]
    order = sorted(range(len(times)), key=lambda j: (-reach_pop[j], j))
    covered = np.zeros(len(times))
    for j in order:
        cap = capacity[j]
        t = times[j]
        inside = t <= max_s
        band = np.where(inside, np.ceil(t / 60.0), -1)
        for k in np.unique(band[inside]):
            m = band == k
            r = remaining[m].sum()
            if r <= cap:
                remaining[m] = 0.0
                cap -= r
                covered[j] += r
            else:
                remaining[m] *= 1.0 - cap / r
                covered[j] += cap
                cap = 0.0
                break
    return covered, pop - remaining, order


def test_catchments_cli_matches_dijkstra_and_band_oracle(case, oracle, tmp_path):
    out = tmp_path / "out"
    rc = main(["catchments", *_common(case), "--resource", "beds", "--max-minutes", "1.5", "--capacity", "beds",
               "--patients-per-bed", "40", "--label", "hospitals", "--modelled", "hospital beds", "--out", str(out)])
    assert rc == 0
    t = oracle["times"]
    pop = oracle["pop"]
    best = t.min(axis=0)
    nearest = np.where(best <= MAX_S, t.argmin(axis=0), -1)  # argmin: ties to the lowest index
    table = _read_csv(out / "catchments.csv")
    assert list(table.index) == ["h1", "h2"]
    for j, hid in enumerate(["h1", "h2"]):
        m = nearest == j
        p = pop[m].sum()
        assert table.loc[hid, "population"] == pytest.approx(p, rel=1e-9)
        assert table.loc[hid, "cells"] == m.sum()
        assert table.loc[hid, "area_km2"] == pytest.approx(m.sum() * 0.01, rel=1e-9)
        assert table.loc[hid, "beds_per_1000"] == pytest.approx(oracle["beds"][j] / p * 1000, rel=1e-9)
        assert table.loc[hid, "mean_minutes"] == pytest.approx((pop[m] * best[m]).sum() / p / 60, rel=1e-5)
    zones = _read_csv(out / "catchments_zones.csv")
    for z, name in enumerate(["A", "B"]):
        inz = oracle["zone"] == z
        assert zones.loc[name, "population_reached"] == pytest.approx(pop[inz & (nearest >= 0)].sum(), rel=1e-9)
        assert zones.loc[name, "population_unreached"] == pytest.approx(pop[inz & (nearest < 0)].sum(), abs=1e-6)
    assert zones.loc["region", "population"] == pytest.approx(7000, rel=1e-12)
    assert 0 < zones.loc["region", "population_unreached"] < 7000  # the 90 s limit leaves corners out

    # capacity-aware coverage: capacity = beds x 40 people; the band loop above is the oracle
    capacity = oracle["beds"] * 40
    covered, covered_cells, order = _band_coverage(t, pop, capacity, MAX_S)
    cap = _read_csv(out / "catchments_capacity.csv")
    np.testing.assert_allclose(cap["capacity"], capacity, rtol=1e-12)
    np.testing.assert_allclose(cap["covered"], covered, rtol=1e-9)
    assert list(cap["rank"].astype(int)) == [order.index(0), order.index(1)]
    assert (cap["covered"] <= cap["capacity"] * (1 + 1e-12)).all()
    for z, name in enumerate(["A", "B"]):
        inz = oracle["zone"] == z
        assert zones.loc[name, "covered"] == pytest.approx(covered_cells[inz].sum(), rel=1e-9)
    assert zones.loc["region", "covered_share"] == pytest.approx(covered.sum() / 7000, rel=1e-9)

    # outputs: all there, MODELLED carried, nothing half-written left behind
    for name in ("catchments.csv", "catchments_zones.csv", "catchments_capacity.csv", "catchments.gpkg",
                 "catchments.png", "catchments_nearest.tif", "catchments_minutes.tif",
                 "catchments_capacity_uncovered.tif"):
        assert (out / name).is_file(), name
    assert not [p for p in out.iterdir() if ".tmp" in p.name]
    assert any(n.startswith("MODELLED") for n in _notes(out / "catchments.csv"))
    import geopandas as gpd
    polys = gpd.read_file(out / "catchments.gpkg", layer="catchments")
    assert list(polys["facility_id"]) == ["h1", "h2"] and polys.is_valid.all()
    np.testing.assert_allclose(polys.area, [(nearest == 0).sum() * 1e4, (nearest == 1).sum() * 1e4], rtol=1e-9)
    notes = gpd.read_file(out / "catchments.gpkg", layer="notes")
    assert notes["note"].str.startswith("MODELLED").any()
    from osgeo import gdal
    ds = gdal.Open(str(out / "catchments_nearest.tif"))
    assert ds.GetGeoTransform() == (X0, CELL, 0.0, Y1, 0.0, -CELL)
    np.testing.assert_array_equal(ds.GetRasterBand(1).ReadAsArray(), nearest)
    assert "MODELLED" in ds.GetMetadataItem("CARESHED_MODELLED")


@pytest.mark.parametrize("method,steps", [("2sfca", None), ("e2sfca", "0.5:1,1:0.5,1.5:0.25")])
def test_access_cli_matches_2sfca_formulas(case, oracle, tmp_path, method, steps):
    out = tmp_path / "out"
    args = ["access", *_common(case), "--supply", "beds", "--method", method, "--max-minutes", "1.5",
            "--out", str(out)]
    if steps:
        args += ["--steps", steps]
    assert main(args) == 0
    t, pop, beds = oracle["times"], oracle["pop"], oracle["beds"]

    def weight(sec):
        if steps is None:
            return np.where(sec <= MAX_S, 1.0, 0.0)
        return np.select([sec <= 30, sec <= 60, sec <= 90], [1.0, 0.5, 0.25], 0.0)

    w = np.stack([weight(tj) for tj in t])
    ratio = beds / np.array([(pop * wj).sum() for wj in w])      # R_j = S_j / sum_i P_i W_ij
    score = (ratio[:, None, None] * w).sum(axis=0)               # A_i = sum_j R_j W_ij
    access = (t <= MAX_S).any(axis=0)
    score = np.where(access, score, np.nan)
    table = _read_csv(out / "access.csv")
    for z, name in enumerate(["A", "B"]):
        m = (oracle["zone"] == z) & access
        expect = (pop[m] * score[m]).sum() / pop[m].sum() * 1000
        assert table.loc[name, "beds_per_1000"] == pytest.approx(expect, rel=1e-6)
        assert table.loc[name, "population_no_access"] == pytest.approx(
            pop[(oracle["zone"] == z) & ~access].sum(), abs=1e-6)
    # conservation: every bed shared once -> the region's weighted score is beds / people with access
    assert table.loc["region", "beds_per_1000"] == pytest.approx(beds.sum() / pop[access].sum() * 1000, rel=1e-9)
    fac = _read_csv(out / "access_facilities.csv")
    np.testing.assert_allclose(fac["supply_ratio"], ratio, rtol=1e-6)
    from osgeo import gdal
    ds = gdal.Open(str(out / "access.tif"))  # keep the dataset alive while its band is read
    cog = ds.GetRasterBand(1).ReadAsArray()
    np.testing.assert_allclose(cog, score * 1000, rtol=1e-5, equal_nan=True)
    for name in ("access.csv", "access_facilities.csv", "access.gpkg", "access.tif", "access.png"):
        assert (out / name).is_file(), name
    assert not [p for p in out.iterdir() if ".tmp" in p.name]
    assert any("conservation" in n for n in _notes(out / "access.csv"))


@pytest.mark.parametrize("extra,message", [
    (["--supply", "beds", "--max-minutes", "30", "--steps", "10:1,x"], "steps: 'x' is not MINUTES:WEIGHT"),
    (["--supply", "nosuch", "--max-minutes", "30"], "nosuch"),
    (["--supply", "beds", "--max-minutes", "20", "--steps", "10:1,30:0.5"], "beyond max_minutes"),
])
def test_access_cli_errors(case, capsys, tmp_path, extra, message):
    assert main(["access", *_common(case), *extra, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("careshed: error:") and message in err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_catchments_cli_errors(case, capsys, tmp_path):
    common = _common(case)
    no_travel = [a for a in common if a not in ("--background-speed", "28.8")]
    assert main(["catchments", *no_travel]) == 2
    assert "careshed: error: give one travel model" in capsys.readouterr().err
    assert main(["catchments", *common, "--capacity", "beds"]) == 2
    assert "--capacity needs --max-minutes" in capsys.readouterr().err
    far = tmp_path / "far.csv"
    pd.DataFrame({"hid": ["h9"], "x": [600000.0], "y": [1000500.0], "beds": [5]}).to_csv(far, index=False)
    args = [str(far) if a.endswith("hospitals.csv") else a for a in common]
    assert main(["catchments", *args]) == 2
    err = capsys.readouterr().err
    assert "careshed: error:" in err and "'h9' (outside grid)" in err


def test_skip_unplaced_keeps_a_row_with_its_status(case, oracle, tmp_path, capsys):
    two = tmp_path / "two.csv"
    pd.DataFrame({"hid": ["h1", "h9"], "x": [HOSPITALS[0][1], 600000.0], "y": [HOSPITALS[0][2], 1000500.0],
                  "beds": [10, 5]}).to_csv(two, index=False)
    args = [str(two) if a.endswith("hospitals.csv") else a for a in _common(case)]
    assert main(["catchments", *args, "--resource", "beds", "--skip-unplaced", "--out", str(tmp_path / "o")]) == 0
    assert "careshed: warning:" in capsys.readouterr().err  # printed, not a traceback
    table = _read_csv(tmp_path / "o" / "catchments.csv")
    assert list(table["status"]) == ["on grid", "outside grid"]
    # h1 alone: every cell is its catchment (no time limit), so its population is everybody
    assert table.loc["h1", "population"] == pytest.approx(7000, rel=1e-12)
    assert table.loc["h9", "population"] == 0 and np.isnan(table.loc["h9", "beds_per_1000"])
    assert any("left out" in n for n in _notes(tmp_path / "o" / "catchments.csv"))


def test_help_texts_have_examples(capsys):
    for cmd in ("catchments", "access"):
        with pytest.raises(SystemExit) as e:
            main([cmd, "--help"])
        assert e.value.code == 0
        text = capsys.readouterr().out
        assert "examples:" in text and f"careshed {cmd} " in text and "--max-minutes" in text


def test_access_table_form_still_reachable(tmp_path):
    """careshed.access's cost-table form is `careshed access-table`."""
    pd.DataFrame({"id": ["v1", "v2"], "pop": [100, 300]}).to_csv(tmp_path / "d.csv", index=False)
    pd.DataFrame({"hid": ["h1"], "beds": [8]}).to_csv(tmp_path / "s.csv", index=False)
    pd.DataFrame({"v": ["v1", "v2"], "h": ["h1", "h1"], "min": [5, 40]}).to_csv(tmp_path / "c.csv", index=False)
    args = [str(tmp_path / "d.csv"), str(tmp_path / "s.csv"), str(tmp_path / "c.csv"), "--demand-id", "id",
            "--population", "pop", "--supply-id", "hid", "--capacity", "beds", "--origin", "v", "--dest", "h",
            "--cost", "min", "--max-cost", "30", "--per", "1", "--out"]
    for cmd in ("access-table",):
        assert main([cmd, *args, str(tmp_path / cmd)]) == 0
        dem = pd.read_csv(tmp_path / cmd / "access_demand.csv", comment="#")
        assert dem["score"][0] == pytest.approx(8 / 100) and np.isnan(dem["score"][1])


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    import contextlib
    import io

    from careshed.demo import run_demo

    out = tmp_path_factory.mktemp("demo")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        paths = run_demo(out)
    return out, paths, buf.getvalue()


def test_demo_comparison_table(demo_run):
    import geopandas as gpd

    out, paths, printed = demo_run
    for key in ("access_csv", "access_gpkg", "access_png"):
        assert paths[key].is_file()
    table = _read_csv(out / "quzhou_access.csv")
    counties = gpd.read_file(QUZHOU / "counties.geojson")
    by_code = counties.set_index(counties["adcode"].astype(int).astype(str))
    zones = table.drop(index="Quzhou")
    zones.index = zones.index.astype(str)
    assert list(zones.index) == list(by_code.index)
    # county column = the density baseline: modelled beds / census population x 1000, computed here
    np.testing.assert_allclose(zones["population"], by_code["pop_census2020"], rtol=1e-9)
    np.testing.assert_allclose(zones["beds_per_1000_county"],
                               by_code["beds_2020_modelled"] / by_code["pop_census2020"] * 1000, rtol=1e-9)
    region = table.loc["Quzhou"]
    assert region["population"] == pytest.approx(QUZHOU_CENSUS_TOTAL, rel=1e-9)  # a sum of spread cells
    beds = float(counties["beds_2020_modelled"].sum())
    assert region["beds_modelled"] == beds
    # catchments partition the people within the hour; everyone else has no hospital within the hour
    assert zones["catchment_population"].sum() == pytest.approx(region["catchment_population"], rel=1e-12)
    assert region["catchment_population"] + region["population_no_hospital"] == pytest.approx(QUZHOU_CENSUS_TOTAL,
                                                                                               rel=1e-9)
    np.testing.assert_allclose(zones["beds_per_1000_catchment"],
                               zones["beds_modelled"] / zones["catchment_population"] * 1000, rtol=1e-9)
    # conservation of E2SFCA: the city's population-weighted score is beds / people in reach — the same number
    # as the whole city's catchment rate (two different algorithms, one identity)
    expected = beds / (QUZHOU_CENSUS_TOTAL - region["population_no_hospital"]) * 1000
    assert region["beds_per_1000_e2sfca"] == pytest.approx(expected, rel=1e-9)
    assert region["beds_per_1000_catchment"] == pytest.approx(expected, rel=1e-9)
    # the point of the comparison: the three readings differ by county
    assert zones["beds_per_1000_e2sfca"].std() > 0.3 and zones["beds_per_1000_catchment"].std() > 0.1
    assert any(n.startswith("MODELLED hospitals") for n in _notes(out / "quzhou_access.csv"))
    assert "county vs catchment vs E2SFCA" in printed and "MODELLED" in printed
    import fiona
    layers = set(fiona.listlayers(out / "quzhou_access.gpkg"))
    assert {"counties_beds_per_1000_compared", "hospital_catchments", "hospitals_modelled", "notes"} <= layers
    assert (out / "quzhou_access.png").read_bytes()[:4] == b"\x89PNG"
