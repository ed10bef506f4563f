"""careshed.io.table: result tables as CSV with their notes as leading comment lines."""
from __future__ import annotations

import pandas as pd

from careshed.io.table import write_table


def test_notes_first_then_the_table_and_read_back(tmp_path):
    t = pd.DataFrame({"beds": [3, 4]}, index=pd.Index(["A", "region"], name="zone"))
    t.attrs["notes"] = ["MODELLED beds: a test", "two\nlines"]
    out = write_table(t, tmp_path / "t.csv")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[:3] == ["# MODELLED beds: a test", "# two lines", "zone,beds"]
    back = pd.read_csv(out, comment="#", index_col=0)
    pd.testing.assert_frame_equal(back, t, check_like=True)
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


def test_explicit_notes_replace_the_frames_and_index_can_be_left_out(tmp_path):
    t = pd.DataFrame({"a": [1]})
    t.attrs["notes"] = ["not this one"]
    out = write_table(t, tmp_path / "t.csv", index=False, notes=["this one"])
    assert out.read_text().splitlines() == ["# this one", "a", "1"]
    assert t.attrs["notes"] == ["not this one"]
