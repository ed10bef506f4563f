"""careshed.errors: every careshed error is also the matching builtin, and the core's errors arrive as them."""
from __future__ import annotations

import pytest

import careshed
from careshed import _core


def test_hierarchy():
    assert issubclass(careshed.InputError, (careshed.CareshedError, ValueError))
    assert issubclass(careshed.CRSError, careshed.InputError)
    assert issubclass(careshed.DataIOError, (careshed.CareshedError, OSError))
    assert not issubclass(careshed.DataIOError, ValueError)


def test_core_exceptions_become_careshed_errors(tmp_path):
    with pytest.raises(careshed.DataIOError) as exc:
        _core.read_vector(str(tmp_path / "missing.gpkg"))
    assert isinstance(exc.value, OSError) and "missing.gpkg" in str(exc.value)
    with pytest.raises(ValueError):
        careshed.make_grid((0, 0, 1000, 1000), -5, "EPSG:32631")


def test_keyword_speaks_python_unless_an_interface_installs_its_words():
    from careshed.errors import keyword, speaking

    assert keyword("crs", "EPSG:4326") == "crs='EPSG:4326'" and keyword("snap_max_m") == "snap_max_m"
    flags = {"crs": "--crs"}
    with speaking(lambda name, value: None if name not in flags else f"{flags[name]} {value}"):
        assert keyword("crs", "EPSG:4326") == "--crs EPSG:4326"
        assert keyword("zones_layer") == "zones_layer"            # no flag for it: Python's spelling
    assert keyword("crs", "EPSG:4326") == "crs='EPSG:4326'"       # restored after the block


def test_did_you_mean_suggests_the_closest_names():
    from careshed.errors import did_you_mean

    assert did_you_mean("popp", ["zone", "pop", "name"]) == " — did you mean 'pop'?"
    assert did_you_mean("ZONE_ID", ["zone_id", "name"]) == " — did you mean 'zone_id'?"   # case does not matter
    assert did_you_mean("beds", ["zone", "name"]) == ""
