"""careshed.io.fields: ids, numbers and names read from the caller's tables, errors naming file, field and row."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import careshed
from careshed.io.fields import as_list, column, id_key, name_column, numeric_column, unique_ids


def frame(**cols):
    f = pd.DataFrame(cols)
    f.attrs["source"] = "zones.csv"
    return f


@pytest.mark.parametrize("value,key", [(330802, "330802"), (330802.0, "330802"), ("330802", "330802"),
                                       (" 330802 ", "330802"), ("0330", "330"), ("A1", "A1"), (1.5, "1.5"),
                                       (None, None), (float("nan"), None), ("  ", None), (True, "True")])
def test_id_key_makes_equal_ids_equal(value, key):
    assert id_key(value) == key


def test_unique_ids_refuses_empty_and_duplicates_naming_rows():
    assert unique_ids("z.csv", "code", [1, "2", 3.0], "zone") == {"1": 0, "2": 1, "3": 2}
    with pytest.raises(careshed.InputError, match=r"z.csv: field 'code' \(zone id\), row 2 is empty"):
        unique_ids("z.csv", "code", [1, None], "zone")
    with pytest.raises(careshed.InputError, match=r"duplicate zone id '1' in field 'code' \(rows 1 and 3\)"):
        unique_ids("z.csv", "code", [1, 2, "1"], "zone")


def test_numeric_column_names_the_bad_row_and_counts_nulls():
    f = frame(pop=["10", None, "2.5"])
    with pytest.raises(careshed.InputError, match=r"zones.csv: field 'pop' \(population\), row 2 .* is empty"):
        numeric_column(f, "pop", "population", ids=["a", "b", "c"])
    values, nulls = numeric_column(f, "pop", "population", allow_null=True)
    np.testing.assert_array_equal(values, [10.0, 0.0, 2.5])
    assert nulls == 1
    for bad in ("ten", "-1", "inf"):
        with pytest.raises(careshed.InputError, match="row 1"):
            numeric_column(frame(pop=[bad]), "pop", "population")
    with pytest.raises(careshed.InputError, match="true/false"):
        numeric_column(frame(pop=[True]), "pop", "population")


def test_column_lists_the_available_fields_and_names_are_found():
    f = frame(code=[1], name=["Alpha"])
    with pytest.raises(careshed.InputError, match=r"no field 'pop' \(population\); available fields: code, name"):
        column(f, "pop", "population")
    assert name_column(f, None).tolist() == ["Alpha"]
    assert name_column(frame(code=[1]), None) is None
    assert as_list(None) == [] and as_list("a") == ["a"] and as_list(("a", "b")) == ["a", "b"]
