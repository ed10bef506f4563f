"""``careshed referral`` (careshed/cli/referral.py) on the hand case of grid_cli_case.py (20 x 10 cells of 100 m at
28.8 km/h, zones A and B): the CLI's CSV outputs against the plain Dijkstra oracle written there, exit statuses and
errors in the command line's words (docs/errors.md)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import careshed
from careshed.cli import main

from grid_cli_case import CELL, FRICTION, X0, Y1, case, read_csv  # noqa: F401  (case is a fixture)
from oracles import dijkstra

# (id, x, y, level, refers_to): clinics in both zones, two hospitals, a regional centre
FACILITIES = [("c1", 500150.0, 1000850.0, "clinic", ""), ("c2", 501350.0, 1000150.0, "clinic", ""),
              ("c3", 501850.0, 1000950.0, "clinic", "h1"), ("h1", 500650.0, 1000450.0, "hospital", ""),
              ("h2", 501550.0, 1000650.0, "hospital", ""), ("r", 501050.0, 1000050.0, "regional", "")]
LEVELS = "clinic,hospital,regional"


@pytest.fixture(scope="module")
def facilities_csv(case):  # noqa: F811
    path = case / "levels.csv"
    pd.DataFrame(FACILITIES, columns=["fid", "x", "y", "grade", "refers_to"]).to_csv(path, index=False)
    return path


def args(case, fac, *extra):  # noqa: F811
    return [str(case / "zones.gpkg"), str(fac), "--x", "x", "--y", "y", "--crs", "EPSG:32631", "--facility-id", "fid",
            "--zone-id", "zone", "--population", "pop", "--background-speed", "28.8", "--cell-size", "100",
            "--level-field", "grade", "--levels", LEVELS, *extra]


def test_referral_cli_matches_dijkstra(case, facilities_csv, tmp_path):  # noqa: F811
    out = tmp_path / "out"
    rc = main(["referral", *args(case, facilities_csv, "--standard", "clinic=2", "--referral-standard", "clinic=3",
                                 "--assigned-field", "refers_to", "--out", str(out))])
    assert rc == 0
    cells = [(int((Y1 - y) // CELL), int((x - X0) // CELL)) for _, x, y, _, _ in FACILITIES]
    times = dijkstra(np.full((10, 20), FRICTION), cells, [0.0] * len(cells), CELL)   # (6, rows, cols)
    table = read_csv(out / "referral.csv")
    level = {f[0]: f[3] for f in FACILITIES}
    nxt = {"clinic": "hospital", "hospital": "regional"}
    for i, (fid, _, _, lv, refers) in enumerate(FACILITIES):
        r, c = cells[i]
        if refers:
            want = refers
        elif lv in nxt:
            cand = [j for j, f in enumerate(FACILITIES) if f[3] == nxt[lv]]
            want = FACILITIES[min(cand, key=lambda j: (times[j][r, c], j))][0]
        else:
            assert pd.isna(table.loc[fid, "target"])
            continue
        j = [f[0] for f in FACILITIES].index(want)
        assert table.loc[fid, "target"] == want
        assert table.loc[fid, "referral_minutes"] == pytest.approx(times[j][r, c] / 60, rel=1e-5)
        assert table.loc[fid, "referral_gap"] == (level[fid] == "clinic" and times[j][r, c] / 60 > 3)
    # zones: people within 2 minutes of a clinic (20 per cell in A, 50 in B)
    clinic = np.min([times[i] for i, f in enumerate(FACILITIES) if f[3] == "clinic"], axis=0)
    pop = np.zeros((10, 20))
    pop[:, :10], pop[:, 10:] = 20.0, 50.0
    zones = read_csv(out / "referral_zones.csv")
    for name, sl in (("A", np.s_[:, :10]), ("B", np.s_[:, 10:])):
        assert zones.loc[name, "within_clinic"] == pytest.approx(pop[sl][clinic[sl] <= 120.0 * (1 + 1e-7)].sum())
    gaps = read_csv(out / "referral_gaps.csv")
    assert sorted(gaps.index) == sorted(i for i in table.index if table.loc[i, "referral_gap"])
    assert (out / "referral.gpkg").exists() and (out / "referral_two_leg_minutes.tif").exists()


def test_errors_in_command_line_words(case, facilities_csv, tmp_path, capsys):  # noqa: F811
    assert main(["referral", *args(case, facilities_csv, "--standard", "clinic")]) == 2
    assert "--standard 'clinic'" in capsys.readouterr().err
    assert main(["referral", *args(case, facilities_csv, "--standard", "icu=5")]) == 2
    assert "--standard: 'icu' is not one of the levels" in capsys.readouterr().err
    out = tmp_path / "bad"
    bad = ["referral", str(case / "zones.gpkg"), str(facilities_csv), "--x", "x", "--y", "y", "--crs", "EPSG:32631",
           "--facility-id", "fid", "--zone-id", "zone", "--population", "pop", "--background-speed", "28.8",
           "--level-field", "grade", "--levels", "clinic,hospital", "--out", str(out)]
    assert main(bad) == 1
    err = capsys.readouterr().err
    assert "levels.csv" in err and "row 6 has level 'regional'" in err and "--levels" in err and "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())
    assert main(["referral", *args(case, facilities_csv, "--first-contact", "pharmacy")]) == 2
    assert "--first-contact" in capsys.readouterr().err


def test_the_command_of_docs_referral_md_runs(tmp_path, monkeypatch):
    import shlex
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    doc = (root / "docs" / "referral.md").read_text(encoding="utf-8")
    line = next(ln for ln in doc.splitlines() if ln.startswith("careshed referral "))
    argv = shlex.split(line)[1:]
    argv = [str(root / a) if a.startswith("data/") else a for a in argv]
    argv[argv.index("--out") + 1] = str(tmp_path / "referral")
    assert main(argv) == 0
    table = read_csv(tmp_path / "referral" / "referral.csv")
    assert len(table) == 110 and set(table["level"]) == {"township health centre", "county hospital",
                                                           "city tertiary hospital"}
    assert "MODELLED" in (tmp_path / "referral" / "referral.notes.txt").read_text(encoding="utf-8")


def test_villages_option_lists_villages_beyond_the_standard(case, facilities_csv, tmp_path):  # noqa: F811
    vill = tmp_path / "villages.csv"
    xy = [(500050.0, 1000050.0), (500150.0, 1000750.0), (501950.0, 1000050.0)]
    pd.DataFrame({"vid": ["v1", "v2", "v3"], "x": [p[0] for p in xy], "y": [p[1] for p in xy]}).to_csv(vill,
                                                                                                     index=False)
    out = tmp_path / "out"
    assert main(["referral", *args(case, facilities_csv, "--standard", "clinic=1", "--villages", str(vill),
                                   "--village-id", "vid", "--out", str(out))]) == 0
    cells = [(int((Y1 - y) // CELL), int((x - X0) // CELL)) for _, x, y, _, _ in FACILITIES]
    times = dijkstra(np.full((10, 20), FRICTION), cells, [0.0] * len(cells), CELL)
    clinic = np.min([times[i] for i, f in enumerate(FACILITIES) if f[3] == "clinic"], axis=0)
    v = read_csv(out / "referral_villages.csv")
    for vid, (x, y) in zip(["v1", "v2", "v3"], xy):
        r, c = int((Y1 - y) // CELL), int((x - X0) // CELL)
        assert v.loc[vid, "first_contact_minutes"] == pytest.approx(clinic[r, c] / 60, rel=1e-5)
        assert v.loc[vid, "beyond_standard"] == (clinic[r, c] > 60.0)
    assert v["beyond_standard"].tolist() == [True, False, True]     # 105 s, 12.5 s, 80 s from a clinic


def test_the_quzhou_example_of_the_help_text_runs(tmp_path):
    """The first example of `careshed referral --help` (the modelled Quzhou network) runs from the checkout."""
    import shlex
    from pathlib import Path

    from careshed.cli.referral import REFERRAL_EPILOG

    root = Path(__file__).resolve().parents[2]
    text = REFERRAL_EPILOG.split("examples:")[1].split("\n\n")[0]
    command = " ".join(ln.strip().rstrip("\\") for ln in text.splitlines() if ln.strip() and
                       not ln.strip().startswith("#"))
    argv = shlex.split(command)[1:]
    assert shlex.split(command)[:2] == ["careshed", "referral"]
    argv = [str(root / a) if a.startswith("data/") else a for a in argv]
    argv[argv.index("--out") + 1] = str(tmp_path / "referral")
    assert main(argv) == 0
    zones = read_csv(tmp_path / "referral" / "referral_zones.csv")
    assert zones.loc["region", "population"] == pytest.approx(2_276_184)


def test_referral_on_the_road_graph_of_an_osm_extract_with_either_reader(tmp_path):
    # docs/referral.md's Helsinki example on the command line (--network): the clinic refers to hospital A in
    # 2.17 minutes with the extract's turn restrictions (libosmium); GDAL's reader has none, and the nearer
    # hospital B (1.57 minutes) is then the target — the page's explanation of the difference.
    import geopandas as gpd
    from pathlib import Path
    from shapely.geometry import Point, box

    root = Path(__file__).resolve().parents[2]
    pbf = root / "data" / "osm" / "helsinki.osm.pbf"
    lon, lat = careshed.RoadGraph.from_osm(pbf, profile="car").node_xy.T
    gpd.GeoDataFrame({"zone": ["centre"], "people": [50_000]},
                     geometry=[box(lon.min(), lat.min(), lon.max(), lat.max())], crs="EPSG:4326").to_file(
        tmp_path / "area.gpkg", driver="GPKG")
    gpd.GeoDataFrame({"id": ["clinic", "hospital A", "hospital B"], "level": ["clinic", "hospital", "hospital"]},
                     geometry=[Point(24.945, 60.170), Point(24.938, 60.166), Point(24.950, 60.176)],
                     crs="EPSG:4326").to_file(tmp_path / "care.gpkg", driver="GPKG")
    base = ["referral", str(tmp_path / "area.gpkg"), str(tmp_path / "care.gpkg"), "--zone-id", "zone",
            "--population", "people", "--metric-crs", "EPSG:3067", "--cell-size", "100", "--background-speed", "5",
            "--facility-id", "id", "--level-field", "level", "--levels", "clinic,hospital", "--standard", "clinic=10",
            "--network", str(pbf), "--no-map", "--quiet"]
    for reader, target, minutes in (("osmium", "hospital A", 2.17), ("gdal", "hospital B", 1.57)):
        assert main(base + ["--osm-reader", reader, "--out", str(tmp_path / reader)]) == 0
        table = read_csv(tmp_path / reader / "referral.csv")
        assert table.loc["clinic", "target"] == target
        assert round(table.loc["clinic", "referral_minutes"], 2) == minutes
