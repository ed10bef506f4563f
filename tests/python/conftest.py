"""Shared fixtures for careshed's Python tests.

The hand-made case (`hand_case`): three zones in UTM 31N metres (EPSG:32631) and seven facilities.
Every expected number in the tests is worked out by hand from the layout below, not from the code:

    y (m)
    1002000 +---------------------------+
            |        zone 3 "C"         |   population 12000
    1001000 +-------------+-------------+
            |  zone 1 "A" |  zone 2 "B" |   A: population 2000, B: 5000
    1000000 +-------------+-------------+
          500000        501000        502000  x (m)

    facility  x       y        beds phys amb  zone (why)
    f1        500500  1000500  10   3    0    A  (inside)
    f2        500200  1000800  5    1    1    A  (inside)
    f3        501500  1000500  20   10   0    B  (inside)
    f4        501000  1000500  4    0    0    A  (on the A|B edge: lowest zone index wins)
    f5        501000  1001000  1    0    0    A  (corner of A, B and C: lowest zone index)
    f6        501500  1001500  30   12   1    C  (inside)
    f7        510000  1000500  7    2    0    none: outside every zone -> unassigned
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

# The Ctrl-C tests send SIGINT to child processes. A shell that starts a job in the background without job control
# (e.g. `( make test & )`) starts it with SIGINT *ignored*, and ignored signals are inherited through exec, so every
# child Python would ignore Ctrl-C too and those tests would fail for a reason that is not careshed's. A handler set
# here is reset to the default on exec, so children start with SIGINT at its default again.
signal.signal(signal.SIGINT, signal.default_int_handler)

ROOT = Path(__file__).resolve().parents[2]
QUZHOU = ROOT / "data" / "quzhou"
QUZHOU_CENSUS_TOTAL = 2_276_184

ZONES = [  # (zone_id, name, population, beds_2020, (x0, y0, x1, y1)); beds_2020 = the beds of the
    # facilities inside each zone (f1+f2+f4+f5, f3, f6), so zone-table mode must equal point mode.
    (1, "A", 2000, 20, (500000, 1000000, 501000, 1001000)),
    (2, "B", 5000, 20, (501000, 1000000, 502000, 1001000)),
    (3, "C", 12000, 30, (500000, 1001000, 502000, 1002000)),
]
FACILITIES = [  # (fid, x, y, beds, physicians, ambulances)
    ("f1", 500500, 1000500, 10, 3, 0),
    ("f2", 500200, 1000800, 5, 1, 1),
    ("f3", 501500, 1000500, 20, 10, 0),
    ("f4", 501000, 1000500, 4, 0, 0),
    ("f5", 501000, 1001000, 1, 0, 0),
    ("f6", 501500, 1001500, 30, 12, 1),
    ("f7", 510000, 1000500, 7, 2, 0),
]


def square(x0, y0, x1, y1):
    return [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]


def write_geojson(path: Path, features, crs_epsg: int | None = None) -> Path:
    """A GeoJSON FeatureCollection; crs_epsg adds the (pre-RFC 7946) "crs" member OGR understands."""
    doc = {"type": "FeatureCollection", "features": features}
    if crs_epsg is not None:
        doc["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{crs_epsg}"}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def polygon_feature(props, coords):
    return {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": coords}}


@pytest.fixture
def hand_case(tmp_path):
    """Paths of the hand-made case: zones GeoJSON (EPSG:32631) and facilities CSV (x, y in EPSG:32631)."""
    zones = write_geojson(tmp_path / "zones.geojson", [
        polygon_feature({"zone": zid, "name": name, "pop": pop, "beds_2020": beds}, square(*box))
        for zid, name, pop, beds, box in ZONES], crs_epsg=32631)
    fac = tmp_path / "facilities.csv"
    lines = ["fid,x,y,beds,physicians,ambulances"]
    lines += [f"{f},{x},{y},{b},{p},{a}" for f, x, y, b, p, a in FACILITIES]
    fac.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"zones": zones, "facilities": fac, "dir": tmp_path}


@pytest.fixture
def quzhou_dir():
    assert (QUZHOU / "counties.geojson").is_file(), "data/quzhou is missing (run data/quzhou/build_quzhou_data.py)"
    return QUZHOU


def cli_environment() -> dict:
    """Environment for `python -m careshed` subprocesses: the same import path as this test run."""
    env = dict(os.environ)
    paths = [p for p in sys.path if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.setdefault("MPLBACKEND", "Agg")
    return env


@pytest.fixture
def cli_env():
    return cli_environment()


def run_cli(args, env, cwd=None):
    return subprocess.run([sys.executable, "-m", "careshed", *map(str, args)], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="session")
def quzhou_demo(tmp_path_factory):
    """`careshed demo --out DIR`, run once for the whole test session (its ambulance placement alone takes ~9 s):
    the finished process (subprocess.CompletedProcess: ``args``, ``returncode``, ``stdout``, ``stderr``) and
    ``out``, the folder it wrote. The tests of careshed.demo (test_demo.py), of the command (test_cli_demo.py) and
    of the README's command (test_readme.py) each check this one run's outputs for their part."""
    out = tmp_path_factory.mktemp("quzhou_demo") / "out"
    run = run_cli(["demo", "--out", out], cli_environment())
    run.out = out
    return run


# Fixtures of the grid CLI hand case (test_cli_catchments.py, test_cli_access.py), defined in grid_cli_case.py.
from grid_cli_case import case, oracle  # noqa: E402,F401


@pytest.fixture(scope="module")
def dask_threads():
    """A Dask client of a LocalCluster of 2 single-threaded workers as threads of the test process (quick to start),
    shared by a test module of the tiled path (skipped without python3-distributed)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as c:
        yield c
