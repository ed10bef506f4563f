"""careshed.memory: the caller's memory limit (--max-memory / max_memory=), handed to the core's estimate."""
from __future__ import annotations

import pytest

import careshed
from careshed import memory
from careshed.errors import MemoryLimitError, UsageError
from strip_case import cell_centre, points, strip_study


@pytest.mark.parametrize("text, expected", [
    ("8G", 8 * 2**30), ("500M", 500 * 2**20), ("1.5GB", int(1.5 * 2**30)), ("64GiB", 64 * 2**30),
    ("2k", 2048), ("1048576", 2**20), (4096, 4096), (None, 0),
])
def test_sizes(text, expected):
    assert memory.parse_size(text) == expected


@pytest.mark.parametrize("bad", ["lots", "8X", "-1G", "0", "G"])
def test_bad_sizes_are_usage_errors_naming_the_keyword(bad):
    with pytest.raises(UsageError, match="max_memory="):
        memory.parse_size(bad)


def test_limiting_holds_the_limit_for_the_block():
    assert memory.current() == 0
    with memory.limiting("1G"):
        assert memory.current() == 2**30
        with memory.limiting(None):
            assert memory.current() == 0
    assert memory.current() == 0


def test_a_run_above_the_limit_is_refused_before_it_starts_with_the_estimate():
    study = strip_study()
    st = points(["s1"], [cell_centre(1, 0)])
    with pytest.raises(MemoryLimitError, match="needs an estimated") as info:
        study.reach(st, dispatch_minutes=2, max_memory=64)        # the 30-cell strip needs ~0.5 KB
    assert isinstance(info.value, MemoryError) and "cell size" in str(info.value)
    assert study.reach(st, dispatch_minutes=2, max_memory="1G").table.loc["region", "population"] > 0
    assert "max_memory" in careshed.Study.reach.__doc__
