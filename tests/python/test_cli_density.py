"""``careshed density`` (careshed/cli/density.py) on the hand case of conftest.py, in process and as a subprocess."""
from __future__ import annotations

import re

import pandas as pd
import pytest

import careshed
from careshed import cli
from conftest import run_cli


HAND_ARGS = ["--zone-id", "zone", "--population", "pop", "--resource", "beds", "--resource", "physicians",
             "--target", "beds=7.8", "--target", "physicians=4", "--x", "x", "--y", "y",
             "--crs", "EPSG:32631"]


def test_density_subprocess_hand_case(hand_case, cli_env, tmp_path):
    out = tmp_path / "res"
    r = run_cli(["density", hand_case["zones"], hand_case["facilities"], *HAND_ARGS, "--out", out], cli_env)
    assert r.returncode == 0, r.stderr
    assert "careshed: warning:" in r.stderr and "row 7" in r.stderr and "outside every zone" in r.stderr
    table = pd.read_csv(out / "density.csv", comment="#", index_col=0)
    # hand-worked in test_density.py's docstring
    assert table["beds"].tolist() == [20, 20, 30, 70]
    assert table["beds_shortfall"].tolist() == [0, 19, 64, 79]
    assert table["physicians_shortfall"].tolist() == [4, 10, 36, 50]
    un = pd.read_csv(out / "density_unassigned.csv", comment="#")
    assert un["row"].tolist() == [7] and un["beds"].tolist() == [7]
    layer = careshed.read_vector(out / "density.gpkg", layer="density")
    assert layer["beds_per_1000"].tolist() == [10.0, 4.0, 2.5]
    # the map of the first resource against its target (density used to write no map)
    assert sorted(p.name for p in out.iterdir()) == ["density.csv", "density.gpkg", "density.notes.txt", "density.png",
                                                      "density_unassigned.csv", "density_unassigned.notes.txt"]
    assert (out / "density.png").read_bytes()[:4] == b"\x89PNG"


def test_density_main_with_scenario(hand_case, tmp_path, capsys):
    projects = tmp_path / "projects.csv"
    projects.write_text("zone_code,new_beds\n2,20\n3,64\n", encoding="utf-8")
    rc = cli.main(["density", str(hand_case["zones"]), "--zone-id", "zone", "--population", "pop",
                   "--resource", "beds=beds_2020", "--target", "beds=7.8", "--modelled", "beds=test data",
                   "--add", str(projects), "--add-resource", "beds=new_beds", "--add-zone-id", "zone_code",
                   "--out", str(tmp_path / "o")])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "note: MODELLED beds: test data" in printed
    lines = (tmp_path / "o" / "density.notes.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "MODELLED beds: test data"
    t = pd.read_csv(tmp_path / "o" / "density.csv", comment="#", index_col=0)
    assert t["beds_projected"].tolist() == [20, 40, 94, 154]
    assert t["beds_shortfall_baseline"].tolist() == [0, 19, 64, 79]
    assert t["beds_shortfall_projected"].tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize("args, message, status", [
    (["--zone-id", "nope", "--population", "pop", "--resource", "beds=beds_2020"], r"'nope'", 1),   # data
    (["--zone-id", "zone", "--population", "pop", "--resource", "beds=beds_2020", "--target", "beds"],
     r"--target 'beds': expected NAME=VALUE", 2),                                                 # usage
    (["--zone-id", "zone", "--population", "pop", "--resource", "beds=beds_2020", "--target", "beds=x"],
     r"'x' is not a number", 2),
])
def test_density_errors_exit_without_traceback(hand_case, tmp_path, capsys, args, message, status):
    out = tmp_path / "out"
    rc = cli.main(["density", str(hand_case["zones"]), *args, "--out", str(out)])
    assert rc == status
    err = capsys.readouterr().err
    assert err.startswith("careshed: error: ")
    assert re.search(message, err)
    assert not out.exists() or not any(out.iterdir())       # nothing written on failure
