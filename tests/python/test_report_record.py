"""careshed.report.record: checksums (a published test vector), the record round trip, and a changed input
refused by name."""
from __future__ import annotations

import json

import pytest

from careshed.errors import DataIOError, InputError
from careshed.report.record import RECORD_FORMAT, check_inputs, read_record, run_record, sha256_of, write_record


def test_sha256_of_the_fips_180_test_vector(tmp_path):
    p = tmp_path / "abc.txt"
    p.write_bytes(b"abc")   # FIPS 180-2 appendix B.1
    assert sha256_of(p) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_record_round_trip_and_changed_input(tmp_path):
    a = tmp_path / "zones.geojson"
    a.write_text("{}", encoding="utf-8")
    rec = run_record({"zones": "zones.geojson"}, {"cell_size_m": 100.0, "名": "衢州"}, command=["report", "--x"],
                     cwd=tmp_path)
    assert rec["format"] == RECORD_FORMAT and rec["command"] == ["report", "--x"]
    assert rec["inputs"] == [{"name": "zones", "path": "zones.geojson", "bytes": 2,
                              "sha256": "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}]
    assert rec["versions"]["careshed"]
    path = write_record(rec, tmp_path / "r.record.json")
    back = read_record(path)
    assert back == json.loads(json.dumps(rec))
    check_inputs(back)          # unchanged: passes
    a.write_text("{ }", encoding="utf-8")
    with pytest.raises(InputError, match=r"input 'zones' .*zones.geojson\) has changed"):
        check_inputs(back)
    a.unlink()
    with pytest.raises(DataIOError, match="input 'zones' .* is missing"):
        check_inputs(back)


def test_bad_records_are_refused(tmp_path):
    with pytest.raises(DataIOError, match="no such run record"):
        read_record(tmp_path / "none.json")
    p = tmp_path / "x.json"
    p.write_text("not json", encoding="utf-8")
    with pytest.raises(InputError, match="not JSON"):
        read_record(p)
    p.write_text('{"format": "other"}', encoding="utf-8")
    with pytest.raises(InputError, match="careshed-report-record/1"):
        read_record(p)
    with pytest.raises(DataIOError, match="input 'z' is not a file"):
        run_record({"z": tmp_path / "missing.csv"}, {})
