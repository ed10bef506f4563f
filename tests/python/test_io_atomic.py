"""careshed.io.atomic: one file or a whole set of outputs appears complete, or not at all."""
from __future__ import annotations

import pytest

from careshed.errors import DataIOError, UsageError
from careshed.io.atomic import OutputSet, atomic_path, check_file_name, check_output_folder, write_atomically


def test_atomic_path_renames_on_success_and_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target
        tmp.write_text("new")
        assert target.read_text() == "old"          # not replaced before the block ends
    assert target.read_text() == "new"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("writer failed")
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_write_atomically_returns_the_final_path(tmp_path):
    out = write_atomically(tmp_path / "b.bin", lambda p: p.write_bytes(b"\x01\x02"))
    assert out == tmp_path / "b.bin" and out.read_bytes() == b"\x01\x02"


def test_output_set_all_files_appear_together(tmp_path):
    folder = tmp_path / "out"
    with OutputSet(folder) as out:
        out.path("r.csv").write_text("x\n1\n")
        out.path("r.tif").write_bytes(b"II*\x00")
        assert not (folder / "r.csv").exists()      # staged, not yet in place
    assert out.written == [folder / "r.csv", folder / "r.tif"]
    assert sorted(p.name for p in folder.iterdir()) == ["r.csv", "r.tif"]   # the stage is gone


def test_output_set_error_leaves_no_output_and_keeps_old_files(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "r.csv").write_text("previous run")
    with pytest.raises(ValueError):
        with OutputSet(folder) as out:
            out.path("r.csv").write_text("new")
            out.path("r.png").write_bytes(b"\x89PNG")
            raise ValueError("the map failed")
    assert sorted(p.name for p in folder.iterdir()) == ["r.csv"]
    assert (folder / "r.csv").read_text() == "previous run"


def test_output_set_names_are_plain_file_names(tmp_path):
    out = OutputSet(tmp_path)
    for bad in ("../x.csv", "sub/x.csv", ""):
        with pytest.raises(ValueError, match="plain file name"):
            out.path(bad)
    out.abort()
    assert list(tmp_path.iterdir()) == []


def test_output_set_stage_takes_writers_that_want_a_folder(tmp_path):
    folder = tmp_path / "out"
    with OutputSet(folder) as out:
        out.path("a.csv").write_text("a")
        (out.stage / "b.tif").write_bytes(b"b")       # a writer given the stage folder
        (out.stage / "c.gpkg").write_bytes(b"c")
    assert out.written == [folder / "a.csv", folder / "b.tif", folder / "c.gpkg"]
    assert sorted(p.name for p in folder.iterdir()) == ["a.csv", "b.tif", "c.gpkg"]


def test_output_set_ctrl_c_mid_set_leaves_nothing_new(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "a.csv").write_text("previous run")
    with pytest.raises(KeyboardInterrupt):
        with OutputSet(folder) as out:
            for i, name in enumerate(("a.csv", "b.csv", "c.tif", "d.gpkg")):
                if i == 3:                             # the 4th file fails (here: Ctrl-C while writing it)
                    raise KeyboardInterrupt
                out.path(name).write_text("new")
    assert sorted(p.name for p in folder.iterdir()) == ["a.csv"]
    assert (folder / "a.csv").read_text() == "previous run"


def test_output_folder_that_is_a_file_or_below_a_file_is_refused_before_any_work(tmp_path):
    (tmp_path / "f").write_text("x")
    for bad in (tmp_path / "f", tmp_path / "f" / "sub"):
        with pytest.raises(DataIOError, match="is a file") as info:
            check_output_folder(bad)
        assert str(tmp_path / "f") in str(info.value)
        with pytest.raises(DataIOError):
            OutputSet(bad)
    assert check_output_folder(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()             # the check creates nothing


def test_file_names_with_folders_are_usage_errors(tmp_path):
    for bad in ("../x", "a/b", "", ".."):
        with pytest.raises(UsageError, match="plain file name"):
            check_file_name(bad)
    assert check_file_name("结果 reach") == "结果 reach"
