"""examples/quzhou_walkthrough.ipynb must run end to end (it cannot rot) and compute the right numbers.

The notebook is executed with nbclient on the "python3" Jupyter kernel. The kernel is another process, so it is
given a PYTHONPATH that makes it import the careshed under test (the package directories on this test's own
sys.path, including the build directory holding careshed._core). The numbers asserted are checked against
independent facts: the census total of data/quzhou/counties.geojson (summed here from the GeoJSON), the modelled
beds, the 2SFCA conservation identity and the capacity bound.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import careshed

from conftest import QUZHOU, QUZHOU_CENSUS_TOTAL, ROOT

NOTEBOOK = ROOT / "examples" / "quzhou_walkthrough.ipynb"
if os.environ.get("CI"):  # in CI the Makefile installed python3-nbformat/nbclient: missing is a failure, not a skip
    import nbclient
    import nbformat
else:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")


def _kernel_pythonpath() -> str:
    """Every directory holding a careshed package half that this process imports (sources and the compiled
    _core's build directory), first, then the existing PYTHONPATH."""
    dirs = []
    for half in careshed.__path__:  # extend_path: python/careshed and <build>/python/careshed
        parent = str(Path(half).resolve().parent)
        if parent not in dirs:
            dirs.append(parent)
    core_dir = str(Path(careshed._core.__file__).resolve().parent.parent)
    if core_dir not in dirs:
        dirs.append(core_dir)
    old = os.environ.get("PYTHONPATH")
    return os.pathsep.join(dirs + ([old] if old else []))


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    work = tmp_path_factory.mktemp("walkthrough")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = _kernel_pythonpath()
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=180,
                                         resources={"metadata": {"path": str(work)}})
        client.execute()  # raises CellExecutionError (with the cell and traceback) if any cell fails
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
    return nb, work


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
    return "\n".join(parts)


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.get("outputs") for c in code)
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_every_cell_ran_without_error(executed):
    nb, _ = executed
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) >= 10
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    for c in code:
        assert not any(o.get("output_type") == "error" for o in c.outputs)


def test_kernel_imported_the_careshed_under_test(executed):
    nb, _ = executed
    first = _text(next(c for c in nb.cells if c.cell_type == "code"))
    assert f"careshed {careshed.__version__} from {Path(careshed.__file__).parent}" in first
    # the kernel found the Quzhou data where this careshed finds it (the source checkout's data/quzhou, or the
    # copy inside an installed package)
    from careshed.demo import find_data_dir

    assert f"data: {find_data_dir('quzhou').resolve()}" in first


def test_summary_numbers(executed):
    nb, work = executed
    import geopandas as gpd

    line = next(ln for c in nb.cells if c.cell_type == "code" for ln in _text(c).splitlines()
                if ln.startswith("SUMMARY "))
    s = json.loads(line[len("SUMMARY "):])
    counties = gpd.read_file(QUZHOU / "counties.geojson")
    census = int(counties["pop_census2020"].sum())
    assert census == QUZHOU_CENSUS_TOTAL == 2_276_184
    assert s["census_total"] == census
    assert s["study_population"] == pytest.approx(census, rel=1e-9)  # zone totals spread, reconciled
    beds = float(counties["beds_2020_modelled"].sum())
    assert s["beds_total"] == beds == 14544.0
    # People in a catchment + people beyond an hour of every hospital = everybody.
    assert s["catchment_reached"] + s["no_access"] == pytest.approx(census, rel=1e-9)
    assert 0 < s["no_access"] < 0.2 * census
    # Conservation of the 2SFCA family: every bed is shared once among the people with a hospital in reach, so
    # the population-weighted regional score x 1000 is beds / reached people x 1000 for EVERY method, and equals
    # the catchment rate of the whole city (the same beds over the same people).
    expected = beds / (census - s["no_access"]) * 1000.0
    assert s["conservation_error"] < 1e-9
    assert s["e2sfca_region_per_1000"] == pytest.approx(expected, rel=1e-7)
    assert s["catchment_region_per_1000"] == pytest.approx(expected, rel=1e-7)
    for method, value in s["methods_region"].items():
        assert value == pytest.approx(expected, rel=1e-7), method
    # Capacity-aware coverage never covers more than the capacity nor more than the people in reach.
    assert s["capacity_max_over"] <= 1e-6
    assert 0 < s["capacity_covered"] <= min(beds * 1000 / 7.8, s["catchment_reached"]) * (1 + 1e-9)
    assert 0 < s["reach_covered_share"] < 1


def test_referral_and_outreach_cells(executed):
    """The referral cells: the plan's projects never add a referral gap. The walking hospital's plan, checked from
    its tables alone: the region's people split into fixed care and the gap, reached is part of the gap, effective =
    fixed + reached, every census resident counted; at most 18 points, each visited once (monthly) by one team,
    every day route within 8 hours, no team beyond its 13 days, days used = its routes; bound <= objective."""
    nb, _ = executed
    line = next(ln for c in nb.cells if c.cell_type == "code" for ln in _text(c).splitlines()
                if ln.startswith("SUMMARY "))
    s = json.loads(line[len("SUMMARY "):])
    before, after = s["referral_gaps"]
    assert 0 < after <= before <= s["referral_facilities"]
    r = s["outreach_region"]
    assert r["population"] == pytest.approx(QUZHOU_CENSUS_TOTAL, rel=1e-9)
    assert r["fixed"] + r["gap"] == pytest.approx(r["population"])
    assert 0 < r["reached"] <= r["gap"] and r["effective"] == pytest.approx(r["fixed"] + r["reached"])
    chosen = s["outreach_chosen"]
    assert 1 <= len(chosen) <= 18
    visits = {}
    team_of = {}
    for team, stops, minutes in s["outreach_routes"]:
        assert 0 < minutes <= 8 * 60 + 1e-6
        for p in stops:
            visits[p] = visits.get(p, 0) + 1
            assert team_of.setdefault(p, team) == team
    assert visits == {p: 1 for p in chosen}
    routes_per_team = {}
    for team, _, _ in s["outreach_routes"]:
        routes_per_team[team] = routes_per_team.get(team, 0) + 1
    for team, (used, available) in s["outreach_days"].items():
        assert used == routes_per_team.get(team, 0) and used <= available == 13
    bound, objective = s["outreach_bound"]
    assert 0 < bound <= objective + 1e-9


def test_density_cell_shows_the_census_total_and_the_modelled_rates(executed):
    nb, _ = executed
    text = "\n".join(_text(c) for c in nb.cells if c.cell_type == "code")
    assert "census total: 2,276,184 residents" in text
    assert "MODELLED" in text


def test_maps_written(executed):
    _, work = executed
    for name in ("reach.png", "catchments.png", "access.png", "outreach.png"):
        p = work / "walkthrough_out" / name
        assert p.is_file() and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_results_render_as_rich_html_and_the_notebook_ends_by_writing_the_report(executed):
    """A result at the end of a cell shows as HTML (its table beside a small inlined map); the last cell writes
    the offline report of the notebook's results."""
    nb, work = executed
    code = [c for c in nb.cells if c.cell_type == "code"]
    shown = next(c for c in code if "".join(c.source).strip() == "reach")
    html_out = next(o["data"]["text/html"] for o in shown.outputs if "text/html" in o.get("data", {}))
    assert '<div class="careshed-result">' in html_out and "<table" in html_out
    assert '<img class="careshed-map" alt="map"' in html_out and "data:image/png;base64," in html_out
    assert "study.report(" in "".join(code[-1].source)
    report = work / "walkthrough_out" / "quzhou_report.html"
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Quzhou: access to care" in page
    for section in ("map", "summary", "curve", "density", "catchments", "access", "equity", "referral", "outreach",
                    "methods", "record"):
        assert f'<section id="{section}">' in page, section
    assert f"report: walkthrough_out/quzhou_report.html" in _text(code[-1])
