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
