"""careshed.cli.common: repeated NAME=VALUE options and the shared option groups."""
from __future__ import annotations

import argparse

import pytest

import careshed
from careshed.cli.common import add_travel_arguments, key_values, profile, resource_fields


def test_key_values_parse_and_name_the_bad_item():
    assert key_values(["beds=7.8", "nurses=3"], "--target", numeric=True) == {"beds": 7.8, "nurses": 3.0}
    assert key_values(None, "--target", numeric=True) == {}
    with pytest.raises(careshed.InputError, match=r"--target 'beds': expected NAME=VALUE"):
        key_values(["beds"], "--target", numeric=True)
    with pytest.raises(careshed.InputError, match="'x' is not a number"):
        key_values(["beds=x"], "--target", numeric=True)


def test_resource_fields_and_road_profiles():
    assert resource_fields(["beds", "doctors=DOCS"]) == {"beds": "beds", "doctors": "DOCS"}
    assert profile("car") == "car" and profile("trunk=60,primary=50") == {"trunk": 60.0, "primary": 50.0}


def test_shared_travel_group_declares_one_option_set():
    p = argparse.ArgumentParser()
    add_travel_arguments(p)
    args = p.parse_args(["--roads", "a.pbf", "--roads", "b.gpkg", "--background-speed", "5"])
    assert args.roads == ["a.pbf", "b.gpkg"] and args.background_speed == 5.0 and args.road_profile == "car"


def test_modelled_and_per_take_one_syntax_everywhere():
    from careshed.cli.common import modelled_option, per_of, per_option

    assert modelled_option(None) is None
    assert modelled_option(["roads, urban cores"]) == {"input": "roads, urban cores"}
    assert modelled_option(["beds=city-wide 6.39/1000", "roads", "stations"]) == {
        "beds": "city-wide 6.39/1000", "input": "roads; stations"}
    assert modelled_option(["a = b is a sentence"]) == {"input": "a = b is a sentence"}   # not a NAME=
    assert per_option(None) is None and per_option(["1000"]) == 1000.0
    assert per_option(["ambulances=30000", "beds=1000"]) == {"ambulances": 30000.0, "beds": 1000.0}
    with pytest.raises(careshed.InputError, match="not both"):
        per_option(["1000", "beds=1000"])
    with pytest.raises(careshed.InputError, match="expected N or NAME=N"):
        per_option(["many"])
    assert per_of(None, "beds") == 1000.0 and per_of(["10000"], "doctors") == 10000.0
    assert per_of(["beds=100"], "beds") == 100.0
    with pytest.raises(careshed.InputError, match="the supply is 'beds'"):
        per_of(["doctors=100"], "beds")


def test_land_mask_and_barriers_reach_every_travel_model():
    """--land (and --barriers) go into the travel model whichever model is given, so a friction raster or a
    speed raster gets the sea cut out too (before, --barriers was dropped with --friction)."""
    from careshed.cli.common import add_grid_arguments, study_keywords

    p = argparse.ArgumentParser()
    add_travel_arguments(p)
    add_grid_arguments(p)
    for opt in ("--zone-id", "--population", "--population-raster", "--counting", "--region-label",
                "--zones-layer"):
        p.add_argument(opt)
    p.add_argument("--keep", action="append")
    p.add_argument("--modelled", action="append")
    p.add_argument("--note", action="append")
    base = ["--zone-id", "id", "--population-raster", "pop.tif"]
    walk = study_keywords(p.parse_args(base + ["--background-speed", "5", "--land", "land.geojson"]))
    assert walk["travel"] == {"background_speed_kmh": 5.0, "barriers": None, "land": "land.geojson"}
    fric = study_keywords(p.parse_args(base + ["--friction", "f.tif", "--land", "land.geojson", "--barriers", "b.gpkg"]))
    assert "friction" not in fric
    assert fric["travel"] == {"friction_raster": "f.tif", "friction_unit": "s/m", "barriers": ["b.gpkg"],
                              "land": "land.geojson"}
    speed = study_keywords(p.parse_args(base + ["--speed-raster", "s.tif", "--land", "land.tif"]))
    assert speed["travel"] == {"speed_raster": "s.tif", "barriers": None, "land": "land.tif"}
    plain = study_keywords(p.parse_args(base + ["--friction", "f.tif"]))
    assert plain["friction"] == "f.tif" and "travel" not in plain


def test_cli_speaker_names_the_subcommands_own_flags():
    from careshed.cli.main import build_parser
    from careshed.errors import keyword, speaking

    subs = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    reach, catchments = subs.choices["reach"], subs.choices["catchments"]
    with speaking(reach.get_default("_speaker")):
        assert keyword("crs", "EPSG:4326") == "--crs EPSG:4326"
        assert keyword("snap_max_m") == "--snap-max-m"
        assert keyword("unplaced", "skip") == "--skip-unplaced"
        assert keyword("layer") == "--facilities-layer" and keyword("facility_id") == "--facility-id"
        assert keyword("cell_size_m", 100) == "--cell-size 100" and keyword("metric_crs") == "--metric-crs"
        assert keyword("thresholds_min") == "--minutes" and keyword("folder") == "--out"
        assert keyword("prefix", "my run") == "--prefix 'my run'"       # quoted as a shell would need
        assert keyword("no_such_keyword", 1) == "no_such_keyword=1"    # no flag: the Python spelling
    with speaking(catchments.get_default("_speaker")):
        assert keyword("layer") == "--facilities-layer" and keyword("facility_id") == "--facility-id"
    assert keyword("crs", "EPSG:4326") == "crs='EPSG:4326'" and keyword("unplaced", "skip") == "unplaced='skip'"


def test_check_outputs_refuses_before_any_work(tmp_path):
    from careshed.cli.common import check_outputs

    (tmp_path / "f").write_text("x")
    with pytest.raises(careshed.DataIOError, match="is a file"):
        check_outputs(argparse.Namespace(out=str(tmp_path / "f"), prefix="reach"))
    with pytest.raises(careshed.UsageError, match="plain file name"):
        check_outputs(argparse.Namespace(out=str(tmp_path / "o"), prefix="../x"))
    check_outputs(argparse.Namespace(out=str(tmp_path / "new dir 结果"), prefix="r"))
    assert not (tmp_path / "new dir 结果").exists()


def test_qgis_project_flag_writes_the_project_with_the_outputs(case, tmp_path):
    """--qgis-project (every analysis subcommand, from add_output_arguments): PREFIX.qgz among the outputs; without
    it the GeoPackage still carries its styles and the travel-time raster its .qml, but no project."""
    from careshed.cli import main
    from careshed.io.qgis_styles import read_layer_styles
    from grid_cli_case import case_args

    for flag, out in (([], tmp_path / "plain"), (["--qgis-project"], tmp_path / "qgis")):
        rc = main(["catchments", *case_args(case), "--max-minutes", "1.5", "--no-map", "--out", str(out), *flag])
        assert rc == 0
        names = {p.name for p in out.iterdir()}
        assert {"catchments.gpkg", "catchments_minutes.tif", "catchments_minutes.qml"} <= names
        assert ("catchments.qgz" in names) == bool(flag)
        assert set(read_layer_styles(out / "catchments.gpkg")) == {"catchments", "facilities", "zones"}


def test_ride_options_give_the_modes_and_the_maximum_walking_leg():
    from careshed.cli.common import ride_keywords

    p = argparse.ArgumentParser()
    add_travel_arguments(p)
    args = p.parse_args(["--ride", "road=roads.pbf", "--board-minutes", "road=10", "--max-walk-minutes", "30"])
    got = ride_keywords(args)
    assert got["max_walk_minutes"] == 30.0 and got["modes"]["road"]["board_minutes"] == 10.0
    assert "max_walk_minutes" not in ride_keywords(p.parse_args(["--ride", "road=roads.pbf"]))
    assert ride_keywords(p.parse_args([])) == {}
    with pytest.raises(careshed.UsageError, match="--max-walk-minutes need --ride"):
        ride_keywords(p.parse_args(["--max-walk-minutes", "30"]))
