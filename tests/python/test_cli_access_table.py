"""``careshed access-table`` (careshed/cli/access_table.py): accessibility from the caller's own cost table."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from careshed.cli import main


def test_access_table_form_still_reachable(tmp_path):
    """The cost-table form of accessibility is `careshed access-table`."""
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


def test_cli_access_tables(tmp_path, capsys):
    from careshed.cli import main

    # villages v1..v3, hospitals h1..h2; the 2SFCA hand case of test_2sfca_hand_case with ids and beds
    pd.DataFrame({"id": ["v1", "v2", "v3"], "pop": [100, 200, 300]}).to_csv(tmp_path / "dem.csv", index=False)
    pd.DataFrame({"hid": ["h1", "h2"], "beds": [10, 20]}).to_csv(tmp_path / "sup.csv", index=False)
    pd.DataFrame({"v": ["v1", "v2", "v2", "v3"], "h": ["h1", "h1", "h2", "h2"], "min": [5, 10, 20, 31]}).to_csv(
        tmp_path / "cost.csv", index=False)
    args = [str(tmp_path / "dem.csv"), str(tmp_path / "sup.csv"), str(tmp_path / "cost.csv"), "--demand-id", "id",
            "--population", "pop", "--supply-id", "hid", "--capacity", "beds", "--origin", "v", "--dest", "h",
            "--cost", "min", "--method", "2sfca", "--max-cost", "30", "--out", str(tmp_path / "out")]
    assert main(["access-table"] + args) == 0
    dem = pd.read_csv(tmp_path / "out" / "access_demand.csv", comment="#")
    np.testing.assert_allclose(dem["score"][:2], [1000 / 30, 1000 / 30 + 100], rtol=1e-12)
    assert np.isnan(dem["score"][2]) and list(dem["has_access"]) == [True, True, False]
    sup = pd.read_csv(tmp_path / "out" / "access_supply.csv", comment="#")
    np.testing.assert_allclose(sup["ratio"], [1000 / 30, 100], rtol=1e-12)
    assert "conservation" in (tmp_path / "out" / "access_demand.notes.txt").read_text()
    # a cost row naming an unknown village is an error naming the row, exit status 1 (a problem in the data)
    pd.DataFrame({"v": ["v1", "v9"], "h": ["h1", "h1"], "min": [5, 6]}).to_csv(tmp_path / "cost.csv", index=False)
    assert main(["access-table"] + args) == 1
    assert "row 1: v='v9'" in capsys.readouterr().err


def test_steps_syntax_is_careshed_access_and_the_former_step_still_works(tmp_path, capsys):
    pd.DataFrame({"id": ["v1", "v2"], "pop": [100, 300]}).to_csv(tmp_path / "d.csv", index=False)
    pd.DataFrame({"hid": ["h1"], "beds": [8]}).to_csv(tmp_path / "s.csv", index=False)
    pd.DataFrame({"v": ["v1", "v2"], "h": ["h1", "h1"], "min": [5, 15]}).to_csv(tmp_path / "c.csv", index=False)
    args = [str(tmp_path / "d.csv"), str(tmp_path / "s.csv"), str(tmp_path / "c.csv"), "--demand-id", "id",
            "--population", "pop", "--supply-id", "hid", "--capacity", "beds", "--origin", "v", "--dest", "h",
            "--cost", "min", "--max-cost", "20", "--per", "beds=1", "--method", "e2sfca"]
    # steps: <= 10 weight 1, <= 20 weight 0.5 -> R = 8 / (100 + 150); v1 scores R, v2 0.5 R
    r = 8 / 250
    for steps in (["--steps", "10:1,20:0.5"], ["--step", "10=1", "--step", "20=0.5"]):
        out = tmp_path / steps[0]
        assert main(["access-table", *args, *steps, "--out", str(out)]) == 0
        dem = pd.read_csv(out / "access_demand.csv", comment="#")
        np.testing.assert_allclose(dem["score"], [r, 0.5 * r], rtol=1e-12)
    assert "--step BOUND=WEIGHT is deprecated" in capsys.readouterr().err
