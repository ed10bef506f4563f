"""careshed.io.table: CSVs that Excel and QGIS open as they are — no comment lines (the notes in a sidecar
NAME.notes.txt), UTF-8 with the byte-order mark for Excel on request, people as whole numbers, ranks as
integers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from careshed.io.table import ROUNDING_NOTE, csv_ready, notes_path, people_columns, write_table


def test_the_csv_has_no_comment_lines_and_the_notes_go_to_the_sidecar(tmp_path):
    t = pd.DataFrame({"beds": [3, 4]}, index=pd.Index(["A", "region"], name="zone"))
    t.attrs["notes"] = ["MODELLED beds: a test", "two\nlines"]
    out = write_table(t, tmp_path / "t.csv")
    assert out.read_text(encoding="utf-8").splitlines() == ["zone,beds", "A,3", "region,4"]
    assert (tmp_path / "t.notes.txt").read_text(encoding="utf-8") == "MODELLED beds: a test\ntwo lines\n"
    back = pd.read_csv(out, index_col=0)                    # no comment= needed
    pd.testing.assert_frame_equal(back, t, check_like=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.notes.txt"]
    assert notes_path(tmp_path / "x.csv") == tmp_path / "x.notes.txt"


def test_explicit_notes_replace_the_frames_and_index_can_be_left_out(tmp_path):
    t = pd.DataFrame({"a": [1]})
    t.attrs["notes"] = ["not this one"]
    out = write_table(t, tmp_path / "t.csv", index=False, notes=["this one"])
    assert out.read_text().splitlines() == ["a", "1"]
    assert (tmp_path / "t.notes.txt").read_text().splitlines() == ["this one"]
    assert t.attrs["notes"] == ["not this one"]
    write_table(pd.DataFrame({"a": [1]}), tmp_path / "bare.csv", notes=[])
    assert not (tmp_path / "bare.notes.txt").exists()       # no notes, no sidecar


def test_excel_gets_the_byte_order_mark(tmp_path):
    t = pd.DataFrame({"name": ["柯城区", "Mitsoudjé"], "beds": [1, 2]})
    plain = write_table(t, tmp_path / "plain.csv", index=False, notes=["n"])
    excel = write_table(t, tmp_path / "excel.csv", index=False, notes=["n"], excel=True)
    assert plain.read_bytes()[:4] == b"name"
    assert excel.read_bytes()[:3] == b"\xef\xbb\xbf" and excel.read_bytes()[3:7] == b"name"
    assert excel.read_bytes()[3:] == plain.read_bytes()
    pd.testing.assert_frame_equal(pd.read_csv(excel, encoding="utf-8-sig"), t)


def test_people_are_whole_numbers_and_ranks_integers(tmp_path):
    t = pd.DataFrame({"population": [528846.9999999182, 1234.5, 0.4], "covered_urban": [10.6, np.nan, 2.0],
                      "covered_share": [0.35076440247702717, 0.5, 1.0], "mean_minutes": [13.92, 1.5, 2.25],
                      "population_no_access": [410.9999, 0.0, 3.5], "catchment_population": [1.4, 2.6, 3.5],
                      "beds_per_1000": [6.389, 1.0, 2.0], "added_rank": [2.0, np.nan, 1.0],
                      "open": [True, False, True]},
                     index=pd.Index(["a", "b", "region"], name="zone"))
    assert people_columns(t) == ["population", "covered_urban", "population_no_access", "catchment_population"]
    out = write_table(t, tmp_path / "t.csv", notes=["a note"])
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ("zone,population,covered_urban,covered_share,mean_minutes,population_no_access,"
                        "catchment_population,beds_per_1000,added_rank,open")
    # round half to even (numpy): 1234.5 -> 1234, 2.6 -> 3, 3.5 -> 4, 0.4 -> 0; NaN stays empty
    assert lines[1] == "a,528847,11,0.35076440247702717,13.92,411,1,6.389,2,True"
    assert lines[2] == "b,1234,,0.5,1.5,0,3,1.0,,False"
    assert lines[3] == "region,0,2,1.0,2.25,4,4,2.0,1,True"
    assert (tmp_path / "t.notes.txt").read_text().splitlines() == ["a note", ROUNDING_NOTE]
    shown, rounded = csv_ready(t)
    assert rounded and shown["population"].dtype == "Int64" and t["population"].dtype == float   # t unchanged
    whole = pd.DataFrame({"population": [3.0, 4.0]})
    write_table(whole, tmp_path / "w.csv", notes=["n"])
    assert (tmp_path / "w.notes.txt").read_text().splitlines() == ["n"]     # nothing rounded, nothing said
    assert csv_ready(pd.DataFrame({"name": ["x"]}))[1] is False


def test_a_failed_write_leaves_neither_file(tmp_path, monkeypatch):
    t = pd.DataFrame({"a": [1]})

    def broken(self, *args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(OSError):
        write_table(t, tmp_path / "t.csv", notes=["n"])
    assert list(tmp_path.iterdir()) == []
