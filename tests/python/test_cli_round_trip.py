"""``careshed round-trip`` (careshed/cli/round_trip.py) on the strip study of strip_case.py: its outputs equal the
Python API's result (tests/python/test_analyses_round_trip.py checks that one against independent legs)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import careshed
from strip_case import CRS, cell_centre, points, strip_grid, strip_zones


def test_cli_round_trip_writes_what_the_api_computes(tmp_path, capsys):
    from careshed.cli import main

    grid = strip_grid()
    fric = careshed.write_geotiff(tmp_path / "friction.tif", np.full(grid.shape, 0.6), grid)
    strip_zones().to_file(tmp_path / "zones.gpkg", driver="GPKG")
    (tmp_path / "stations.csv").write_text("code,x,y,turnout\ns1,{},{},30\n".format(*cell_centre(1, 0)),
                                           encoding="utf-8")
    (tmp_path / "hospitals.csv").write_text("code,x,y,level\nh1,{},{},1\nh2,{},{},2\n".format(
        *cell_centre(1, 5), *cell_centre(1, 9)), encoding="utf-8")
    out = tmp_path / "out"
    argv = ["round-trip", str(tmp_path / "zones.gpkg"), str(tmp_path / "stations.csv"), str(tmp_path / "hospitals.csv"),
            "--x", "x", "--y", "y", "--crs", CRS, "--station-id", "code", "--hospital-id", "code", "--zone-id",
            "zone", "--population", "pop", "--friction", str(fric), "--dispatch-minutes", "2", "--turnout-field",
            "turnout", "--level-field", "level", "--min-level", "2", "--total-minutes", "11.5", "--cell-size", "100",
            "--out", str(out), "--no-map"]
    assert main(argv) == 0
    assert "region" in capsys.readouterr().out
    table = pd.read_csv(out / "round_trip.csv", comment="#", index_col=0)
    study = careshed.Study(strip_zones(), zone_id="zone", population="pop", friction=fric, cell_size_m=100,
                           thresholds_min=60)
    r = study.round_trip(tmp_path / "stations.csv", tmp_path / "hospitals.csv", x="x", y="y", crs=CRS,
                         facility_id="code", hospital_id="code", dispatch_minutes=2, turnout_seconds="turnout",
                         level="level", min_level=2, threshold_minutes=11.5)
    for col in ("population", "covered", "covered_share", "mean_total_minutes", "mean_response_minutes"):
        np.testing.assert_allclose(table[col].to_numpy(), r.table[col].to_numpy(), rtol=1e-9)
    # row 1: 2 + 0.5 (turnout) + 9 minutes: inside 11.5 (inclusive)
    assert table.loc["region", "covered_share"] == pytest.approx(1 / 3)
    total, _ = careshed.read_raster(out / "round_trip_total_minutes.tif")
    np.testing.assert_allclose(total[1], 11.5, atol=1e-5)
    capsys.readouterr()
    without_level_field = [a for a in argv if a not in ("--level-field", "level")]
    assert main(without_level_field) == 2
    assert "--level-field and --min-level go together" in capsys.readouterr().err
