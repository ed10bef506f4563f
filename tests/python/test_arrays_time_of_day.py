"""careshed.arrays.time_of_day: road speed factors by hour, from a dict or a CSV, checked."""
from __future__ import annotations

import pytest

import careshed
from careshed.arrays.time_of_day import describe_factors, hour_factors


def test_dict_and_csv_give_the_same_factors_hours_sorted(tmp_path):
    spec = {17: {"primary": 0.6, "*": 0.9}, 8: {"primary": 0.5}, 3: {}}
    csv = tmp_path / "hours.csv"
    csv.write_text("# rush hours\nhour,class,factor\n17,primary,0.6\n17,*,0.9\n8,primary,0.5\n", encoding="utf-8")
    got = hour_factors(spec)
    assert list(got) == [3, 8, 17]
    assert got[17] == {"primary": 0.6, "*": 0.9}
    from_csv = hour_factors(csv)
    assert from_csv == {8: {"primary": 0.5}, 17: {"primary": 0.6, "*": 0.9}}
    assert describe_factors(got[17]) == "primary x0.6, * x0.9" and describe_factors({}) == "no change"


@pytest.mark.parametrize("spec,match", [
    ({24: {}}, "whole hour between 0 and 23"),
    ({8.5: {}}, "whole hour"),
    ({8: {"primary": 0}}, "finite number > 0"),
    ({8: {"primary": "fast"}}, "not a number"),
    ({8: 0.5}, "must be a dict"),
    ({}, "at least one hour"),
    (0.5, "give"),
])
def test_bad_factors_are_refused_naming_hour_and_class(spec, match):
    with pytest.raises(careshed.InputError, match=match):
        hour_factors(spec)


def test_bad_csv_rows_are_named(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("hour,class,factor\n8,primary,0.5\n8,primary,0.7\n", encoding="utf-8")
    with pytest.raises(careshed.InputError, match="row 3: class 'primary' at hour 8 is given twice"):
        hour_factors(p)
    p.write_text("h,c,f\n", encoding="utf-8")
    with pytest.raises(careshed.InputError, match="header hour,class,factor"):
        hour_factors(p)
    p.write_text("hour,class,factor\n8,primary\n", encoding="utf-8")
    with pytest.raises(careshed.InputError, match="row 2: expected 3 values"):
        hour_factors(p)
