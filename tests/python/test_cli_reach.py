"""``careshed reach`` (careshed/cli/reach.py) on the strip study of strip_case.py: the outputs it writes, its help."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import careshed
from strip_case import CRS, cell_centre, strip_grid, strip_zones, urban_polygon


def test_cli_reach_writes_the_outputs(tmp_path, capsys):
    from careshed.cli import main

    grid = strip_grid()
    fric = careshed.write_geotiff(tmp_path / "friction.tif", np.full(grid.shape, 0.6), grid)
    strip_zones().to_file(tmp_path / "zones.gpkg", driver="GPKG")
    urban_polygon().to_file(tmp_path / "urban.gpkg", driver="GPKG")
    x, y = cell_centre(1, 0)
    (tmp_path / "stations.csv").write_text(f"code,x,y,amb\ns1,{x},{y},1\n", encoding="utf-8")
    out = tmp_path / "out"
    code = main(["reach", str(tmp_path / "zones.gpkg"), str(tmp_path / "stations.csv"), "--x", "x", "--y", "y",
                 "--crs", CRS, "--station-id", "code", "--zone-id", "zone", "--population", "pop",
                 "--friction", str(fric), "--urban-polygons", str(tmp_path / "urban.gpkg"),
                 "--urban-minutes", "4", "--rural-minutes", "6", "--dispatch-minutes", "2",
                 "--vehicles-field", "amb", "--cell-size", "100", "--out", str(out), "--prefix", "t",
                 "--modelled", "test data"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "region" in printed and "MODELLED" in printed
    back = pd.read_csv(out / "t.csv", comment="#", index_col=0)
    assert back.loc["A", "covered"] == pytest.approx(1100)
    assert back.loc["A", "vehicles_needed"] == 1
    for name in ("t.gpkg", "t.png", "t_minutes.tif", "t_nearest.tif", "t_stations.csv", "t_curve.csv"):
        assert (out / name).is_file(), name

    assert main(["reach", str(tmp_path / "zones.gpkg"), str(tmp_path / "stations.csv"), "--zone-id", "zone",
                 "--population", "pop", "--friction", str(fric), "--x", "x", "--y", "y", "--crs", CRS,
                 "--minutes", "0"]) == 2
    assert "threshold" in capsys.readouterr().err


def test_cli_reach_help_explains_the_options(capsys):
    from careshed.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["reach", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for word in ("--dispatch-minutes", "--urban-minutes", "--rural-minutes", "--friction", "--speed-raster",
                 "--landcover", "--roads", "--cell-size", "--out", "response time = ", "one-hour"):
        assert word in text, word


QUZHOU_REACH = ["--x", "lon", "--y", "lat", "--crs", "EPSG:4326", "--facility-id", "county_adcode", "--zone-id",
                "adcode", "--population", "pop_census2020", "--road-profile", "trunk=60", "--background-speed", "25",
                "--dispatch-minutes", "3", "--cell-size", "500", "--no-map", "--quiet"]


@pytest.fixture(scope="module")
def quzhou_runs(tmp_path_factory):
    """The Quzhou reach on the command line three times: twice with 2 threads (a, b), once with 1 (c);
    {run: {file name: bytes}} of the tables and rasters."""
    import os
    import subprocess
    import sys

    from conftest import QUZHOU

    tmp = tmp_path_factory.mktemp("determinism")
    args = ["reach", QUZHOU / "counties.geojson", QUZHOU / "county_seats.csv", *QUZHOU_REACH,
            "--urban-polygons", QUZHOU / "urban_cores_modelled.geojson", "--roads", QUZHOU / "roads_modelled.geojson"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p), MPLBACKEND="Agg")
    runs = {}
    for name, threads in (("a", "2"), ("b", "2"), ("c", "1")):
        r = subprocess.run([sys.executable, "-m", "careshed", *map(str, args), "--out", str(tmp / name)],
                           env=dict(env, OMP_NUM_THREADS=threads), capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        runs[name] = {p.name: p.read_bytes() for p in (tmp / name).iterdir() if p.suffix in (".csv", ".tif")}
    assert {"reach.csv", "reach_curve.csv", "reach_minutes.tif", "reach_nearest.tif"} <= set(runs["a"])
    return runs


def _differing(runs, other, suffix):
    assert runs[other].keys() == runs["a"].keys()
    return [n for n in runs["a"] if n.endswith(suffix) and runs[other][n] != runs["a"][n]]


def test_same_inputs_same_threads_give_byte_identical_tables_and_rasters(quzhou_runs):
    """Issue 8: running again gives the same bytes in every table and raster."""
    assert not _differing(quzhou_runs, "b", ".csv") and not _differing(quzhou_runs, "b", ".tif")


def test_rasters_are_byte_identical_across_thread_counts(quzhou_runs):
    """The searches use exact integer ticks and ties go to the lowest index, so 1 or 2 threads give the same
    rasters."""
    assert not _differing(quzhou_runs, "c", ".tif")


@pytest.mark.xfail(strict=True, reason="coverage_by_zone (core/src/coverage.cpp) adds one accumulator per thread, so "
                   "zone sums differ in the last digits (~1e-15 relative) between thread counts; a fixed block "
                   "order independent of the thread count would fix it (issue 8, reported by py8)")
def test_tables_are_byte_identical_across_thread_counts(quzhou_runs):
    assert not _differing(quzhou_runs, "c", ".csv")


def test_quzhou_tables_open_in_excel_and_qgis_and_the_summary_fits_100_columns(tmp_path, capsys):
    """--excel: the CSVs start with the UTF-8 byte-order mark and have no comment lines (notes in the sidecar
    and in the GeoPackage's metadata); people are whole numbers; the printed summary (Chinese county names
    take two columns each) fits in 100 terminal columns."""
    from osgeo import gdal

    from careshed.cli import main
    from careshed.cli.common import display_width
    from conftest import QUZHOU

    code = main(["reach", str(QUZHOU / "counties.geojson"), str(QUZHOU / "county_seats.csv"), *QUZHOU_REACH,
                 "--urban-polygons", str(QUZHOU / "urban_cores_modelled.geojson"), "--roads",
                 str(QUZHOU / "roads_modelled.geojson"), "--keep", "name", "--modelled", "population=census spread",
                 "--excel", "--out", str(tmp_path)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "柯城区" in printed and "note: MODELLED population: census spread" in printed
    widest = max(printed.splitlines(), key=display_width)
    assert display_width(widest) <= 100, widest
    for name in ("reach.csv", "reach_stations.csv", "reach_curve.csv"):
        raw = (tmp_path / name).read_bytes()
        assert raw[:3] == b"\xef\xbb\xbf" and not raw[3:].startswith(b"#") and b"\n#" not in raw, name
        notes = (tmp_path / name.replace(".csv", ".notes.txt")).read_text(encoding="utf-8-sig").splitlines()
        assert "MODELLED population: census spread" in notes
    table = pd.read_csv(tmp_path / "reach.csv", encoding="utf-8-sig", index_col=0)
    assert table.loc["330802", "name"] == "柯城区"
    for col in ("population", "covered", "uncovered", "unreachable", "population_urban", "covered_rural"):
        assert table[col].dtype == np.int64, col
    assert table.loc["region", "population"] == 2_276_184
    assert table["covered_share"].dtype == float and (table["covered_share"] < 1).all()
    stations = pd.read_csv(tmp_path / "reach_stations.csv", encoding="utf-8-sig", index_col=0)
    assert stations["population_nearest"].dtype == np.int64
    meta = gdal.OpenEx(str(tmp_path / "reach.gpkg")).GetMetadata()
    assert "MODELLED population: census spread" in meta.values()
    assert meta["CARESHED_MODELLED"].startswith("yes")
