"""careshed.io.atomic: one file or a whole set of outputs appears complete, or not at all."""
from __future__ import annotations

import pytest

from careshed.io.atomic import OutputSet, atomic_path, write_atomically


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
