"""Zones and facilities read from a REAL PostGIS server on loopback.

A session fixture makes a throw-away cluster: initdb into a fresh temporary directory, postgres listening
on 127.0.0.1 at a free port (as the unprivileged `postgres` user when the tests run as root, because
postgres refuses to run as root), trust authentication for loopback only, the postgis extension, and
the Quzhou counties and county seats loaded with ogr2ogr (GDAL's own writer, independent of careshed).
Teardown stops exactly that server (pg_ctl stop on its data directory, then its postmaster pid if it is
still alive) and removes the directory. Needs Debian's postgresql-15-postgis-3 and gdal-bin.
"""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import careshed
from conftest import QUZHOU, QUZHOU_CENSUS_TOTAL

PG_BIN = Path("/usr/lib/postgresql/15/bin")
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(cmd, user):
    return (["runuser", "-u", user, "--"] + cmd) if user else cmd


@pytest.fixture(scope="session")
def postgis():
    missing = [str(p) for p in (PG_BIN / "initdb", PG_BIN / "pg_ctl", POSTGIS_CONTROL) if not p.exists()]
    if missing or not shutil.which("ogr2ogr") or not shutil.which("psql"):
        why = ("PostGIS test server needs apt packages postgresql-15-postgis-3 and gdal-bin "
               f"(missing: {', '.join(missing) or 'ogr2ogr/psql'}); `make test` installs them")
        if os.environ.get("CI"):  # in CI the Makefile installed them: a missing server is a failure, not a skip
            pytest.fail(why)
        pytest.skip(why)
    user = None
    if os.geteuid() == 0:
        user = "postgres"
        pwd.getpwnam(user)  # KeyError if the Debian package did not create it
    # Not under pytest's tmp dir: that is mode 0700 and owned by root, so `postgres` could not enter it.
    base = Path(tempfile.mkdtemp(prefix="careshed-pg-"))
    data = base / "data"
    data.mkdir()
    if user:
        info = pwd.getpwnam(user)
        for p in (base, data):
            os.chown(p, info.pw_uid, info.pw_gid)
    port = _free_port()
    env = dict(os.environ, LC_ALL="C", LANG="C")
    subprocess.run(_as_server_user([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres",
                                    "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"], user),
                   check=True, capture_output=True, env=env, timeout=60)
    opts = (f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={data} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
    subprocess.run(_as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts,
                                    "-l", str(base / "server.log"), "-w", "-t", "30", "start"], user),
                   check=True, capture_output=True, env=env, timeout=60)
    pid = int((data / "postmaster.pid").read_text().split()[0])
    conn = f"host=127.0.0.1 port={port} user=postgres"
    try:
        def psql(db, sql):
            subprocess.run(["psql", f"{conn} dbname={db}", "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
                           check=True, capture_output=True, env=env, timeout=60)

        psql("postgres", "CREATE DATABASE careshed_test")
        psql("careshed_test", "CREATE EXTENSION postgis")
        pg = f"PG:{conn} dbname=careshed_test"
        subprocess.run(["ogr2ogr", "-f", "PostgreSQL", pg, str(QUZHOU / "counties.geojson"), "-nln", "counties",
                        "-lco", "GEOMETRY_NAME=geom"], check=True, capture_output=True, env=env, timeout=60)
        subprocess.run(["ogr2ogr", "-f", "PostgreSQL", pg, str(QUZHOU / "county_seats.csv"), "-nln", "seats",
                        "-oo", "X_POSSIBLE_NAMES=lon", "-oo", "Y_POSSIBLE_NAMES=lat",
                        "-oo", "AUTODETECT_TYPE=YES", "-a_srs", "EPSG:4326", "-nlt", "POINT",
                        "-lco", "GEOMETRY_NAME=geom"], check=True, capture_output=True, env=env, timeout=60)
        yield pg
    finally:
        subprocess.run(_as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w",
                                        "stop"], user), capture_output=True, env=env, timeout=60)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)  # only our own postmaster, by its pid
        shutil.rmtree(base, ignore_errors=True)


def test_read_counties_from_postgis(postgis):
    gdf = careshed.read_vector(postgis, layer="public.counties")
    assert len(gdf) == 6
    assert gdf.crs.to_epsg() == 4326
    assert gdf["pop_census2020"].sum() == QUZHOU_CENSUS_TOTAL
    assert set(gdf.geom_type) <= {"Polygon", "MultiPolygon"}
    local = careshed.read_vector(QUZHOU / "counties.geojson")
    by_code = dict(zip(local["adcode"], local.geometry))
    for code, geom in zip(gdf["adcode"], gdf.geometry):
        assert geom.symmetric_difference(by_code[code]).area < 1e-12


def test_resource_density_on_postgis(postgis):
    t = careshed.resource_density(postgis, zones_layer="public.counties", zone_id="adcode",
                                  population="pop_census2020", resources={"beds": "beds_2020_modelled"},
                                  targets={"beds": 7.8})
    assert t.loc["region", "population"] == QUZHOU_CENSUS_TOTAL
    assert t.loc["region", "beds"] == 14544
    # each county seat falls in its own county: the summed seat codes reproduce the zone ids
    seats = careshed.resource_density(postgis, postgis, zones_layer="public.counties",
                                      facilities_layer="public.seats", zone_id="adcode",
                                      population="pop_census2020", resources={"codes": "county_adcode"})
    zones = seats.drop(index="region")
    assert zones["codes"].tolist() == [int(c) for c in zones.index]
    assert seats.attrs["unassigned"].empty


def test_missing_postgis_layer(postgis):
    with pytest.raises(careshed.InputError, match="public.no_such_table"):
        careshed.read_vector(postgis, layer="public.no_such_table")
