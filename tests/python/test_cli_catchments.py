"""``careshed catchments`` (careshed/cli/catchments.py) on the hand case of grid_cli_case.py: the CLI's CSV and
GeoTIFF outputs against the Dijkstra and AccessMod band oracles written there.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from careshed.cli import main

from grid_cli_case import CELL, HOSPITALS, MAX_S, X0, Y1, band_coverage, case_args, csv_notes, read_csv


def test_catchments_cli_matches_dijkstra_and_band_oracle(case, oracle, tmp_path):
    out = tmp_path / "out"
    rc = main(["catchments", *case_args(case), "--resource", "beds", "--max-minutes", "1.5", "--capacity", "beds",
               "--patients-per-bed", "40", "--label", "hospitals", "--modelled", "hospital beds", "--out", str(out)])
    assert rc == 0
    t = oracle["times"]
    pop = oracle["pop"]
    best = t.min(axis=0)
    nearest = np.where(best <= MAX_S, t.argmin(axis=0), -1)  # argmin: ties to the lowest index
    table = read_csv(out / "catchments.csv")
    assert list(table.index) == ["h1", "h2"]
    for j, hid in enumerate(["h1", "h2"]):
        m = nearest == j
        p = pop[m].sum()
        assert table.loc[hid, "population"] == pytest.approx(p, rel=1e-9)
        assert table.loc[hid, "cells"] == m.sum()
        assert table.loc[hid, "area_km2"] == pytest.approx(m.sum() * 0.01, rel=1e-9)
        assert table.loc[hid, "beds_per_1000"] == pytest.approx(oracle["beds"][j] / p * 1000, rel=1e-9)
        assert table.loc[hid, "mean_minutes"] == pytest.approx((pop[m] * best[m]).sum() / p / 60, rel=1e-5)
    zones = read_csv(out / "catchments_zones.csv")
    for z, name in enumerate(["A", "B"]):
        inz = oracle["zone"] == z
        assert zones.loc[name, "population_reached"] == pytest.approx(pop[inz & (nearest >= 0)].sum(), rel=1e-9)
        assert zones.loc[name, "population_unreached"] == pytest.approx(pop[inz & (nearest < 0)].sum(), abs=1e-6)
    assert zones.loc["region", "population"] == pytest.approx(7000, rel=1e-12)
    assert 0 < zones.loc["region", "population_unreached"] < 7000  # the 90 s limit leaves corners out

    # capacity-aware coverage: capacity = beds x 40 people; the band loop above is the oracle
    capacity = oracle["beds"] * 40
    covered, covered_cells, order = band_coverage(t, pop, capacity, MAX_S)
    cap = read_csv(out / "catchments_capacity.csv")
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
    assert any(n.startswith("MODELLED") for n in csv_notes(out / "catchments.csv"))
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


def test_catchments_cli_errors(case, capsys, tmp_path):
    args = case_args(case)
    no_travel = [a for a in args if a not in ("--background-speed", "28.8")]
    assert main(["catchments", *no_travel]) == 2
    assert "careshed: error: give one travel model" in capsys.readouterr().err
    assert main(["catchments", *args, "--capacity", "beds"]) == 2
    assert "--capacity needs --max-minutes" in capsys.readouterr().err
    far = tmp_path / "far.csv"
    pd.DataFrame({"hid": ["h9"], "x": [600000.0], "y": [1000500.0], "beds": [5]}).to_csv(far, index=False)
    args = [str(far) if a.endswith("hospitals.csv") else a for a in args]
    assert main(["catchments", *args]) == 1                # a problem in the data: status 1
    err = capsys.readouterr().err
    assert "careshed: error:" in err and "'h9' (outside grid)" in err


def test_skip_unplaced_keeps_a_row_with_its_status(case, oracle, tmp_path, capsys):
    two = tmp_path / "two.csv"
    pd.DataFrame({"hid": ["h1", "h9"], "x": [HOSPITALS[0][1], 600000.0], "y": [HOSPITALS[0][2], 1000500.0],
                  "beds": [10, 5]}).to_csv(two, index=False)
    args = [str(two) if a.endswith("hospitals.csv") else a for a in case_args(case)]
    assert main(["catchments", *args, "--resource", "beds", "--skip-unplaced", "--out", str(tmp_path / "o")]) == 0
    assert "careshed: warning:" in capsys.readouterr().err  # printed, not a traceback
    table = read_csv(tmp_path / "o" / "catchments.csv")
    assert list(table["status"]) == ["on grid", "outside grid"]
    # h1 alone: every cell is its catchment (no time limit), so its population is everybody
    assert table.loc["h1", "population"] == pytest.approx(7000, rel=1e-12)
    assert table.loc["h9", "population"] == 0 and np.isnan(table.loc["h9", "beds_per_1000"])
    assert any("left out" in n for n in csv_notes(tmp_path / "o" / "catchments.csv"))
