"""Issue 8: every bad input gets a clear error and nothing is lost — one table of hostile inputs, each run through
the command line and through the Python API.

Each row changes one thing of a small, valid ``careshed reach`` run (three zones in UTM 31N, two stations, 100 m
cells) and says what must happen:

* the exit status of the CLI: 1 (a problem in the data or files), 2 (a problem in the command) or 0 (the input is
  odd but valid: paths with spaces and Chinese, outputs that already exist, zones in lon/lat);
* text both messages contain (the file, layer, field or row, and what is wrong), text only the CLI message contains
  (its flags: ``--crs``, ``--skip-unplaced``) and text only the Python message contains (its keywords), which must
  not leak into the other interface;
* the Python exception class;
* and for every failing row: no Python traceback on the CLI, no new file in the output folder, and the earlier good
  output in it (``reach.csv``) untouched.

The CLI rows run in one subprocess (``careshed.cli.main`` called once per row with its own stderr) to keep the suite
fast; tests/python/test_cli_main.py runs single ``python -m careshed`` processes end to end.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import careshed
from careshed.errors import CareshedError, CRSError, DataIOError, InputError, MemoryLimitError, UsageError
from conftest import polygon_feature, square, write_geojson

ZONES = [(1, "A", 2000, (500000, 1000000, 501000, 1001000)),
         (2, "B", 5000, (501000, 1000000, 502000, 1001000)),
         (3, "C", 12000, (500000, 1001000, 502000, 1002000))]
STATIONS = "fid,x,y\ns1,500500,1000500\ns2,501500,1001500\n"
SENTINEL = "an earlier good run\n"
OUTPUTS = {"reach.csv", "reach_stations.csv", "reach_curve.csv", "reach.gpkg", "reach_minutes.tif",
           "reach_nearest.tif", "reach_population.tif"}

BASE = dict(zones="zones.geojson", points="st.csv", zone_id="zone", population="pop", population_raster=None,
            x="x", y="y", crs="EPSG:32631", facility_id=None, zones_layer=None, metric_crs=None, friction=None,
            roads=None, background_speed=5.0, minutes=30.0, cell_size=100.0, snap_max_m=None, out="out",
            prefix=None, max_memory=None)


@dataclass
class Row:
    id: str
    change: dict
    status: int
    both: list = field(default_factory=list)     # regexes in the CLI and the Python message
    cli: list = field(default_factory=list)      # only in the CLI message (and absent from the Python one)
    py: list = field(default_factory=list)       # only in the Python message (and absent from the CLI one)
    exc: type | tuple = InputError
    xfail: str = ""


ROWS = [
    # -- files and layers
    Row("zones missing", {"zones": "gone.geojson"}, 1, ["gone.geojson", "no such file"], exc=DataIOError),
    Row("stations missing", {"points": "gone.csv"}, 1, ["gone.csv", "no such file"], exc=DataIOError),
    Row("zones not a vector file", {"zones": "text.tif"}, 1, ["text.tif"], exc=CareshedError),
    Row("zones layer empty", {"zones": "empty.geojson"}, 1, ["empty.geojson", "empty"]),
    Row("several layers, none named", {"zones": "multi.gpkg"}, 1, ["multi.gpkg", "2 layers", "'zones_a'"],
        cli=["--zones-layer"], py=["zones_layer"]),
    Row("layer misspelled", {"zones": "multi.gpkg", "zones_layer": "zones_c"}, 1,
        ["multi.gpkg", "no layer 'zones_c'", "'zones_a'"]),
    Row("zones are not polygons", {"zones": "points.geojson"}, 1, ["points.geojson", "Point", "polygons"]),
    # -- CRS
    Row("zones without CRS", {"zones": "nocrs.shp"}, 1, ["nocrs.shp", "no coordinate reference system",
                                                          "ogr2ogr -a_srs"], exc=CRSError),
    Row("zones in metres labelled lon/lat", {"zones": "metres.geojson"}, 1,
        ["metres.geojson", "row 1", "cannot be longitude/latitude"], exc=CRSError),
    Row("zones in lon/lat (geographic CRS) are fine", {"zones": "lonlat.geojson"}, 0),
    Row("stations CSV without CRS", {"crs": None}, 1, ["st.csv", "no coordinate reference system"],
        cli=["--crs EPSG:4326"], py=["crs='EPSG:4326'"], exc=CRSError),
    Row("stations CRS contradicts the file's", {"points": "st.geojson", "x": None, "y": None, "crs": "EPSG:4326"},
        1, ["st.geojson", "declares the CRS"], cli=["--crs EPSG:4326"], py=["crs='EPSG:4326'"], exc=CRSError),
    Row("grid CRS in lon/lat", {"metric_crs": "EPSG:4326"}, 1, ["longitude/latitude CRS"],
        cli=["--metric-crs EPSG:4326"], py=["metric_crs='EPSG:4326'"], exc=CRSError),
    Row("lon/lat swapped", {"points": "ll_swapped.csv", "x": "lon", "y": "lat", "crs": "EPSG:4326"}, 1,
        ["ll_swapped.csv", "'s1' \\(outside grid\\)", "look swapped"], cli=["--x", "--skip-unplaced"],
        py=["unplaced='skip'"]),
    Row("latitude out of range", {"points": "ll_range.csv", "x": "lon", "y": "lat", "crs": "EPSG:4326"}, 1,
        ["ll_range.csv", "row 1", "cannot be longitude/latitude"], exc=CRSError),
    # -- fields
    Row("zone id misspelled", {"zone_id": "zonee"}, 1, ["zones.geojson", "no field 'zonee'", "did you mean 'zone'"]),
    Row("population misspelled", {"population": "Popp"}, 1, ["no field 'Popp'", "did you mean 'pop'"]),
    Row("station id misspelled", {"facility_id": "fidd"}, 1, ["st.csv", "no field 'fidd'", "did you mean 'fid'"]),
    Row("x field misspelled", {"x": "xx"}, 1, ["st.csv", "no field 'xx'", "did you mean 'x'"]),
    Row("population not a number", {"zones": "pop_text.geojson"}, 1,
        ["pop_text.geojson", "'pop'", "row 2", "'many' is not a number"]),
    Row("population negative", {"zones": "pop_negative.geojson"}, 1, ["pop_negative.geojson", "row 2", "-5"]),
    Row("population empty (NaN)", {"zones": "pop_empty.geojson"}, 1, ["pop_empty.geojson", "row 2", "is empty"]),
    # -- geometry and ids
    Row("invalid polygon", {"zones": "bowtie.geojson"}, 1, ["bowtie.geojson", "row 2", "invalid polygon",
                                                            "makevalid"]),
    Row("overlapping zones", {"zones": "overlap.geojson"}, 1, ["overlap.geojson", "overlap", "row 4"]),
    Row("zone without geometry", {"zones": "null_geometry.geojson"}, 1, ["null_geometry.geojson", "row 2",
                                                                         "no geometry"]),
    Row("duplicate zone ids", {"zones": "duplicate_ids.geojson"}, 1,
        ["duplicate_ids.geojson", "duplicate zone id", "rows 1 and 2"]),
    Row("duplicate station ids", {"points": "st_duplicate.csv", "facility_id": "fid"}, 1,
        ["st_duplicate.csv", "duplicate station id", "rows 1 and 2"]),
    Row("no stations", {"points": "st_empty.csv"}, 1, ["st_empty.csv", "no stations"]),
    Row("station off the grid", {"points": "st_far.csv"}, 1, ["st_far.csv", "'far' \\(outside grid\\)"],
        cli=["--snap-max-m", "--skip-unplaced"], py=["snap_max_m", "unplaced='skip'"]),
    # -- rasters
    Row("friction truncated GeoTIFF", {"friction": "truncated.tif", "background_speed": None}, 1,
        ["truncated.tif"], exc=CareshedError),
    Row("friction not a raster", {"friction": "text.tif", "background_speed": None}, 1, ["text.tif"],
        exc=CareshedError),
    Row("friction all nodata", {"friction": "nodata.tif", "background_speed": None}, 1,
        ["nodata.tif", "no data on the analysis grid"]),
    Row("friction negative", {"friction": "negative.tif", "background_speed": None}, 1, ["negative.tif", "negative"]),
    Row("friction zero (not infinite speed)", {"friction": "zero.tif", "background_speed": None}, 1,
        ["zero.tif", "infinite speed", "nodata"]),
    Row("friction inf everywhere", {"friction": "inf.tif", "background_speed": None}, 1, ["inf.tif", "impassable"]),
    Row("friction NaN everywhere", {"friction": "nan.tif", "background_speed": None}, 1, ["nan.tif", "no data"]),
    Row("friction covers part of the zones", {"friction": "half.tif", "background_speed": None}, 1,
        ["half.tif", "1 of 3 zone", "does not cover"], cli=["--friction"]),
    Row("population raster truncated", {"population": None, "population_raster": "truncated.tif"}, 1,
        ["truncated.tif"], exc=CareshedError),
    # -- roads
    Row("roads: truncated .osm.pbf", {"roads": "truncated.osm.pbf"}, 1, ["truncated.osm.pbf", "truncated or corrupt"],
        exc=CareshedError),
    Row("roads: a file without roads", {"roads": "empty.geojson", "background_speed": None}, 1, ["empty.geojson"]),
    # the stations stand on a piece of road in the unpeopled zone A; the other piece runs through zone C; with roads
    # only, every other cell is impassable: nobody can reach a station, and the message says why for whom
    Row("disconnected graph: the stations' roads reach nobody",
        {"zones": "zones_a_empty.geojson", "points": "st_a.csv", "roads": "roads_split.geojson",
         "background_speed": None}, 1,
        ["nobody can reach any station", "all 17,000 people", "on impassable cells", "with roads only",
         "people in [0-9]+ cells are on passable ground that no path joins to any station",
         "separate piece of the road network"],
        cli=["--background-speed 5"], py=["background_speed_kmh=5"]),
    # -- numbers
    Row("threshold negative", {"minutes": -5.0}, 2, ["-5"], cli=["--minutes"], py=["thresholds_min"],
        exc=UsageError),
    Row("threshold NaN", {"minutes": float("nan")}, 2, ["nan"], cli=["--minutes"], py=["thresholds_min"],
        exc=UsageError),
    Row("cell size zero", {"cell_size": 0.0}, 2, ["cell size"], cli=["--cell-size 100"], py=["cell_size_m=100"],
        exc=UsageError),
    Row("cell size negative", {"cell_size": -100.0}, 2, ["cell size"], cli=["--cell-size"], py=["cell_size_m"],
        exc=UsageError),
    Row("cell size absurdly small", {"cell_size": 0.001}, 1, ["memory"], cli=["--cell-size"], py=["cell_size_m"],
        exc=(MemoryError, InputError)),
    Row("memory limit below the run's estimate", {"max_memory": "2K"}, 1, ["needs an estimated", "cell size"],
        exc=MemoryLimitError),
    Row("memory limit not a size", {"max_memory": "lots"}, 2, ["'?lots'?", "8G"], cli=["--max-memory"],
        py=["max_memory="], exc=UsageError),
    Row("snap distance negative", {"snap_max_m": -1.0}, 2, ["-1"], cli=["--snap-max-m"], py=["snap_max_m"],
        exc=UsageError),
    Row("no travel model", {"background_speed": None}, 2, ["travel model"], cli=["--friction", "--speed-raster"],
        py=["speed_raster"], exc=UsageError),
    Row("no population", {"population": None}, 2, ["give the people"], cli=["--population-raster"],
        py=["population_raster"], exc=UsageError),
    # -- outputs
    Row("output folder is a file", {"out": "a_file.txt"}, 1, ["a_file.txt", "is a file"], cli=[r"\(--out;"],
        py=[r"\(folder;"], exc=DataIOError),
    Row("output folder cannot be made", {"out": "/proc/careshed-out"}, 1, ["/proc/careshed-out"], exc=OSError),
    Row("prefix points outside", {"prefix": "../escape"}, 2, ["\\.\\./escape", "plain file name"], cli=["--prefix"],
        py=["prefix='../escape'"], exc=UsageError),
    Row("output path with spaces and Chinese", {"out": "my results 结果"}, 0),
    Row("outputs already exist (replaced as a set)", {"out": "previous"}, 0),
]


# ---- the input files ------------------------------------------------------------------------------------------

def _zones(path, zones=ZONES, crs=32631, props=None):
    feats = []
    for i, (zid, name, pop, box) in enumerate(zones):
        p = {"zone": zid, "name": name, "pop": pop}
        p.update((props or {}).get(i, {}))
        feats.append(polygon_feature(p, square(*box)))
    return write_geojson(path, feats, crs_epsg=crs)


def _tif(path, array, nodata=None, x0=499500.0, y1=1002500.0, cell=100.0):
    from osgeo import gdal, osr
    ds = gdal.GetDriverByName("GTiff").Create(str(path), array.shape[1], array.shape[0], 1, gdal.GDT_Float32)
    ds.SetGeoTransform((x0, cell, 0, y1, 0, -cell))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32631)
    ds.SetProjection(srs.ExportToWkt())
    band = ds.GetRasterBand(1)
    if nodata is not None:
        band.SetNoDataValue(nodata)
    band.WriteArray(array)
    ds = None


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    import geopandas as gpd
    from pyproj import Transformer

    d = tmp_path_factory.mktemp("hostile")
    _zones(d / "zones.geojson")
    (d / "st.csv").write_text(STATIONS, encoding="utf-8")
    (d / "st_duplicate.csv").write_text("fid,x,y\ns1,500500,1000500\ns1,501500,1001500\n", encoding="utf-8")
    (d / "st_empty.csv").write_text("fid,x,y\n", encoding="utf-8")
    (d / "st_far.csv").write_text("fid,x,y\ns1,500500,1000500\nfar,600000,1000500\n", encoding="utf-8")
    write_geojson(d / "st.geojson", [{"type": "Feature", "properties": {"fid": "s1"},
                                      "geometry": {"type": "Point", "coordinates": [500500, 1000500]}}], 32631)
    write_geojson(d / "points.geojson", [{"type": "Feature", "properties": {"zone": 1, "pop": 5},
                                          "geometry": {"type": "Point", "coordinates": [500500, 1000500]}}], 32631)
    to_ll = Transformer.from_crs("EPSG:32631", "EPSG:4326", always_xy=True)
    lon, lat = to_ll.transform([500500, 501500], [1000500, 1001500])
    (d / "ll_swapped.csv").write_text("fid,lon,lat\n" + "".join(f"s{i},{b},{a}\n" for i, (a, b) in
                                                               enumerate(zip(lon, lat))), encoding="utf-8")
    (d / "ll_range.csv").write_text("fid,lon,lat\ns1,3.0,95.0\n", encoding="utf-8")
    ll = [(z, n, p, (*to_ll.transform(b[0], b[1]), *to_ll.transform(b[2], b[3]))) for z, n, p, b in ZONES]
    _zones(d / "lonlat.geojson", ll, crs=None)
    _zones(d / "metres.geojson", crs=None)                   # metres in a GeoJSON, which means lon/lat
    _zones(d / "empty.geojson", [])
    _zones(d / "pop_text.geojson", props={1: {"pop": "many"}})
    _zones(d / "pop_negative.geojson", props={1: {"pop": -5}})
    _zones(d / "pop_empty.geojson", props={1: {"pop": None}})
    _zones(d / "duplicate_ids.geojson", props={1: {"zone": 1}})
    _zones(d / "overlap.geojson", ZONES + [(4, "D", 100, (500500, 1000500, 501500, 1001500))])
    bowtie = [[[501000, 1000000], [502000, 1001000], [502000, 1000000], [501000, 1001000], [501000, 1000000]]]
    feats = [polygon_feature({"zone": z, "name": n, "pop": p}, bowtie if z == 2 else square(*b)) for z, n, p, b in ZONES]
    write_geojson(d / "bowtie.geojson", feats, 32631)
    feats = [polygon_feature({"zone": z, "name": n, "pop": p}, square(*b)) for z, n, p, b in ZONES]
    feats[1]["geometry"] = None
    write_geojson(d / "null_geometry.geojson", feats, 32631)
    z = gpd.read_file(d / "zones.geojson")
    z.to_file(d / "multi.gpkg", layer="zones_a", driver="GPKG")
    z.to_file(d / "multi.gpkg", layer="zones_b", driver="GPKG")
    z.crs = None
    z.to_file(d / "nocrs.shp")
    (d / "text.tif").write_text("not a raster\n", encoding="utf-8")
    full = np.full((30, 30), 0.72, np.float32)
    _tif(d / "good.tif", full)
    data = (d / "good.tif").read_bytes()
    (d / "truncated.tif").write_bytes(data[:len(data) // 3])
    _tif(d / "nodata.tif", np.full((30, 30), -9999, np.float32), nodata=-9999)
    _tif(d / "negative.tif", np.full((30, 30), -1, np.float32))
    _tif(d / "zero.tif", np.zeros((30, 30), np.float32))
    _tif(d / "inf.tif", np.full((30, 30), np.inf, np.float32))
    _tif(d / "nan.tif", np.full((30, 30), np.nan, np.float32))
    _tif(d / "half.tif", full[:, :12])                       # x 499500 .. 500700: zone B has no cell
    pbf = (Path(__file__).resolve().parents[2] / "data" / "comoros" / "comores-latest.osm.pbf").read_bytes()
    (d / "truncated.osm.pbf").write_bytes(pbf[:len(pbf) // 3])
    (d / "a_file.txt").write_text("a file, not a folder\n", encoding="utf-8")
    _zones(d / "zones_a_empty.geojson", props={0: {"pop": 0}})
    (d / "st_a.csv").write_text("fid,x,y\ns1,500300,1000500\ns2,500700,1000500\n", encoding="utf-8")
    write_geojson(d / "roads_split.geojson", [_road([[500100, 1000500], [500900, 1000500]]),   # in zone A only
                                              _road([[500200, 1001500], [501800, 1001500]])],  # through zone C
                  32631)
    return d


def _road(coords):
    return {"type": "Feature", "properties": {"highway": "primary"},
            "geometry": {"type": "LineString", "coordinates": coords}}


# ---- one row in each interface -----------------------------------------------------------------------------

def _spec(row: Row) -> dict:
    spec = dict(BASE)
    spec.update(row.change)
    return spec


def _out(row: Row, spec, d: Path, interface: str) -> Path:
    """The row's own output folder (each row starts from its own earlier good output)."""
    out = Path(spec["out"])
    return out if out.is_absolute() else d / interface / f"row{ROWS.index(row):02d}" / out


def argv(spec: dict, d: Path, out: Path) -> list[str]:
    """The `careshed reach` command line of a spec."""
    a = ["reach", str(d / spec["zones"]), str(d / spec["points"]), "--zone-id", spec["zone_id"]]
    for key, flag in (("population", "--population"), ("x", "--x"), ("y", "--y"), ("crs", "--crs"),
                      ("facility_id", "--station-id"), ("zones_layer", "--zones-layer"),
                      ("metric_crs", "--metric-crs"), ("prefix", "--prefix"), ("max_memory", "--max-memory")):
        if spec[key] is not None:
            a += [flag, str(spec[key])]
    for key, flag in (("population_raster", "--population-raster"), ("friction", "--friction"),
                      ("roads", "--roads")):
        if spec[key] is not None:
            a += [flag, str(d / spec[key])]
    for key, flag in (("background_speed", "--background-speed"), ("minutes", "--minutes"),
                      ("cell_size", "--cell-size"), ("snap_max_m", "--snap-max-m")):
        if spec[key] is not None:
            a += [flag, repr(float(spec[key]))]
    return a + ["--out", str(out), "--no-map", "--quiet"]


def run_python(spec: dict, d: Path, out: Path):
    """The same run through the Python API."""
    path = (lambda key: None if spec[key] is None else str(d / spec[key]))
    travel = None
    if spec["friction"] is None and (spec["roads"] or spec["background_speed"] is not None):
        travel = {}
        if spec["roads"]:
            travel["roads"] = [path("roads")]
        if spec["background_speed"] is not None:
            travel["background_speed_kmh"] = spec["background_speed"]
    study = careshed.Study(path("zones"), zone_id=spec["zone_id"], population=spec["population"],
                           population_raster=path("population_raster"), friction=path("friction"), travel=travel,
                           cell_size_m=spec["cell_size"], metric_crs=spec["metric_crs"],
                           zones_layer=spec["zones_layer"])
    result = study.reach(path("points"), x=spec["x"], y=spec["y"], crs=spec["crs"], facility_id=spec["facility_id"],
                         thresholds_min=spec["minutes"], snap_max_m=spec["snap_max_m"], max_memory=spec["max_memory"])
    return result.save(out, prefix=spec["prefix"] or "reach", draw_map=False)


def _prepare_out(out: Path) -> None:
    """An earlier good output in the folder (unless it must not be a folder, or cannot be made)."""
    if out.is_absolute() and not str(out).startswith(("/tmp", os.environ.get("TMPDIR", "/tmp"))):
        return
    if out.name == "a_file.txt":
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("a file, not a folder\n", encoding="utf-8")
        return
    out.mkdir(parents=True, exist_ok=True)
    (out / "reach.csv").write_text(SENTINEL, encoding="utf-8")


def _check_nothing_lost(out: Path) -> None:
    if out.name == "a_file.txt":
        assert out.read_text(encoding="utf-8") == "a file, not a folder\n"
        return
    if not out.is_dir():
        return
    assert sorted(p.name for p in out.iterdir()) == ["reach.csv"], "a failed run left files behind"
    assert (out / "reach.csv").read_text(encoding="utf-8") == SENTINEL, "a failed run changed an earlier output"


def _check_written(out: Path) -> None:
    names = {p.name for p in out.iterdir()}
    assert OUTPUTS <= names and not [n for n in names if n.startswith(".")], names
    assert (out / "reach.csv").read_text(encoding="utf-8") != SENTINEL       # the earlier output was replaced


CLI_DRIVER = r"""
import contextlib, io, json, sys, traceback
from careshed.cli import main
results = []
for argv in json.load(sys.stdin):
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            status = main(argv)
        except SystemExit as exc:                 # argparse's own usage errors
            status = exc.code
        except BaseException:                      # escaped the CLI's handler: shown as a traceback
            traceback.print_exc()
            status = "escaped"
    results.append({"status": status, "stderr": err.getvalue()})
json.dump(results, sys.__stdout__)
"""


@pytest.fixture(scope="module")
def cli_results(files, tmp_path_factory):
    """All rows through the CLI, in one subprocess: {row id: {"status", "stderr"}}."""
    runs = []
    for row in ROWS:
        spec = _spec(row)
        out = _out(row, spec, files, "cli")
        _prepare_out(out)
        runs.append(argv(spec, files, out))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p), MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-c", CLI_DRIVER], input=json.dumps(runs), env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {row.id: r for row, r in zip(ROWS, json.loads(proc.stdout))}


def _marks(row):
    return [pytest.mark.xfail(reason=row.xfail, strict=True)] if row.xfail else []


def test_the_table_is_big_enough():
    assert len(ROWS) >= 40 and len({r.id for r in ROWS}) == len(ROWS)


@pytest.mark.parametrize("row", [pytest.param(r, id=r.id, marks=_marks(r)) for r in ROWS])
def test_cli(row, files, cli_results):
    spec = _spec(row)
    out = _out(row, spec, files, "cli")
    r = cli_results[row.id]
    err = r["stderr"]
    assert "Traceback" not in err, err
    assert r["status"] == row.status, err
    if row.status == 0:
        _check_written(out)
        return
    assert err.startswith("careshed: error: "), err
    message = err[len("careshed: error: "):]
    for pattern in row.both + row.cli:
        assert re.search(pattern, message), f"{pattern!r} not in {message!r}"
    for pattern in row.py:             # the Python spelling of the advice must not leak onto the command line
        assert not re.search(pattern, message), f"Python advice {pattern!r} on the command line"
    _check_nothing_lost(out)


@pytest.mark.parametrize("row", [pytest.param(r, id=r.id, marks=_marks(r)) for r in ROWS])
def test_python(row, files):
    spec = _spec(row)
    out = _out(row, spec, files, "python")
    _prepare_out(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if row.status == 0:
            run_python(spec, files, out)
            _check_written(out)
            return
        with pytest.raises(row.exc) as info:
            run_python(spec, files, out)
    message = str(info.value)
    for pattern in row.both + row.py:
        assert re.search(pattern, message), f"{pattern!r} not in {message!r}"
    for pattern in row.cli:            # nor the command line's flags into Python
        assert not re.search(pattern, message), f"CLI advice {pattern!r} in a Python message: {message!r}"
    _check_nothing_lost(out)


def test_disconnected_roads_some_people_cut_off_is_said_in_both_interfaces(files, tmp_path):
    """Issue 8: when part of the people cannot reach any station the run still succeeds (exit 0), and both
    interfaces say how many cannot and why: on impassable cells, or on a piece of the road network no path joins
    to a station."""
    from careshed.placement import UnreachablePeopleWarning

    spec = dict(BASE, points="st.csv", roads="roads_split.geojson", background_speed=None)   # s2 is in zone C
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p), MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, "-m", "careshed", *argv(spec, files, tmp_path / "cli")], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    warning = next(line for line in r.stderr.splitlines() if line.startswith("careshed: warning: "))
    assert re.search(r"[0-9,]+ of 19,000 people \([0-9.]+%\) cannot reach any station", warning), warning
    assert "on impassable cells" in warning and "--background-speed 5" in warning, warning
    assert "background_speed_kmh" not in warning, warning
    _check_written(tmp_path / "cli")

    with pytest.warns(UnreachablePeopleWarning) as caught:
        run_python(spec, files, tmp_path / "python")
    message = str(caught[0].message)
    assert "cannot reach any station" in message and "background_speed_kmh=5" in message, message
    table = __import__("pandas").read_csv(tmp_path / "python" / "reach.csv", comment="#", index_col=0)
    unreachable = float(table.loc["region", "unreachable"])
    assert f"{unreachable:,.0f} of 19,000 people" in message, (unreachable, message)
