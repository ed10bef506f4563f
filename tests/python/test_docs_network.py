"""docs/network.md's "Reach on the road graph" examples run on the shipped Comoros data: the ```python block prints
the table the page shows; the ```sh block's `careshed reach --network` runs (its ogr2ogr cuts are done with
GeoPandas here) and its CSV holds the page's number — the night hour of the Python run, so the CLI and the API
agree; `--osm-reader gdal` equals the Python run on the graph GDAL's driver builds."""
from __future__ import annotations

import re
import shlex

import pandas as pd
import pytest

import careshed
from careshed.cli import main
from careshed.placement import UnreachablePeopleWarning
from conftest import ROOT

DOC = (ROOT / "docs" / "network.md").read_text(encoding="utf-8")
SECTION = DOC[DOC.index("## Reach on the road graph"):]


def block(language):
    return re.findall(rf"```{language}\n(.*?)```", SECTION, flags=re.S)[0]


@pytest.fixture
def comoros(tmp_path, monkeypatch):
    """The sh block's ogr2ogr cuts (islands.gpkg, hospitals.gpkg) in a scratch folder that sees data/."""
    (tmp_path / "data").symlink_to(ROOT / "data")
    monkeypatch.chdir(tmp_path)
    zones = careshed.read_vector(ROOT / "data" / "comoros" / "zones.geojson")
    zones[zones["kind"] == "island"].to_file("islands.gpkg", driver="GPKG")
    health = careshed.read_vector(ROOT / "data" / "comoros" / "health.gpkg")
    health[health["amenity"] == "hospital"].to_file("hospitals.gpkg", driver="GPKG")
    return tmp_path


def test_python_example_prints_the_table_shown(comoros, capsys):
    with pytest.warns(UnreachablePeopleWarning):  # a few villages' nearest roads are not joined to a hospital's
        exec(compile(block("python"), "docs/network.md", "exec"), {})
    printed = capsys.readouterr().out
    shown = block("text")
    assert [ln.split() for ln in printed.strip().splitlines()[2:]] == [ln.split() for ln in shown.strip().splitlines()[2:]]
    assert len(shown.strip().splitlines()) == 7


def run_cli(text, *extra):
    text = text.replace("\\\n", " ")
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("careshed "))
    assert main(shlex.split(line)[1:] + ["--quiet", "--no-map", *extra]) == 0  # warns on stderr (1.6 % unreachable)
    return pd.read_csv("out/reach.csv", comment="#", index_col=0)


def test_cli_example_says_what_it_claims_and_equals_the_night_hour(comoros):
    text = block("sh")
    table = run_cli(text)
    claim = re.search(r"# → out/reach.csv: region covered_share ([0-9.]+)", text)
    assert table.loc["region", "covered_share"] == pytest.approx(float(claim.group(1)), abs=5e-4)
    night = block("text").split()
    region = night[night.index("region") + 1]  # covered_share_h3: the night runs at the profile's speeds
    assert table.loc["region", "covered_share"] == pytest.approx(float(region), abs=5e-4)


def test_cli_osm_reader_gdal_is_the_graph_of_gdals_driver(comoros):
    table = run_cli(block("sh"), "--osm-reader", "gdal")
    zones = careshed.read_vector("islands.gpkg")
    study = careshed.Study(zones, zone_id="zone_id", population_raster="data/comoros/population.tif",
                           travel=dict(background_speed_kmh=5.0, land="data/comoros/land.geojson"),
                           margin_m=1000.0, cell_size_m=500.0, thresholds_min=15)
    roads = careshed.RoadGraph.from_osm("data/comoros/comores-latest.osm.pbf", profile="car", reader="gdal")
    with pytest.warns(UnreachablePeopleWarning):
        r = study.reach("hospitals.gpkg", network=roads)
    assert table.loc["region", "covered"] == pytest.approx(r.table.loc["region", "covered"], abs=1)
    assert roads.report["restrictions_read"] == 0  # GDAL's driver: roads only


def test_cli_hours_on_the_road_graph_equal_the_python_table(comoros):
    # --hour-factors with --network: the graph at each hour's factors (the page's rush), the table of the page.
    pathlib_csv = comoros / "rush.csv"
    pathlib_csv.write_text("hour,class,factor\n3,*,1\n8,primary,0.4\n8,secondary,0.5\n8,tertiary,0.6\n8,*,0.8\n",
                           encoding="utf-8")
    table = run_cli(block("sh"), "--hour-factors", str(pathlib_csv), "--hour", "3", "--hour", "8")
    shown = [ln.split() for ln in block("text").strip().splitlines()[2:]]
    for row in shown:
        zone = " ".join(row[:-5])
        assert table.loc[zone, "covered_share_h3"] == pytest.approx(float(row[-5]), abs=5e-4)
        assert table.loc[zone, "covered_share_h8"] == pytest.approx(float(row[-4]), abs=5e-4)
        assert table.loc[zone, "worst_hour"] == int(row[-3])
