"""CRS handling works in a virtual environment with nothing but careshed's own knowledge of PROJ.

Issue 8: on a new Debian 12 machine pyproj (inside the venv) found no PROJ data folder, so every CLI run
printed "careshed: warning: Valid PROJ data directory not found" and EPSG lookups failed; it passed only on
machines where an unrelated package had installed the `proj` program. These tests run the CLI and the
Python API in subprocesses with a scrubbed environment: no PROJ_DATA/PROJ_LIB, PATH holding only the venv's
bin folder (so no `proj` program), HOME in a temporary folder.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from careshed import _core
from careshed.projdata import configure_pyproj


@pytest.fixture
def scrubbed_env(tmp_path):
    return {"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path), "LANG": "C.UTF-8"}


def run_python(code, env):
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def test_scrubbed_environment_really_lacks_proj(scrubbed_env):
    # The premise of the other tests: without careshed, pyproj finds no data folder in this environment
    # (unless pyproj ships its own, as PyPI wheels do; Debian's does not).
    r = run_python("import pyproj.datadir as d\ntry:\n    print(d.get_data_dir())\nexcept Exception:\n"
                   "    print('NONE')", scrubbed_env)
    internal = Path(__import__("pyproj").__file__).parent / "proj_dir" / "share" / "proj" / "proj.db"
    if internal.exists():
        pytest.skip("this pyproj ships its own PROJ data")
    assert r.stdout.strip() == "NONE", r.stdout + r.stderr


@pytest.mark.parametrize("first_import", ["careshed", "geopandas"])
def test_python_api_resolves_epsg_without_warnings(scrubbed_env, first_import):
    code = (f"import {first_import}\nimport careshed, geopandas, pyproj\n"
            "from shapely.geometry import Point\n"
            "crs = pyproj.CRS.from_epsg(32650)\n"
            "g = geopandas.GeoSeries([Point(118.87, 28.97)], crs='EPSG:4326').to_crs(32650)\n"
            "print(crs.name, round(g.x[0]), round(g.y[0]))")
    r = run_python(code, scrubbed_env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[:5] == ["WGS", "84", "/", "UTM", "zone"], r.stdout
    if first_import == "careshed":  # importing geopandas first lets pyproj warn before careshed can help
        assert "PROJ" not in r.stderr, r.stderr


def test_cli_prints_only_its_own_error(scrubbed_env, tmp_path):
    r = subprocess.run([sys.executable, "-m", "careshed", "density", str(tmp_path / "gone.gpkg"), "--zone-id",
                        "a", "--population", "b", "--resource", "beds", "--out", str(tmp_path / "o")],
                       env=scrubbed_env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert r.stderr.startswith("careshed: error: ") and "gone.gpkg" in r.stderr, r.stderr
    assert "warning" not in r.stderr, r.stderr


def test_user_choice_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("PROJ_DATA", str(tmp_path))
    assert configure_pyproj() == str(tmp_path)


def test_core_folder_holds_proj_db():
    folder = _core.proj_data_dir()
    assert folder and (Path(folder) / "proj.db").is_file()
    assert folder in _core.proj_search_paths()
