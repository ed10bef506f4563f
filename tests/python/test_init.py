"""careshed/__init__: the curated public API, its groups, and the former names that keep working."""
from __future__ import annotations

import warnings

import careshed


def test_every_public_name_exists_and_is_unique():
    assert len(careshed.__all__) == len(set(careshed.__all__))
    missing = [n for n in careshed.__all__ if not hasattr(careshed, n)]
    assert not missing


def test_planner_api_and_subpackages():
    assert {"Study", "Reach", "Catchments", "AccessMap", "resource_density", "read_vector", "OutputSet"} \
        <= set(careshed.__all__)
    assert {"arrays", "io", "analyses"} <= set(careshed.__all__)
    # the array tier is a subpackage, not a flat list of 57 names
    assert "travel_time_grid" not in careshed.__all__ and "travel_time_grid" in careshed.arrays.__all__
    for name in careshed.arrays.__all__:
        assert getattr(careshed.arrays, name) is not None


def test_former_top_level_names_still_resolve_to_the_array_tier_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert careshed.raster_travel_time is careshed.arrays.raster_travel_time
        assert careshed.fca is careshed.arrays.fca
        assert careshed.UnplacedStationsWarning is careshed.UnplacedFacilitiesWarning
        assert careshed.write_table is careshed.io.write_table
