"""careshed.demo: the Quzhou example — the data folder it finds, and the county vs catchment vs E2SFCA table."""
from __future__ import annotations

import numpy as np
import pytest

import careshed
from conftest import QUZHOU, QUZHOU_CENSUS_TOTAL
from grid_cli_case import csv_notes, read_csv


@pytest.fixture(scope="module")
def demo_run(quzhou_demo):
    """(out folder, what the demo printed) of the session's one `careshed demo` run (conftest.quzhou_demo), which
    runs :func:`careshed.demo.run_demo` with its defaults."""
    assert quzhou_demo.returncode == 0, quzhou_demo.stderr
    return quzhou_demo.out, quzhou_demo.stdout


def test_demo_comparison_table(demo_run):
    import geopandas as gpd

    out, printed = demo_run
    for name in ("quzhou_access.csv", "quzhou_access.gpkg", "quzhou_access.png"):
        assert (out / name).is_file() and str(out / name) in printed  # written, and listed under "wrote:"
    table = read_csv(out / "quzhou_access.csv")
    counties = gpd.read_file(QUZHOU / "counties.geojson")
    by_code = counties.set_index(counties["adcode"].astype(int).astype(str))
    zones = table.drop(index="Quzhou")
    zones.index = zones.index.astype(str)
    assert list(zones.index) == list(by_code.index)
    # county column = the density baseline: modelled beds / census population x 1000, computed here
    np.testing.assert_allclose(zones["population"], by_code["pop_census2020"], rtol=1e-9)
    np.testing.assert_allclose(zones["beds_per_1000_county"],
                               by_code["beds_2020_modelled"] / by_code["pop_census2020"] * 1000, rtol=1e-9)
    region = table.loc["Quzhou"]
    assert region["population"] == pytest.approx(QUZHOU_CENSUS_TOTAL, rel=1e-9)  # a sum of spread cells
    beds = float(counties["beds_2020_modelled"].sum())
    assert region["beds_modelled"] == beds
    # catchments partition the people within the hour; everyone else has no hospital within the hour
    # (people are whole numbers in the CSV: each row rounded to the nearest person, so sums agree to n x 0.5)
    assert zones["catchment_population"].sum() == pytest.approx(region["catchment_population"],
                                                                abs=0.5 * len(zones))
    assert region["catchment_population"] + region["population_no_hospital"] == pytest.approx(QUZHOU_CENSUS_TOTAL,
                                                                                               abs=1.0)
    np.testing.assert_allclose(zones["beds_per_1000_catchment"],
                               zones["beds_modelled"] / zones["catchment_population"] * 1000,
                               rtol=0.5 / zones["catchment_population"].min() + 1e-9)
    # conservation of E2SFCA: the city's population-weighted score is beds / people in reach — the same number
    # as the whole city's catchment rate (two different algorithms, one identity)
    in_reach = QUZHOU_CENSUS_TOTAL - region["population_no_hospital"]     # to the nearest person in the CSV
    expected, rel = beds / in_reach * 1000, 0.5 / in_reach + 1e-9
    assert region["beds_per_1000_e2sfca"] == pytest.approx(expected, rel=rel)
    assert region["beds_per_1000_catchment"] == pytest.approx(expected, rel=rel)
    # the point of the comparison: the three readings differ by county
    assert zones["beds_per_1000_e2sfca"].std() > 0.3 and zones["beds_per_1000_catchment"].std() > 0.1
    assert any(n.startswith("MODELLED hospitals") for n in csv_notes(out / "quzhou_access.csv"))
    assert "county vs catchment vs E2SFCA" in printed and "MODELLED" in printed
    import fiona
    layers = set(fiona.listlayers(out / "quzhou_access.gpkg"))
    assert {"counties_beds_per_1000_compared", "hospital_catchments", "hospitals_modelled", "notes"} <= layers
    from careshed.io.qgis_styles import read_layer_styles
    assert set(read_layer_styles(out / "quzhou_access.gpkg")) == {"counties_beds_per_1000_compared",
                                                                  "hospital_catchments", "hospitals_modelled"}
    assert (out / "quzhou_access.png").read_bytes()[:4] == b"\x89PNG"


def test_demo_finds_installed_style_data_dir(tmp_path, monkeypatch, quzhou_dir):
    import shutil

    from careshed import demo
    copy = tmp_path / "d" / "quzhou"
    shutil.copytree(quzhou_dir, copy)
    monkeypatch.setenv("CARESHED_DATA_DIR", str(tmp_path / "d"))
    assert demo.find_data_dir("quzhou") == copy
    monkeypatch.setenv("CARESHED_DATA_DIR", str(tmp_path / "nowhere"))
    assert demo.find_data_dir("quzhou") != tmp_path / "nowhere" / "quzhou"
    with pytest.raises(careshed.DataIOError, match="cannot find the atlantis example data"):
        demo.find_data_dir("atlantis")


def test_demo_walking_hospital_plan(demo_run):
    """The outreach part of the demo: a walking-hospital-sized plan (6 teams, 18 points, 13 days of 8 h, monthly
    visits) on MODELLED inputs, checked from the files it wrote."""
    import ast

    import pandas as pd

    out, printed = demo_run
    routes = pd.read_csv(out / "quzhou_outreach_routes.csv", comment="#")
    teams = pd.read_csv(out / "quzhou_outreach_teams.csv", comment="#", index_col=0)
    points = pd.read_csv(out / "quzhou_outreach_points.csv", comment="#", index_col=0)
    assert len(teams) == 6 and (teams["days_available"] == 13).all() and (teams["days_used"] <= 13).all()
    chosen = points[points["chosen"]]
    assert 1 <= len(chosen) <= 18  # at most 18: a point adding nobody of the gap is not chosen
    assert (routes["duration_minutes"] <= 8 * 60 + 1e-6).all()
    assert routes["duration_minutes"].to_numpy() == pytest.approx(
        (routes["travel_minutes"] + routes["service_minutes"]).to_numpy())
    visited = [p for pts in routes["points"] for p in ast.literal_eval(pts)]
    assert sorted(visited) == sorted(chosen.index)  # each chosen point once a month
    table = read_csv(out / "quzhou_outreach.csv")
    assert table.loc["Quzhou", "effective"] >= table.loc["Quzhou", "fixed"]
    assert table.loc["Quzhou", "reached"] == pytest.approx(chosen["people_reached"].sum(), abs=len(chosen))  # whole people
    assert "walking-hospital" in printed and "MODELLED" in printed
    assert any("MODELLED" in line for line in csv_notes(out / "quzhou_outreach.csv"))


def test_demo_ambulance_placement(demo_run):
    """The ambulance placement (MEXCLP on MODELLED inputs), checked from the files it wrote: the plan's target
    ceil(people / 30,000) vehicles in all, the existing fleet kept at the six county seats, the chosen sites,
    coverage before/after per county, the marginal-gain curve and a solver report whose bound holds."""
    import pandas as pd

    out, printed = demo_run
    table = read_csv(out / "quzhou_ambulances.csv")
    sites = pd.read_csv(out / "quzhou_ambulances_sites.csv", index_col=0)
    curve = pd.read_csv(out / "quzhou_ambulances_curve.csv", index_col=0)
    report = pd.read_csv(out / "quzhou_ambulances_report.csv", index_col=0).loc["mexclp"]
    people = table.loc["Quzhou", "population"]
    assert people == pytest.approx(QUZHOU_CENSUS_TOTAL, abs=1)
    assert sites["vehicles"].sum() == report["p"] == np.ceil(people / 30000)  # 76 for 2,276,184 residents
    existing = sites[sites["source"] == "existing"]
    assert len(existing) == 6 and existing["open"].all() and (existing["vehicles"] >= 2).all()
    assert report["existing_vehicles"] == 12
    assert sites["open"].sum() == (sites["vehicles"] > 0).sum() and (sites["vehicles"] <= 4).all()
    # every county gains, none loses; the region row is the sum of the counties
    counties = table.drop(index="Quzhou")
    assert (counties["covered_after"] >= counties["covered_before"] - 1).all()
    assert table.loc["Quzhou", "covered_after"] == pytest.approx(counties["covered_after"].sum(), abs=len(counties))
    # the curve: one row per added vehicle, gains positive and summing to the objective's rise from the kept fleet
    assert len(curve) == report["p"] - report["existing_vehicles"] and (curve["gain"] > 0).all()
    assert curve["objective"].iloc[-1] == pytest.approx(report["objective"], rel=1e-9)
    # the report: a bound on the right side, the gap it proves
    assert report["bound"] >= report["objective"] and 0 <= report["gap"] < 0.01
    assert report["gap"] == pytest.approx((report["bound"] - report["objective"]) / report["objective"], rel=1e-6)
    assert "ambulances" in printed and "gap" in printed and "MODELLED" in printed
    assert any("MODELLED" in line for line in csv_notes(out / "quzhou_ambulances.csv"))
