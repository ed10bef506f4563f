"""The `careshed` command line (through `python -m careshed` and cli.main) and the Quzhou demo."""
from __future__ import annotations

import re
import subprocess
import sys

import pandas as pd
import pytest

import careshed
from careshed import cli

HAND_ARGS = ["--zone-id", "zone", "--population", "pop", "--resource", "beds", "--resource", "physicians",
             "--target", "beds=7.8", "--target", "physicians=4", "--x", "x", "--y", "y",
             "--crs", "EPSG:32631"]


def run_cli(args, env, cwd=None):
    return subprocess.run([sys.executable, "-m", "careshed", *map(str, args)], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_help(cli_env):
    r = run_cli(["--help"], cli_env)
    assert r.returncode == 0
    assert "density" in r.stdout and "demo" in r.stdout
    r = run_cli(["density", "--help"], cli_env)
    assert r.returncode == 0
    for text in ("--zone-id", "--resource", "--add", "examples:", "30,000"):
        assert text in r.stdout
    assert cli.SUBCOMMANDS.keys() >= {"density", "demo"}


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
    assert sorted(p.name for p in out.iterdir()) == ["density.csv", "density.gpkg", "density_unassigned.csv"]


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
    lines = (tmp_path / "o" / "density.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# MODELLED beds: test data"
    t = pd.read_csv(tmp_path / "o" / "density.csv", comment="#", index_col=0)
    assert t["beds_projected"].tolist() == [20, 40, 94, 154]
    assert t["beds_shortfall_baseline"].tolist() == [0, 19, 64, 79]
    assert t["beds_shortfall_projected"].tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize("args, message", [
    (["--zone-id", "nope", "--population", "pop", "--resource", "beds=beds_2020"], r"'nope'"),
    (["--zone-id", "zone", "--population", "pop", "--resource", "beds=beds_2020", "--target", "beds"],
     r"--target 'beds': expected NAME=VALUE"),
    (["--zone-id", "zone", "--population", "pop", "--resource", "beds=beds_2020", "--target", "beds=x"],
     r"'x' is not a number"),
])
def test_density_errors_exit_2_without_traceback(hand_case, tmp_path, capsys, args, message):
    out = tmp_path / "out"
    rc = cli.main(["density", str(hand_case["zones"]), *args, "--out", str(out)])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("careshed: error: ")
    assert re.search(message, err)
    assert not out.exists() or not any(out.iterdir())       # nothing written on failure


def test_missing_file_subprocess(tmp_path, cli_env):
    r = run_cli(["density", tmp_path / "gone.gpkg", "--zone-id", "a", "--population", "b",
                 "--resource", "beds", "--out", tmp_path / "o"], cli_env)
    assert r.returncode == 2
    assert r.stderr.startswith("careshed: error: ") and "gone.gpkg" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()


def test_no_subcommand_prints_help(capsys):
    assert cli.main([]) == 2
    assert "density" in capsys.readouterr().out


# ---- the Quzhou demo ------------------------------------------------------------------------------

def test_demo_writes_three_outputs(tmp_path, cli_env, quzhou_dir):
    r = run_cli(["demo", "--out", tmp_path / "out"], cli_env)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out"
    for name in ("quzhou_density.csv", "quzhou_density.gpkg", "quzhou_density.png"):
        assert str(out / name) in r.stdout
    names = sorted(p.name for p in out.iterdir())
    assert [n for n in names if n.startswith("quzhou_density")] == ["quzhou_density.csv", "quzhou_density.gpkg",
                                                                    "quzhou_density.png"]
    # then the (modelled) ambulance reach: table, stations, curve, GeoPackage, map, COGs (tests/python/test_reach.py)
    assert {"quzhou_reach.csv", "quzhou_reach.gpkg", "quzhou_reach.png", "quzhou_reach_minutes.tif",
            "quzhou_reach_nearest.tif"} <= set(names)
    assert (out / "quzhou_reach.csv").read_text(encoding="utf-8").startswith("# MODELLED")
    assert "MODELLED" in r.stdout
    text = (out / "quzhou_density.csv").read_text(encoding="utf-8")
    assert text.startswith("# MODELLED beds: 2020 baseline beds per county are MODELLED")
    t = pd.read_csv(out / "quzhou_density.csv", comment="#", index_col=0)
    assert t.loc["Quzhou", "population"] == 2_276_184
    assert t.loc["Quzhou", "beds_baseline"] == 14544
    # added beds per county from the projects table, computed independently (min beds, #34 excluded)
    p = pd.read_csv(quzhou_dir / "plan_2021_2025_projects.csv")
    p = p[p["beds_include_existing"] == "no"]
    expected = p.groupby("county_adcode")["beds_new_min"].sum()
    for code in expected.index:
        assert t.loc[str(int(code)), "beds_added"] == expected[code]
    assert t.loc["Quzhou", "beds_added"] == p["beds_new_min"].sum()     # incl. the sites not decided
    assert (out / "quzhou_density.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    counties = careshed.read_vector(out / "quzhou_density.gpkg", layer="counties_beds_per_1000")
    assert len(counties) == 6 and counties["pop_census2020"].sum() == 2_276_184
    assert counties["baseline_note"].str.contains("MODELLED").all()
    pts = careshed.read_vector(out / "quzhou_density.gpkg", layer="plan_projects_modelled_positions")
    assert len(pts) == 39
    assert (pts["position"].str.startswith("MODELLED") == pts.geometry.notna()).all()
    assert pts.geometry.isna().sum() == 3


def test_demo_max_beds_and_relocation_flag(tmp_path, capsys):
    rc = cli.main(["demo", "--out", str(tmp_path), "--beds", "max", "--count-relocations", "--no-reach"])
    assert rc == 0
    captured = capsys.readouterr()
    assert "careshed: warning:" in captured.err and "#34" in captured.err and "upper bound" in captured.err
    t = pd.read_csv(tmp_path / "quzhou_density.csv", comment="#", index_col=0)
    from careshed.demo import quzhou_density
    base = quzhou_density()   # defaults: min beds, relocation excluded
    # #2 (Kecheng) max 500 instead of 300: +200; #34 (Jiangshan) 1200 counted
    assert t.loc["330802", "beds_added"] == base.loc[330802, "beds_added"] + 200
    assert t.loc["330881", "beds_added"] == base.loc[330881, "beds_added"] + 1200
    assert t.loc["330824", "beds_added"] == base.loc[330824, "beds_added"]


def test_demo_finds_installed_style_data_dir(tmp_path, monkeypatch, quzhou_dir):
    import shutil

    from careshed import demo
    copy = tmp_path / "d" / "quzhou"
    shutil.copytree(quzhou_dir, copy)
    monkeypatch.setenv("CARESHED_DATA_DIR", str(tmp_path / "d"))
    assert demo.find_data_dir("quzhou") == copy
    monkeypatch.setenv("CARESHED_DATA_DIR", str(tmp_path / "nowhere"))
    assert demo.find_data_dir("quzhou") != tmp_path / "nowhere" / "quzhou"
    with pytest.raises(careshed.DataIOError, match="cannot find the atlantis example data"):
        demo.find_data_dir("atlantis")
