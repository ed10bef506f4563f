"""Shared by the QGIS tests: every analysis result of the strip study saved (with QGIS projects) once, and real
QGIS run on the outputs in a subprocess (qgis_check.py). python3-qgis is part of `make test`'s Debian packages:
without it the tests FAIL (they do not skip), naming the packages to install."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CHECKER = HERE / "qgis_check.py"
QGIS_PACKAGES = "python3-qgis qgis-providers"


def saved_results(folder: Path) -> dict:
    """{analysis: (result, {file name: path})}: the results of test_results.all_results() and the referral of
    test_analyses_referral saved into `folder`/<analysis> with their QGIS project."""
    from strip_case import cell_centre, points
    from test_analyses_referral import run as referral
    from test_results import all_results

    res, _ = all_results()
    res["referral"] = referral(villages=points(["v1", "v2"], [cell_centre(1, 3), cell_centre(0, 0)]))
    out = {}
    for name, r in res.items():
        written = r.save(folder / name, draw_map=False, qgis_project=True)
        out[name] = (r, {p.name: p for p in written})
    return out


def run_qgis(job: dict, work: Path) -> dict:
    """Run qgis_check.py on `job` with the test's Python (Debian's, or the venv over it) and QGIS headless."""
    job_path = work / "qgis_job.json"
    job_path.write_text(json.dumps(job), encoding="utf-8")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(work))
    proc = subprocess.run([sys.executable, str(CHECKER), str(job_path)], capture_output=True, text=True, env=env,
                          timeout=120)
    if "No module named 'qgis'" in proc.stderr:
        pytest.fail(f"QGIS is missing: install the Debian packages {QGIS_PACKAGES} (make deps does); the QGIS "
                    "tests do not skip")
    assert proc.returncode == 0, f"QGIS check failed:\n{proc.stderr[-4000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])
