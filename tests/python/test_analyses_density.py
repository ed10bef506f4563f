"""careshed.resource_density / compare_density: hand-worked numbers, Quzhou totals, scenarios,
unassigned facilities, and every bad input of issue 2.

Expected numbers come from the layout drawn in conftest.py, worked by hand:

  beds:        A = f1+f2+f4+f5 = 10+5+4+1 = 20, B = f3 = 20, C = f6 = 30, region = 70 (f7 is outside)
  physicians:  A = 3+1 = 4, B = 10, C = 12, region 26
  ambulances:  A = 1 (f2), B = 0, C = 1 (f6), region 2
  population:  A 2000, B 5000, C 12000, region 19000
  beds per 1000: A 20/2 = 10, B 20/5 = 4, C 30/12 = 2.5, region 70/19 = 3.6842105
  shortfall vs 7.8/1000 (whole beds, ceil): A 15.6-20 < 0 -> 0; B 39-20 = 19; C 93.6-30 = 63.6 -> 64;
      region 148.2-70 = 78.2 -> 79 (the sum of the zones' shortfalls is 83: A's surplus offsets)
  physicians vs 4.0/1000: A 8-4 = 4, B 20-10 = 10, C 48-12 = 36, region 76-26 = 50
  ambulances per 30,000 vs 1: rates A 15, B 0, C 2.5, region 2/19000*30000 = 3.1578947;
      shortfall A 0.067-1 -> 0, B 0.167-0 -> 1, C 0.4-1 -> 0, region 0.633-2 -> 0
"""
from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

import careshed
from careshed import Facilities, UnassignedFacilitiesWarning
from conftest import QUZHOU_CENSUS_TOTAL, polygon_feature, square, write_geojson

RES = {"beds": "beds", "physicians": "physicians", "ambulances": "ambulances"}
TARGETS = {"beds": 7.8, "physicians": 4.0, "ambulances": 1}


def hand_density(case, **kw):
    args = dict(zone_id="zone", population="pop", resources=RES, targets=TARGETS, x="x", y="y",
                crs="EPSG:32631", name_field="fid")
    args.update(kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnassignedFacilitiesWarning)
        return careshed.resource_density(case["zones"], case["facilities"], **args)


# ---- the hand-made case ---------------------------------------------------------------------------

def test_hand_case_every_column(hand_case):
    t = hand_density(hand_case)
    assert list(t.index) == [1, 2, 3, "region"]
    assert t.index.name == "zone"
    expected_cols = ["population",
                     "beds", "beds_per_1000", "beds_target", "beds_shortfall",
                     "physicians", "physicians_per_1000", "physicians_target", "physicians_shortfall",
                     "ambulances", "ambulances_per_30000", "ambulances_target", "ambulances_shortfall"]
    assert list(t.columns) == expected_cols
    assert t["population"].tolist() == [2000, 5000, 12000, 19000]
    assert t["beds"].tolist() == [20, 20, 30, 70]
    assert t["physicians"].tolist() == [4, 10, 12, 26]
    assert t["ambulances"].tolist() == [1, 0, 1, 2]
    np.testing.assert_allclose(t["beds_per_1000"], [10.0, 4.0, 2.5, 70 / 19], rtol=1e-12)
    np.testing.assert_allclose(t["physicians_per_1000"], [2.0, 2.0, 1.0, 26 / 19], rtol=1e-12)
    np.testing.assert_allclose(t["ambulances_per_30000"], [15.0, 0.0, 2.5, 2 / 19000 * 30000], rtol=1e-12)
    assert t["beds_target"].tolist() == [7.8] * 4
    assert t["beds_shortfall"].tolist() == [0, 19, 64, 79]
    assert t["physicians_shortfall"].tolist() == [4, 10, 36, 50]
    assert t["ambulances_shortfall"].tolist() == [0, 1, 0, 0]
    assert t.attrs["shortfall_sum_of_zones"] == {"beds": 83, "physicians": 50, "ambulances": 1}


def test_no_target_gives_nan_target_and_shortfall(hand_case):
    t = hand_density(hand_case, targets={"beds": 7.8})
    assert t["physicians_target"].isna().all() and t["physicians_shortfall"].isna().all()
    assert t["beds_shortfall"].tolist() == [0, 19, 64, 79]


def test_boundary_points_go_to_the_lowest_zone_index(hand_case, tmp_path):
    # Same zones listed B, C, A: f4 (A|B edge) now goes to B (index 0), f5 (A/B/C corner) to B too.
    from conftest import ZONES
    order = [ZONES[1], ZONES[2], ZONES[0]]
    zones = write_geojson(tmp_path / "reordered.geojson", [
        polygon_feature({"zone": z, "name": n, "pop": p}, square(*box)) for z, n, p, _, box in order],
        crs_epsg=32631)
    t = hand_density({"zones": zones, "facilities": hand_case["facilities"]}, resources={"beds": "beds"},
                     targets=None)
    assert list(t.index) == [2, 3, 1, "region"]
    # B = f3 + f4 + f5 = 20 + 4 + 1; A = f1 + f2 = 15; C = f6 = 30
    assert t["beds"].tolist() == [25, 30, 15, 70]


def test_unassigned_facility_is_warned_and_listed(hand_case):
    with pytest.warns(UnassignedFacilitiesWarning, match=r"row 7 \(f7\): outside every zone"):
        t = careshed.resource_density(hand_case["zones"], hand_case["facilities"], zone_id="zone",
                                      population="pop", resources=["beds"], x="x", y="y",
                                      crs="EPSG:32631", name_field="fid")
    un = t.attrs["unassigned"]
    assert len(un) == 1
    row = un.iloc[0]
    assert row["row"] == 7 and row["name"] == "f7" and row["reason"] == "outside every zone"
    assert row["beds"] == 7 and row["x"] == 510000 and row["y"] == 1000500
    assert str(hand_case["facilities"]) in row["source"]
    assert t.loc["region", "beds"] == 70  # not counted by default
    assert any("not assigned" in n for n in t.attrs["notes"])


def test_unassigned_can_count_in_region_row(hand_case):
    t = hand_density(hand_case, unassigned_in_region=True)
    assert t["beds"].tolist() == [20, 20, 30, 77]            # region = 70 + f7's 7
    assert t.loc["region", "beds_shortfall"] == 72           # ceil(148.2 - 77) = 72 (71.2 -> 72)
    assert t.loc["region", "beds_per_1000"] == pytest.approx(77 / 19)
    assert t.loc[3, "beds_shortfall"] == 64                  # zones unchanged


def test_zone_attribute_table_matches_point_counting(hand_case):
    from_zones = careshed.resource_density(hand_case["zones"], zone_id="zone", population="pop",
                                           resources={"beds": "beds_2020"}, targets={"beds": 7.8})
    from_points = hand_density(hand_case, resources=["beds"], targets={"beds": 7.8})
    pd.testing.assert_frame_equal(from_zones, from_points, check_like=False)
    assert from_zones.attrs["unassigned"].empty


def test_resources_spelled_three_ways(hand_case):
    a = careshed.resource_density(hand_case["zones"], zone_id="zone", population="pop",
                                  resources={"beds": "beds_2020"})
    b = careshed.resource_density(hand_case["zones"], zone_id="zone", population="pop",
                                  resources=["beds=beds_2020"])
    c = careshed.resource_density(hand_case["zones"], zone_id="zone", population="pop",
                                  resources=["beds_2020"])
    pd.testing.assert_frame_equal(a, b)
    assert c["beds_2020"].tolist() == a["beds"].tolist()
    assert "beds_2020_per_1000" in c.columns  # unknown resource name: per 1000


def test_default_per_and_column_names(hand_case):
    t = careshed.resource_density(
        hand_case["zones"], zone_id="zone", population="pop",
        resources={"beds": "pop", "physicians": "pop", "nurses": "pop", "general_practitioners": "pop",
                   "ambulances": "pop", "cots": "pop"})
    for col in ["beds_per_1000", "physicians_per_1000", "nurses_per_1000",
                "general_practitioners_per_10000", "ambulances_per_30000", "cots_per_1000"]:
        assert col in t.columns
    # amount == population, so each rate is exactly its per-N
    assert t["general_practitioners_per_10000"].tolist() == [10000.0] * 4
    assert careshed.DEFAULT_PER == {"beds": 1000, "physicians": 1000, "nurses": 1000,
                                    "general_practitioners": 10000, "ambulances": 30000}
    t2 = careshed.resource_density(hand_case["zones"], zone_id="zone", population="pop",
                                   resources={"beds": "beds_2020"}, per={"beds": 10000})
    np.testing.assert_allclose(t2["beds_per_10000"], [100.0, 40.0, 25.0, 700 / 19])


def test_already_loaded_objects(hand_case):
    zones = careshed.read_vector(hand_case["zones"])
    fac = careshed.read_vector(hand_case["facilities"], x="x", y="y", crs="EPSG:32631")
    with pytest.warns(UnassignedFacilitiesWarning):
        t = careshed.resource_density(zones, fac, zone_id="zone", population="pop", resources=["beds"])
    assert t["beds"].tolist() == [20, 20, 30, 70]


def test_geographic_zones_and_points_quzhou_county_seats(quzhou_dir):
    # Each county seat lies in its own county, so summing the seat's county code per county returns the
    # code itself: an independent check of lon/lat input reprojected to UTM and point-in-polygon.
    t = careshed.resource_density(quzhou_dir / "counties.geojson", quzhou_dir / "county_seats.csv",
                                  zone_id="adcode", population="pop_census2020",
                                  resources={"code_sum": "county_adcode"}, x="lon", y="lat", crs="EPSG:4326")
    assert t.attrs["unassigned"].empty
    zones = t.drop(index="region")
    assert zones["code_sum"].tolist() == [int(i) for i in zones.index]


# ---- scenario ------------------------------------------------------------------------------------

@pytest.fixture
def hand_projects(tmp_path):
    p = tmp_path / "projects.csv"
    p.write_text("name,zone_code,new_beds\n"
                 "B hospital,2,20\n"
                 "C hospital,3,64\n"
                 "C clinic,3,\n"            # no beds: adds 0
                 "elsewhere,99,5\n"         # unknown zone id -> unassigned
                 "site TBD,,3\n", encoding="utf-8")   # no zone id -> unassigned
    return p


def test_scenario_added_on_top_of_baseline(hand_case, hand_projects):
    add = Facilities(hand_projects, resources={"beds": "new_beds"}, zone_id="zone_code")
    with pytest.warns(UnassignedFacilitiesWarning) as rec:
        t = careshed.resource_density(hand_case["zones"], zone_id="zone", population="pop",
                                      resources={"beds": "beds_2020"}, targets={"beds": 7.8}, add=add)
    text = " ".join(str(w.message) for w in rec)
    assert "row 4 (elsewhere): unknown zone id 99" in text and "row 5 (site TBD): no zone_code" in text
    # B 20+20 = 40 -> 8.0/1000, shortfall ceil(39-40) -> 0; C 30+64 = 94 -> 7.8333, ceil(93.6-94) -> 0
    assert t["beds"].tolist() == [20, 40, 94, 154]
    np.testing.assert_allclose(t["beds_per_1000"], [10.0, 8.0, 94 / 12, 154 / 19])
    assert t["beds_shortfall"].tolist() == [0, 0, 0, 0]
    un = t.attrs["unassigned"]
    assert un["row"].tolist() == [4, 5] and un["beds"].tolist() == [5, 3]
    assert un["reason"].tolist() == ["unknown zone id 99 in zone_code", "no zone_code"]
    assert any("counted as 0 beds" in n for n in t.attrs["notes"])


def test_compare_density_side_by_side(hand_case, hand_projects):
    add = Facilities(hand_projects, resources={"beds": "new_beds"}, zone_id="zone_code")
    with pytest.warns(UnassignedFacilitiesWarning):
        c = careshed.compare_density(hand_case["zones"], zone_id="zone", population="pop",
                                     resources={"beds": "beds_2020"}, targets={"beds": 7.8}, add=add,
                                     unassigned_in_region=True)
    assert c["beds_baseline"].tolist() == [20, 20, 30, 70]
    assert c["beds_added"].tolist() == [0, 20, 64, 92]          # region 84 + 8 unassigned
    assert c["beds_projected"].tolist() == [20, 40, 94, 162]
    assert c["beds_shortfall_baseline"].tolist() == [0, 19, 64, 79]
    assert c["beds_shortfall_projected"].tolist() == [0, 0, 0, 0]
    np.testing.assert_allclose(c["beds_per_1000_projected"], [10.0, 8.0, 94 / 12, 162 / 19])
    assert c.attrs["baseline"]["beds"].tolist() == [20, 20, 30, 70]
    assert len(c.attrs["unassigned"]) == 2


# ---- Quzhou --------------------------------------------------------------------------------------

def test_quzhou_census_total_and_modelled_baseline(quzhou_dir):
    t = careshed.resource_density(quzhou_dir / "counties.geojson", zone_id="adcode",
                                  population="pop_census2020", resources={"beds": "beds_2020_modelled"},
                                  targets={"beds": 7.8}, modelled={"beds": "city-wide 6.39/1000"})
    assert t.loc["region", "population"] == QUZHOU_CENSUS_TOTAL
    assert len(t) == 7
    census = pd.read_csv(quzhou_dir / "census2020_population.csv")
    assert t.drop(index="region")["population"].to_dict() == dict(zip(census["CODE"], census["POPU"]))
    # modelled beds: 6.39 per 1000 rounded to whole beds -> every county within half a bed of 6.39
    counties = t.drop(index="region")
    half_bed_rate = 0.5 / counties["population"] * 1000
    assert ((counties["beds_per_1000"] - 6.39).abs() <= half_bed_rate + 1e-12).all()
    # data/quzhou/README.md: 14,544 modelled beds; re-summed here from the GeoJSON text itself (json, not OGR)
    features = json.loads((quzhou_dir / "counties.geojson").read_text(encoding="utf-8"))["features"]
    assert sum(f["properties"]["beds_2020_modelled"] for f in features) == 14544
    assert t.loc["region", "beds"] == 14544
    assert t.loc["region", "beds_shortfall"] == math.ceil(7.8 * QUZHOU_CENSUS_TOTAL / 1000 - 14544)
    assert t.attrs["notes"][0].startswith("MODELLED beds")


def test_quzhou_projection_matches_an_independent_groupby(quzhou_dir):
    projects = pd.read_csv(quzhou_dir / "plan_2021_2025_projects.csv")
    counted = projects[projects["beds_include_existing"] == "no"]
    by_county = counted.groupby("county_adcode")["beds_new_min"].sum()
    tbd = counted[counted["county_adcode"].isna()]
    with pytest.warns(UnassignedFacilitiesWarning, match="衢州市医学应急救援中心"):
        c = careshed.compare_density(
            quzhou_dir / "counties.geojson", zone_id="adcode", population="pop_census2020",
            resources={"beds": "beds_2020_modelled"}, targets={"beds": 7.8},
            add=Facilities(counted, resources={"beds": "beds_new_min"}, zone_id="county_adcode"),
            unassigned_in_region=True)
    for code, added in c["beds_added"].drop(index="region").items():
        assert added == by_county.get(float(code), 0), code
    assert c.loc["region", "beds_added"] == counted["beds_new_min"].sum()
    assert set(c.attrs["unassigned"]["row"]) == {25, 26, 28}
    assert c.attrs["unassigned"]["beds"].sum() == tbd["beds_new_min"].fillna(0).sum() == 1210


# ---- notes / modelled labels ---------------------------------------------------------------------

def test_notes_written_to_the_sidecar(hand_case, tmp_path):
    t = careshed.resource_density(hand_case["zones"], zone_id="zone", population="pop",
                                  resources={"beds": "beds_2020"}, modelled={"beds": "made up for a test"},
                                  notes="a second note")
    out = careshed.write_table(t, tmp_path / "t.csv")
    lines = (tmp_path / "t.notes.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "MODELLED beds: made up for a test"
    assert lines[1] == "a second note"
    back = pd.read_csv(out, index_col=0)
    assert back["beds"].tolist() == [20, 20, 30, 70]
    assert not list(tmp_path.glob(".t.csv.tmp*"))


# ---- bad input -----------------------------------------------------------------------------------

def _both(exc_careshed, exc_builtin):
    return exc_careshed, exc_builtin


def test_missing_zones_file(tmp_path):
    missing = tmp_path / "nope.geojson"
    for cls in (careshed.DataIOError, OSError):
        with pytest.raises(cls, match="nope.geojson"):
            careshed.resource_density(missing, zone_id="z", population="p", resources=["beds"])


def test_missing_facilities_file(hand_case, tmp_path):
    for cls in (careshed.DataIOError, OSError):
        with pytest.raises(cls, match="hospitals.gpkg"):
            careshed.resource_density(hand_case["zones"], tmp_path / "hospitals.gpkg", zone_id="zone",
                                      population="pop", resources=["beds"])


@pytest.mark.parametrize("kw, field", [
    (dict(zone_id="code", population="pop", resources={"beds": "beds_2020"}), "code"),
    (dict(zone_id="zone", population="population", resources={"beds": "beds_2020"}), "population"),
    (dict(zone_id="zone", population="pop", resources={"beds": "hospital_beds"}), "hospital_beds"),
])
def test_missing_zone_field(hand_case, kw, field):
    for cls in (careshed.InputError, ValueError):
        with pytest.raises(cls, match=rf"zones.geojson.*'{field}'.*available fields: .*pop"):
            careshed.resource_density(hand_case["zones"], **kw)


def test_missing_facility_field(hand_case):
    for cls in (careshed.InputError, ValueError):
        with pytest.raises(cls, match=r"facilities.csv.*'nurses'"):
            hand_density(hand_case, resources=["nurses"], targets=None)


def test_missing_layer(hand_case, tmp_path):
    for cls in (careshed.InputError, ValueError):
        with pytest.raises(cls, match=r"zones.geojson.*no_such_layer.*available layers"):
            careshed.resource_density(hand_case["zones"], zone_id="zone", population="pop",
                                      resources={"beds": "beds_2020"}, zones_layer="no_such_layer")


def _zones_with(tmp_path, props_per_zone, name="z.geojson"):
    from conftest import ZONES
    feats = [polygon_feature(props, square(*box)) for props, (_, _, _, _, box) in zip(props_per_zone, ZONES)]
    return write_geojson(tmp_path / name, feats, crs_epsg=32631)


@pytest.mark.parametrize("bad", [None, 0, -5, "many"])
def test_zone_without_population(tmp_path, bad):
    zones = _zones_with(tmp_path, [{"zone": 1, "pop": 100}, {"zone": 2, "pop": bad}, {"zone": 3, "pop": 9}])
    for cls in (careshed.InputError, ValueError):
        with pytest.raises(cls, match=r"z.geojson.*'pop'.*row 2.*zone 2"):
            careshed.resource_density(zones, zone_id="zone", population="pop", resources=["pop"])


def test_duplicate_zone_ids(tmp_path):
    zones = _zones_with(tmp_path, [{"zone": 7, "pop": 1}, {"zone": 8, "pop": 1}, {"zone": 7, "pop": 1}])
    for cls in (careshed.InputError, ValueError):
        with pytest.raises(cls, match=r"z.geojson.*duplicate zone id 7.*rows 1 and 3"):
            careshed.resource_density(zones, zone_id="zone", population="pop", resources=["pop"])


def test_empty_zone_id(tmp_path):
    zones = _zones_with(tmp_path, [{"zone": 7, "pop": 1}, {"zone": None, "pop": 1}, {"zone": 9, "pop": 1}])
    with pytest.raises(careshed.InputError, match=r"'zone'.*row 2 is empty"):
        careshed.resource_density(zones, zone_id="zone", population="pop", resources=["pop"])


def test_non_numeric_facility_resource(hand_case, tmp_path):
    fac = tmp_path / "bad_fac.csv"
    fac.write_text("x,y,beds\n500500,1000500,10\n501500,1000500,ten\n", encoding="utf-8")
    for cls in (careshed.InputError, ValueError):
        with pytest.raises(cls, match=r"bad_fac.csv.*'beds'.*row 2.*'ten'"):
            careshed.resource_density(hand_case["zones"], fac, zone_id="zone", population="pop",
                                      resources=["beds"], x="x", y="y", crs="EPSG:32631")


def test_non_numeric_or_empty_zone_resource(tmp_path):
    zones = _zones_with(tmp_path, [{"zone": 1, "pop": 5, "beds": 3}, {"zone": 2, "pop": 5, "beds": "lots"},
                                   {"zone": 3, "pop": 5, "beds": 1}])
    with pytest.raises(ValueError, match=r"'beds'.*row 2 \(zone 2\).*'lots' is not a number"):
        careshed.resource_density(zones, zone_id="zone", population="pop", resources=["beds"])
    zones = _zones_with(tmp_path, [{"zone": 1, "pop": 5, "beds": 3}, {"zone": 2, "pop": 5, "beds": None},
                                   {"zone": 3, "pop": 5, "beds": 1}], name="z2.geojson")
    with pytest.raises(careshed.InputError, match=r"z2.geojson.*'beds'.*row 2 \(zone 2\) is empty"):
        careshed.resource_density(zones, zone_id="zone", population="pop", resources=["beds"])


def test_negative_resource(tmp_path):
    zones = _zones_with(tmp_path, [{"zone": 1, "pop": 5, "beds": 3}, {"zone": 2, "pop": 5, "beds": -1},
                                   {"zone": 3, "pop": 5, "beds": 1}])
    with pytest.raises(careshed.InputError, match=r"'beds'.*row 2.*>= 0"):
        careshed.resource_density(zones, zone_id="zone", population="pop", resources=["beds"])


def test_csv_facilities_without_crs(hand_case):
    for cls in (careshed.CRSError, ValueError):
        with pytest.raises(cls, match=r"facilities.csv.*crs="):
            careshed.resource_density(hand_case["zones"], hand_case["facilities"], zone_id="zone",
                                      population="pop", resources=["beds"], x="x", y="y")


def test_metres_in_a_geojson(tmp_path):
    # A GeoJSON without "crs" member is lon/lat by its standard: UTM metres cannot be right.
    from conftest import ZONES
    zones = write_geojson(tmp_path / "metres.geojson", [
        polygon_feature({"zone": z, "pop": p}, square(*box)) for z, _, p, _, box in ZONES])
    for cls in (careshed.CRSError, ValueError):
        with pytest.raises(cls, match="metres.geojson"):
            careshed.resource_density(zones, zone_id="zone", population="pop", resources=["pop"])


def test_invalid_polygon_named(hand_case, tmp_path):
    bowtie = [[[500000, 1000000], [501000, 1001000], [501000, 1000000], [500000, 1001000],
               [500000, 1000000]]]
    zones = write_geojson(tmp_path / "bowtie.geojson", [
        polygon_feature({"zone": "ok", "pop": 10}, square(501000, 1000000, 502000, 1001000)),
        polygon_feature({"zone": "twisted", "pop": 10}, bowtie)], crs_epsg=32631)
    for cls in (careshed.InputError, ValueError):
        with pytest.raises(cls, match=r"bowtie.geojson: 1 invalid polygon.*zone 'twisted' \(row 2\)"):
            careshed.resource_density(zones, hand_case["facilities"], zone_id="zone", population="pop",
                                      resources=["beds"], x="x", y="y", crs="EPSG:32631")


def test_facility_table_without_zone_field(hand_case, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("name,beds\nx,1\n", encoding="utf-8")
    with pytest.raises(careshed.InputError, match=r"t.csv.*no point geometry and no zone-id field 'zone'"):
        careshed.resource_density(hand_case["zones"], table, zone_id="zone", population="pop",
                                  resources=["beds"])


@pytest.mark.parametrize("kw, match", [
    (dict(targets={"cots": 1.0}), r"targets: 'cots' is not one of the resources"),
    (dict(targets={"beds": "high"}), r"targets: value for 'beds' must be a number"),
    (dict(targets={"beds": -1}), r"targets: 'beds' must be a rate >= 0"),
    (dict(per={"beds": 0}), r"per: 'beds' must be a number of residents > 0"),
    (dict(resources={}), r"resources: name at least one resource"),
    (dict(resources=["beds per 1000"]), r"resource name 'beds per 1000' must be a plain name"),
    (dict(region_label=2), r"a zone id equals the region row's label 2"),
])
def test_bad_arguments(hand_case, kw, match):
    args = dict(zone_id="zone", population="pop", resources={"beds": "beds_2020"})
    args.update(kw)
    for cls in (careshed.InputError, ValueError):
        with pytest.raises(cls, match=match):
            careshed.resource_density(hand_case["zones"], **args)


def test_facilities_in_another_crs_and_as_polygons(quzhou_dir):
    # County seats reprojected to Web Mercator (zones stay lon/lat), and as 200 m squares around each seat:
    # both must land in the seat's own county (summed codes == zone ids), through the UTM metric CRS.
    import geopandas as gpd

    seats = careshed.read_vector(quzhou_dir / "county_seats.csv", x="lon", y="lat", crs="EPSG:4326")
    merc = seats.to_crs("EPSG:3857")
    squares = gpd.GeoDataFrame(merc.drop(columns="geometry"), geometry=merc.buffer(100, cap_style=3),
                               crs="EPSG:3857")
    for fac in (merc, squares):
        t = careshed.resource_density(quzhou_dir / "counties.geojson", fac, zone_id="adcode",
                                      population="pop_census2020", resources={"codes": "county_adcode"})
        zones = t.drop(index="region")
        assert zones["codes"].tolist() == [int(c) for c in zones.index]
    assert any("representative point" in n for n in t.attrs["notes"])


def test_invalid_polygon_refused_even_for_zone_table_counts(tmp_path):
    bowtie = [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]
    zones = write_geojson(tmp_path / "bow.geojson", [
        polygon_feature({"zone": "a", "pop": 10, "beds": 1}, square(2, 2, 3, 3)),
        polygon_feature({"zone": "b", "pop": 10, "beds": 1}, bowtie)])
    with pytest.raises(careshed.InputError, match=r"bow.geojson: 1 invalid polygon.*zone 'b' \(row 2\)"):
        careshed.resource_density(zones, zone_id="zone", population="pop", resources=["beds"])


def test_zones_as_a_plain_census_table_with_a_facility_table(quzhou_dir):
    # Zones without polygons (the census CSV), facilities placed by their county code column.
    projects = pd.read_csv(quzhou_dir / "plan_2021_2025_projects.csv")
    expected = projects.groupby("county_adcode")["beds_new_max"].sum()
    with pytest.warns(UnassignedFacilitiesWarning):
        t = careshed.resource_density(quzhou_dir / "census2020_population.csv",
                                      quzhou_dir / "plan_2021_2025_projects.csv", zone_id="CODE",
                                      population="POPU", resources={"beds": "beds_new_max"},
                                      facility_zone_id="county_adcode")
    assert t.loc["region", "population"] == QUZHOU_CENSUS_TOTAL
    for code, beds in t["beds"].drop(index="region").items():
        assert beds == expected.get(float(code), 0)
    # points cannot be placed in zones without polygons: a clear error, not a silent zero
    with pytest.raises(careshed.InputError, match="census2020_population.csv: the zones have no polygons"):
        careshed.resource_density(quzhou_dir / "census2020_population.csv", quzhou_dir / "county_seats.csv",
                                  zone_id="CODE", population="POPU", resources={"n": "county_adcode"},
                                  x="lon", y="lat", crs="EPSG:4326")


def test_study_density_is_resource_density_on_the_studys_zones(tmp_path):
    from strip_case import strip_study

    study = strip_study()
    study.frame["beds"] = [6.0, 9.0]
    d = study.density(resources="beds", targets={"beds": 5})
    assert isinstance(d, careshed.Density)
    # A: 6 beds / 1500 people = 4 per 1000 (target 5: 7.5 -> 2 beds short); B: 9 / 3000 = 3 (15 - 9 = 6 short)
    assert d.table["beds_per_1000"].tolist() == pytest.approx([4.0, 3.0, 15 / 4.5])
    assert d.table["beds_shortfall"].tolist() == [2, 6, 8]
    assert list(d.table.index) == ["A", "B", "region"] and "name" in d.table.columns
    painted = d.rasters["beds_per_1000"]
    assert painted[0, 0] == pytest.approx(4.0) and painted[0, 9] == pytest.approx(3.0)
    assert "beds_per_1000 3.33 (target 5, 8 short)" in d.summary()
    study.population_field = None      # as for a study whose people come from a population raster only
    with pytest.raises(careshed.InputError, match="no zone population field"):
        study.density(resources="beds")
