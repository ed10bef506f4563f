"""``careshed access`` (careshed/cli/access.py, the grid form) on the hand case of grid_cli_case.py, against the
2SFCA formulas written here."""
from __future__ import annotations

import numpy as np
import pytest

from careshed.cli import main
from grid_cli_case import MAX_S, case_args, csv_notes, read_csv


@pytest.mark.parametrize("method,steps", [("2sfca", None), ("e2sfca", "0.5:1,1:0.5,1.5:0.25")])
def test_access_cli_matches_2sfca_formulas(case, oracle, tmp_path, method, steps):
    out = tmp_path / "out"
    args = ["access", *case_args(case), "--supply", "beds", "--method", method, "--max-minutes", "1.5",
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
    table = read_csv(out / "access.csv")
    for z, name in enumerate(["A", "B"]):
        m = (oracle["zone"] == z) & access
        expect = (pop[m] * score[m]).sum() / pop[m].sum() * 1000
        assert table.loc[name, "beds_per_1000"] == pytest.approx(expect, rel=1e-6)
        assert table.loc[name, "population_no_access"] == pytest.approx(
            pop[(oracle["zone"] == z) & ~access].sum(), abs=1e-6)
    # conservation: every bed shared once -> the region's weighted score is beds / people with access
    assert table.loc["region", "beds_per_1000"] == pytest.approx(beds.sum() / pop[access].sum() * 1000, rel=1e-9)
    fac = read_csv(out / "access_facilities.csv")
    np.testing.assert_allclose(fac["supply_ratio"], ratio, rtol=1e-6)
    from osgeo import gdal
    ds = gdal.Open(str(out / "access_score.tif"))  # keep the dataset alive while its band is read
    cog = ds.GetRasterBand(1).ReadAsArray()
    np.testing.assert_allclose(cog, score * 1000, rtol=1e-5, equal_nan=True)
    for name in ("access.csv", "access_facilities.csv", "access.gpkg", "access_score.tif", "access.png"):
        assert (out / name).is_file(), name
    assert not [p for p in out.iterdir() if ".tmp" in p.name]
    assert any("conservation" in n for n in csv_notes(out / "access.csv"))


@pytest.mark.parametrize("extra,message,status", [
    (["--supply", "beds", "--max-minutes", "30", "--steps", "10:1,x"], "steps: 'x' is not MINUTES:WEIGHT", 2),
    (["--supply", "nosuch", "--max-minutes", "30"], "nosuch", 1),        # the data has no such field: status 1
    (["--supply", "beds", "--max-minutes", "20", "--steps", "10:1,30:0.5"], "beyond max_minutes", 2),
])
def test_access_cli_errors(case, capsys, tmp_path, extra, message, status):
    assert main(["access", *case_args(case), *extra, "--out", str(tmp_path / "o")]) == status
    err = capsys.readouterr().err
    assert err.startswith("careshed: error:") and message in err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
