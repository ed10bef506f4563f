"""``careshed demo`` (careshed/cli/demo.py): the Quzhou example's outputs and options."""
from __future__ import annotations

import pandas as pd

import careshed
from careshed import cli


def test_demo_writes_three_outputs(quzhou_demo, quzhou_dir):
    r = quzhou_demo          # `careshed demo --out DIR` as a subprocess, run once for the session (conftest.py)
    assert r.returncode == 0, r.stderr
    out = r.out
    for name in ("quzhou_density.csv", "quzhou_density.gpkg", "quzhou_density.png"):
        assert str(out / name) in r.stdout
    names = sorted(p.name for p in out.iterdir())
    assert [n for n in names if n.startswith("quzhou_density")] == ["quzhou_density.csv", "quzhou_density.gpkg",
                                                                    "quzhou_density.notes.txt", "quzhou_density.png"]
    # then the (modelled) ambulance reach: table, stations, curve, GeoPackage, map, COGs (tests/python/test_reach.py)
    assert {"quzhou_reach.csv", "quzhou_reach.gpkg", "quzhou_reach.png", "quzhou_reach_minutes.tif",
            "quzhou_reach_nearest.tif"} <= set(names)
    assert (out / "quzhou_reach.notes.txt").read_text(encoding="utf-8").startswith("MODELLED")
    assert "MODELLED" in r.stdout
    text = (out / "quzhou_density.notes.txt").read_text(encoding="utf-8")
    assert text.startswith("MODELLED beds: 2020 baseline beds per county are MODELLED")
    assert (out / "quzhou_density.csv").read_text(encoding="utf-8").startswith("adcode,")
    t = pd.read_csv(out / "quzhou_density.csv", comment="#", index_col=0)
    assert t.loc["Quzhou", "population"] == 2_276_184
    assert t.loc["Quzhou", "beds_baseline"] == 14544
    # added beds per county from the projects table, computed independently (min beds, #34 excluded)
    p = pd.read_csv(quzhou_dir / "plan_2021_2025_projects.csv")
    p = p[p["beds_include_existing"] == "no"]
    expected = p.groupby("county_adcode")["beds_new_min"].sum()
    for code in expected.index:
        assert t.loc[str(int(code)), "beds_added"] == expected[code]
    assert t.loc["Quzhou", "beds_added"] == p["beds_new_min"].sum()     # incl. the sites not decided
    assert (out / "quzhou_density.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    counties = careshed.read_vector(out / "quzhou_density.gpkg", layer="counties_beds_per_1000")
    assert len(counties) == 6 and counties["pop_census2020"].sum() == 2_276_184
    assert counties["baseline_note"].str.contains("MODELLED").all()
    pts = careshed.read_vector(out / "quzhou_density.gpkg", layer="plan_projects_modelled_positions")
    assert len(pts) == 39
    assert (pts["position"].str.startswith("MODELLED") == pts.geometry.notna()).all()
    assert pts.geometry.isna().sum() == 3


def test_demo_max_beds_and_relocation_flag(tmp_path, capsys):
    rc = cli.main(["demo", "--out", str(tmp_path), "--beds", "max", "--count-relocations", "--no-reach"])
    assert rc == 0
    captured = capsys.readouterr()
    assert "careshed: warning:" in captured.err and "#34" in captured.err and "upper bound" in captured.err
    t = pd.read_csv(tmp_path / "quzhou_density.csv", comment="#", index_col=0)
    from careshed.demo import quzhou_density
    base = quzhou_density()   # defaults: min beds, relocation excluded
    # #2 (Kecheng) max 500 instead of 300: +200; #34 (Jiangshan) 1200 counted
    assert t.loc["330802", "beds_added"] == base.loc[330802, "beds_added"] + 200
    assert t.loc["330881", "beds_added"] == base.loc[330881, "beds_added"] + 1200
    assert t.loc["330824", "beds_added"] == base.loc[330824, "beds_added"]


def test_demo_excel_adds_the_byte_order_mark_and_nothing_else(tmp_path, capsys):
    assert cli.main(["demo", "--out", str(tmp_path / "plain"), "--no-reach"]) == 0
    assert cli.main(["demo", "--out", str(tmp_path / "excel"), "--no-reach", "--excel"]) == 0
    capsys.readouterr()
    plain = (tmp_path / "plain" / "quzhou_density.csv").read_bytes()
    excel = (tmp_path / "excel" / "quzhou_density.csv").read_bytes()
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert excel == b"\xef\xbb\xbf" + plain
    assert "330802" in excel.decode("utf-8-sig")
