"""``careshed reach`` (careshed/cli/reach.py) on the strip study of strip_case.py: the outputs it writes, its help."""
from __future__ import annotations

import os

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


def test_tables_are_byte_identical_across_thread_counts(quzhou_runs):
    """coverage_by_zone sums exactly (128-bit fixed point), so 1 or 2 threads give the same table bytes."""
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


def test_cli_reach_walks_on_terrain_with_dem(tmp_path, capsys):
    """--dem on the strip: a plane rising 20 m per 100 m column eastwards, the station at the low west end (row 1,
    col 0), walking 6 km/h (0.6 s/m). Along row 1 the minutes are the closed form c * exp(3.5 * (|S + 0.05| - 0.05))
    with S = -0.2 toward the station (patients walk down) and +0.2 away from it (docs/travel-modes.md)."""
    from careshed.cli import main

    grid = strip_grid()
    dem = careshed.write_geotiff(tmp_path / "dem.tif", np.tile(20.0 * np.arange(10), (3, 1)), grid)
    strip_zones().to_file(tmp_path / "zones.gpkg", driver="GPKG")
    x, y = cell_centre(1, 0)
    (tmp_path / "stations.csv").write_text(f"code,x,y\ns1,{x},{y}\n", encoding="utf-8")
    base = ["reach", str(tmp_path / "zones.gpkg"), str(tmp_path / "stations.csv"), "--x", "x", "--y", "y", "--crs",
            CRS, "--station-id", "code", "--zone-id", "zone", "--population", "pop", "--background-speed", "6",
            "--minutes", "30", "--cell-size", "100", "--no-map", "--quiet", "--dem", str(dem)]
    for direction, slope in (("toward", -0.2), ("away", 0.2)):
        out = tmp_path / direction
        assert main(base + ["--walk-direction", direction, "--out", str(out), "--prefix", "t"]) == 0
        minutes, _ = careshed.read_raster(out / "t_minutes.tif")
        want = np.arange(10) * np.exp(3.5 * (abs(slope + 0.05) - 0.05))
        np.testing.assert_allclose(minutes[1], want, rtol=1e-5)
    capsys.readouterr()
    assert main(base[:-2] + ["--walk-direction", "away"]) == 2  # a terrain option without --dem
    assert "--walk-direction needs --dem" in capsys.readouterr().err
    assert main(base + ["--terrain-model", "rwalk", "--rwalk", "e=1"]) == 1  # unknown r.walk coefficient
    assert "unknown rwalk coefficient(s) e" in capsys.readouterr().err


def test_cli_reach_at_hours_of_the_day(tmp_path, capsys):
    """--hour-factors + --hour: one hour gives the reach at that hour (equal to a run with the scaled road speed);
    several give the covered share per hour and the worst hour per zone."""
    from shapely.geometry import LineString

    from careshed.cli import main

    y = cell_centre(1, 0)[1]
    gdf_roads = strip_zones().iloc[:1].copy()
    gdf_roads = gdf_roads.set_geometry([LineString([(cell_centre(1, 0)[0], y), (cell_centre(1, 9)[0], y)])])
    gdf_roads["highway"] = "primary"
    gdf_roads[["highway", "geometry"]].to_file(tmp_path / "roads.gpkg", driver="GPKG")
    (tmp_path / "hours.csv").write_text("hour,class,factor\n8,primary,0.25\n3,*,1\n", encoding="utf-8")
    strip_zones().to_file(tmp_path / "zones.gpkg", driver="GPKG")
    x, yy = cell_centre(1, 0)
    (tmp_path / "stations.csv").write_text(f"code,x,y\ns1,{x},{yy}\n", encoding="utf-8")
    base = ["reach", str(tmp_path / "zones.gpkg"), str(tmp_path / "stations.csv"), "--x", "x", "--y", "y", "--crs",
            CRS, "--station-id", "code", "--zone-id", "zone", "--population", "pop", "--background-speed", "3",
            "--roads", str(tmp_path / "roads.gpkg"), "--minutes", "3", "--cell-size", "100", "--no-map", "--quiet"]
    assert main(base + ["--road-profile", "primary=60", "--hour-factors", str(tmp_path / "hours.csv"), "--hour", "8",
                        "--out", str(tmp_path / "h8"), "--prefix", "t"]) == 0
    assert main(base + ["--road-profile", "primary=15", "--out", str(tmp_path / "ref"), "--prefix", "t"]) == 0
    got, _ = careshed.read_raster(tmp_path / "h8" / "t_minutes.tif")
    want, _ = careshed.read_raster(tmp_path / "ref" / "t_minutes.tif")
    np.testing.assert_array_equal(got, want)
    assert main(base + ["--road-profile", "primary=60", "--hour-factors", str(tmp_path / "hours.csv"), "--hour", "3",
                        "--hour", "8", "--out", str(tmp_path / "both"), "--prefix", "t"]) == 0
    table = pd.read_csv(tmp_path / "both" / "t.csv", comment="#", index_col=0)
    assert list(table.columns[:2]) == ["covered_share_h3", "covered_share_h8"]
    assert table.loc["B", "worst_hour"] == 8 and table.loc["B", "covered_share_h8"] < table.loc["B", "covered_share_h3"]
    capsys.readouterr()
    assert main(base + ["--hour", "8"]) == 2
    assert "--hour needs --hour-factors" in capsys.readouterr().err


def test_cli_reach_network_options_are_refused_where_they_do_not_apply(tmp_path, capsys):
    # The runs on a road graph: tests/python/test_docs_network.py (the Comoros extract, hours, both readers).
    from careshed.cli import main

    strip_zones().to_file(tmp_path / "zones.gpkg", driver="GPKG")
    x, y = cell_centre(1, 0)
    (tmp_path / "stations.csv").write_text(f"code,x,y\ns1,{x},{y}\n", encoding="utf-8")
    base = ["reach", str(tmp_path / "zones.gpkg"), str(tmp_path / "stations.csv"), "--x", "x", "--y", "y", "--crs",
            CRS, "--zone-id", "zone", "--population", "pop", "--background-speed", "5", "--minutes", "3"]
    assert main(base + ["--osm-reader", "gdal"]) == 2
    assert "--osm-reader goes with --network FILE" in capsys.readouterr().err
    assert main(base + ["--network", "roads.osm.pbf", "--ride", "road=roads.osm.pbf"]) == 2
    assert "cannot be combined with --ride or --dem" in capsys.readouterr().err


def test_cli_reach_with_tiles_gives_the_same_files(tmp_path, capsys):
    """--tiles N --workers 1: the search runs tile by tile on a local Dask cluster; the outputs are the same bytes."""
    pytest.importorskip("distributed")
    from careshed.cli import main

    grid = strip_grid()
    rng = np.random.default_rng(5)
    fric = careshed.write_geotiff(tmp_path / "friction.tif", rng.uniform(0.3, 1.0, grid.shape), grid)
    strip_zones().to_file(tmp_path / "zones.gpkg", driver="GPKG")
    x, y = cell_centre(1, 0)
    (tmp_path / "stations.csv").write_text(f"code,x,y\ns1,{x},{y}\n", encoding="utf-8")
    common = ["reach", str(tmp_path / "zones.gpkg"), str(tmp_path / "stations.csv"), "--x", "x", "--y", "y",
              "--crs", CRS, "--station-id", "code", "--zone-id", "zone", "--population", "pop", "--friction",
              str(fric), "--minutes", "5", "--cell-size", "100", "--prefix", "t"]
    assert main(common + ["--out", str(tmp_path / "plain")]) == 0
    env_before = dict(os.environ)
    capsys.readouterr()
    assert main(common + ["--out", str(tmp_path / "tiled"), "--tiles", "4", "--workers", "1",
                          "--scratch", str(tmp_path / "scratch")]) == 0
    assert (tmp_path / "scratch").is_dir() and not list((tmp_path / "scratch").iterdir())   # used, then cleaned
    # distributed's Nanny sets OMP_NUM_THREADS=1 etc. in the calling process; careshed puts them back.
    assert dict(os.environ) == env_before
    for name in ("t.csv", "t_minutes.tif", "t_nearest.tif"):
        assert (tmp_path / "plain" / name).read_bytes() == (tmp_path / "tiled" / name).read_bytes(), name
    err = capsys.readouterr().err
    assert "tiles (4) on a local Dask cluster of 1 worker process(es); Dask dashboard: http://" in err
    assert main(common + ["--out", str(tmp_path / "bad"), "--tiles", "many"]) == 2
    assert "--tiles" in capsys.readouterr().err
    assert main(common + ["--out", str(tmp_path / "bad"), "--workers", "2"]) == 2
    assert "--tiles" in capsys.readouterr().err
    assert main(common + ["--out", str(tmp_path / "bad"), "--scratch", str(tmp_path)]) == 2
    assert "--tiles" in capsys.readouterr().err
