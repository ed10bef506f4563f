"""docs/travel-modes.md's examples run on the shipped Comoros data (SRTM tiles, WorldPop, OSM hospitals, roads,
ferries and land mask): the ```python blocks run and print the tables the page shows; the ```sh blocks'
`careshed reach` run (their ogr2ogr cuts are done with GeoPandas here) and their CSVs hold what the page claims —
the same numbers as the Python runs, so the CLI and the API agree."""
from __future__ import annotations

import re
import shlex

import pandas as pd
import pytest

import careshed
from careshed.cli import main
from conftest import ROOT

DOC = (ROOT / "docs" / "travel-modes.md").read_text(encoding="utf-8")


def blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.S)


@pytest.mark.parametrize("i", [0, 1, 2, 3, 4], ids=["terrain", "hours", "round_trip", "multimodal", "walk_cap"])
def test_python_examples_print_the_tables_shown(i, tmp_path, monkeypatch, capsys):
    (tmp_path / "data").symlink_to(ROOT / "data")
    monkeypatch.chdir(tmp_path)
    code, shown = blocks("python")[i], blocks("text")[i]
    exec(compile(code, "docs/travel-modes.md", "exec"), {})
    printed = capsys.readouterr().out
    assert [ln.split() for ln in printed.strip().splitlines()[2:]] == [ln.split() for ln in shown.strip().splitlines()[2:]]
    assert len(shown.strip().splitlines()) >= 4


def comoros_inputs(tmp_path, monkeypatch, amenities, name):
    """The sh blocks' ogr2ogr cuts: islands.gpkg and the health facilities of `amenities` as `name`."""
    (tmp_path / "data").symlink_to(ROOT / "data")
    monkeypatch.chdir(tmp_path)
    zones = careshed.read_vector(ROOT / "data" / "comoros" / "zones.geojson")
    zones[zones["kind"] == "island"].to_file("islands.gpkg", driver="GPKG")
    health = careshed.read_vector(ROOT / "data" / "comoros" / "health.gpkg")
    health[health["amenity"].isin(amenities)].to_file(name, driver="GPKG")


def test_cli_example_runs_and_says_what_it_produces(tmp_path, monkeypatch):
    comoros_inputs(tmp_path, monkeypatch, ["hospital"], "hospitals.gpkg")
    run_cli_block(blocks("sh")[0])


def test_walk_then_ride_cli_example_agrees_with_the_python_one(tmp_path, monkeypatch):
    comoros_inputs(tmp_path, monkeypatch, ["hospital", "clinic", "doctors"], "care.gpkg")
    text = blocks("sh")[1]
    run_cli_block(text)
    assert "--ride road=" in text and (tmp_path / "out" / "reach_mode.tif").exists()
    modes = pd.read_csv("out/reach_modes.csv", comment="#", index_col=0)
    shown = blocks("text")[3].split()
    region = shown[shown.index("region") + 1: shown.index("region") + 6]
    assert 1 - modes.loc["region", "share_walk_only"] - modes.loc["region", "share_unreachable"] == \
        pytest.approx(float(region[2]), abs=5e-4)
    # WorldPop's fractional people per cell: whole people in the CSV, and its notes say they are rounded
    people = [c for c in modes.columns if c.startswith("people_")]
    assert len(people) == 4 and all(modes[c].dtype.kind == "i" for c in people)
    assert "rounded to whole people" in (tmp_path / "out" / "reach_modes.notes.txt").read_text()


def test_maximum_walking_leg_cli_example_agrees_with_the_python_one(tmp_path, monkeypatch):
    comoros_inputs(tmp_path, monkeypatch, ["hospital", "clinic", "doctors"], "care.gpkg")
    text = blocks("sh")[2]
    assert "--max-walk-minutes 30" in text
    run_cli_block(text)
    shown = blocks("text")[4].split()
    region = shown[shown.index("region") + 1: shown.index("region") + 7]
    table = pd.read_csv("out/reach.csv", index_col=0)
    assert table.loc["region", "covered_share"] == pytest.approx(float(region[2]), abs=5e-4)  # 1h_walk_30
    assert any("at most 30 min" in ln for ln in (tmp_path / "out" / "reach.notes.txt").read_text().splitlines())


def run_cli_block(text):
    """Runs the block's `careshed` command and checks the CSV value its '# →' comment claims."""
    text = text.replace("\\\n", " ")
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("careshed "))
    assert main(shlex.split(line)[1:] + ["--quiet", "--no-map"]) == 0
    claim = re.search(r"# → (\S+): (\S+) (\S+) ([0-9.]+)", text)
    table = pd.read_csv(claim.group(1), comment="#", index_col=0)
    assert table.loc[claim.group(2), claim.group(3)] == pytest.approx(float(claim.group(4)), abs=5e-4)
