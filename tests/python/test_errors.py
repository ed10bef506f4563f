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
    # a solver process that died with nothing to stand in for it: neither bad input nor IO
    assert careshed.SolverError is careshed.errors.SolverError
    assert issubclass(careshed.SolverError, careshed.CareshedError) and issubclass(careshed.SolverError, RuntimeError)
    assert not issubclass(careshed.SolverError, (ValueError, OSError, MemoryError))


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


def test_deprecated_alias_and_renamed_keyword():
    from careshed.errors import deprecated_alias, renamed_keyword

    def new_name(a, *, b=0):
        return a + b
    old = deprecated_alias(new_name, "old_name")
    assert old.__name__ == "old_name" and "new_name" in old.__doc__
    with pytest.warns(DeprecationWarning, match="old_name is deprecated; use new_name") as caught:
        assert old(1, b=2) == 3
    assert caught[0].filename == __file__

    def f(*, new=None, old=None):
        return renamed_keyword(new, old, "new", "old", "f")
    assert f(new=1) == 1 and f() is None
    with pytest.warns(DeprecationWarning, match="f: old= is deprecated; use new=") as caught:
        assert f(old=2) == 2
    assert caught[0].filename == __file__
    with pytest.raises(TypeError, match="give new= only"):
        f(new=1, old=2)
