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
