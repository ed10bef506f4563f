"""careshed.io.qgis_styles: default QGIS styles in a GeoPackage's layer_styles table (QML + SLD) and QML sidecars
of rasters — the table's form, where class bounds go, colours of neighbours, and what real QGIS 3.22 reads."""
from __future__ import annotations

import math
import sqlite3
import xml.etree.ElementTree as ET

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from careshed.errors import InputError
from careshed.io import qgis_styles as qs
from careshed.io.vector import write_layers
from qgis_case import run_qgis, saved_results

OGC = "{http://www.opengis.net/ogc}"
SE = "{http://www.opengis.net/se}"


def squares(n=3):
    return gpd.GeoDataFrame({"zone": [f"z{i}" for i in range(n * n)],
                             "covered_share": [i / (n * n - 1) for i in range(n * n)]},
                            geometry=[box(i % n, i // n, i % n + 1, i // n + 1) for i in range(n * n)],
                            crs="EPSG:32631")


def gpkg_with_style(path, style=None):
    pts = gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(0.5, 0.5)], crs="EPSG:32631")
    return write_layers(path, {"zones": squares(), "points": pts, "table": pd.DataFrame({"x": [1]})},
                        styles={"zones": style or qs.share_style("covered_share", 0.9),
                                "points": qs.facilities_style(["name"])})


# ---- the table ------------------------------------------------------------------------------------------------

def test_layer_styles_table_is_the_one_qgis_writes(tmp_path):
    path = gpkg_with_style(tmp_path / "s.gpkg")
    con = sqlite3.connect(path)
    info = con.execute("PRAGMA table_info(layer_styles)").fetchall()
    # names and declared types as QGIS 3.22 (through OGR) creates the table
    assert [(r[1], r[2]) for r in info] == [
        ("id", "INTEGER"), ("f_table_catalog", "TEXT(256)"), ("f_table_schema", "TEXT(256)"),
        ("f_table_name", "TEXT(256)"), ("f_geometry_column", "TEXT(256)"), ("styleName", "TEXT(30)"),
        ("styleQML", "TEXT"), ("styleSLD", "TEXT"), ("useAsDefault", "BOOLEAN"), ("description", "TEXT"),
        ("owner", "TEXT(30)"), ("ui", "TEXT(30)"), ("update_time", "DATETIME")]
    assert [r[1] for r in info][1:] == list(qs.LAYER_STYLES_COLUMNS)
    assert con.execute("SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'").fetchone() == \
        ("attributes",)
    geom = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
    rows = con.execute("SELECT f_table_catalog, f_table_schema, f_table_name, f_geometry_column, useAsDefault, "
                       "styleName, update_time FROM layer_styles ORDER BY id").fetchall()
    con.close()
    assert [r[:5] for r in rows] == [("", "", "zones", geom["zones"], 1), ("", "", "points", geom["points"], 1)]
    assert rows[0][5] == "covered share" and rows[0][6]          # QGIS's default timestamp filled in
    styles = qs.read_layer_styles(path)
    assert set(styles) == {"zones", "points"}
    ET.fromstring(styles["zones"]["styleSLD"].split("\n", 1)[1])


def test_a_new_default_demotes_the_old_one(tmp_path):
    path = gpkg_with_style(tmp_path / "s.gpkg")
    qs.write_layer_styles(path, {"zones": qs.outline_style(name="zones")})
    con = sqlite3.connect(path)
    rows = con.execute("SELECT styleName, useAsDefault FROM layer_styles WHERE f_table_name = 'zones' "
                       "ORDER BY id").fetchall()
    con.close()
    assert rows == [("covered share", 0), ("zones", 1)]
    assert qs.read_layer_styles(path)["zones"]["styleName"] == "zones"


def test_unknown_or_table_layers_are_refused_and_nothing_is_written(tmp_path):
    frame = {"zones": squares(), "table": pd.DataFrame({"x": [1]})}
    for bad in ("table", "nowhere"):
        with pytest.raises(InputError, match=f"no layer with geometry named '{bad}'.*zones"):
            write_layers(tmp_path / "s.gpkg", frame, styles={bad: qs.outline_style()})
        assert list(tmp_path.iterdir()) == []
    with pytest.raises(InputError, match=r"GeoPackage \(\.gpkg\)"):
        write_layers(tmp_path / "s.geojson", {"zones": squares()}, styles={"zones": qs.outline_style()})
    assert list(tmp_path.iterdir()) == []


def test_style_definitions_are_checked():
    with pytest.raises(InputError, match="geometry must be one of"):
        qs.LayerStyle("x", "area", "single", (qs.StyleClass("a", "#000000"),))
    with pytest.raises(InputError, match="needs the field"):
        qs.LayerStyle("x", "point", "graduated", (qs.StyleClass("a", "#000000", 0, 1),))
    with pytest.raises(InputError, match="target share"):
        qs.share_style("s", 1.5)
    with pytest.raises(InputError, match="as many colours"):
        qs.RasterStyle("r", (1.0, 2.0), ("#000000",), ("a",))
    with pytest.raises(InputError, match="positive threshold"):
        qs.travel_time_breaks([0, -3])


# ---- classes: bounds, colours ----------------------------------------------------------------------------------

def test_travel_time_breaks_by_hand():
    assert qs.travel_time_breaks([15, 11]) == [11.0, 15.0]
    assert qs.travel_time_breaks([11, 15], 14.0) == [11.0, 15.0]
    assert qs.travel_time_breaks([11, 15], 15.0) == [11.0, 15.0]           # inclusive: 15 is within 15
    assert qs.travel_time_breaks([11, 15], 40.0) == [11.0, 15.0, 30.0, 60.0]
    assert qs.travel_time_breaks([60], 200.0) == [60.0, 90.0, 120.0, 180.0, 240.0]
    wide = qs.travel_time_breaks([5], 10_000.0)
    assert len(wide) == 9 and wide[-1] == math.inf and wide[:3] == [5.0, 30.0, 60.0]


def _qgis_first_range(style, value):
    """QGIS's rule (QgsGraduatedSymbolRenderer::rangeForValue): the first listed range whose closed interval
    holds the value."""
    root = ET.fromstring(style.qml().split("\n", 1)[1])
    for r in root.iter("range"):
        if float(r.get("lower")) <= value <= float(r.get("upper")):
            return r.get("label")
    return None


def _sld_matches(style, value):
    """Labels of the SLD rules whose filter holds for `value` (an evaluator of the comparison filters used)."""
    ops = {"PropertyIsGreaterThanOrEqualTo": lambda a, b: a >= b, "PropertyIsGreaterThan": lambda a, b: a > b,
           "PropertyIsLessThanOrEqualTo": lambda a, b: a <= b, "PropertyIsLessThan": lambda a, b: a < b,
           "PropertyIsEqualTo": lambda a, b: a == b}
    root = ET.fromstring(style.sld("layer").split("\n", 1)[1])
    out = []
    for rule in root.iter(f"{SE}Rule"):
        filt = rule.find(f"{OGC}Filter")
        tests = [e for e in filt.iter() if e.tag.replace(OGC, "") in ops]
        if all(ops[e.tag.replace(OGC, "")](value, float(e.find(f"{OGC}Literal").text)) for e in tests):
            out.append(rule.find(f"{SE}Name").text)
    return out


def test_bounds_go_to_the_class_the_rule_says():
    share = qs.share_style("covered_share", 0.9)
    meets = "90 % or more (meets the target)"
    assert [c.label for c in share.classes][-1] == meets
    for value, label in [(0.9, meets), (1.0, meets), (0.8999, "75 % to 90 %"),
                         (0.75, "75 % to 90 %"), (0.5, "50 % to 75 %"), (0.0, "below 25 %"),
                         (0.2499, "below 25 %")]:
        assert _qgis_first_range(share, value) == label, value
        assert _sld_matches(share, value) == [label], value            # exactly one SLD rule
    bands = qs.travel_time_style("to_min", [11, 15, 30])
    for value, label in [(0.0, "within 11 min"), (11.0, "within 11 min"), (11.0001, "11–15 min"),
                         (15.0, "11–15 min"), (30.0, "15–30 min")]:
        assert _qgis_first_range(bands, value) == label, value
        assert _sld_matches(bands, value) == [label], value
    rate = qs.rate_style("beds_per_1000", [3.0, 9.0], 7.8)
    assert _qgis_first_range(rate, 7.8) == _sld_matches(rate, 7.8)[0] == "7.8 to 9.75 (meets the target)"
    assert _sld_matches(rate, 7.7999) == ["6.24 to 7.8 (below the target)"]
    quint = qs.rate_style("r", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    assert len(quint.classes) == 5 and all(len(_sld_matches(quint, v)) == 1 for v in range(1, 11))


def test_colours_are_colour_blind_safe_schemes_in_order():
    bands = qs.travel_time_style("m", [10, 20, 30])
    assert [c.colour for c in bands.classes] == ["#fde725", "#21918c", "#440154"]   # viridis 1, 0.5, 0: near = yellow
    assert [c.colour for c in qs.travel_time_style("m", [10]).classes] == ["#fde725"]
    # bands of a wider scale (the raster's) take that scale's colours: the same minutes, the same colour
    raster = qs.travel_time_raster_style([10, 20, 30])
    assert [c.colour for c in qs.travel_time_style("m", [10, 30], scale=raster.uppers).classes] == \
        [raster.colours[0], raster.colours[2]]
    assert set(c.colour for c in qs.share_style("s", 0.9).classes) <= {"#b35806", "#e08214", "#fdb863", "#fee0b6",
                                                                       "#542788"}
    cats = qs.category_style("f", ["a", "b", "a", "c"])
    assert [c.value for c in cats.classes] == ["a", "b", "c"]
    assert [c.colour for c in cats.classes] == list(qs.OKABE_ITO[:3])


def test_neighbouring_polygons_get_different_colours():
    grid = squares(4)
    colours = qs.neighbour_colours(list(grid.geometry))
    geoms = list(grid.geometry)
    for a in range(len(geoms)):
        for b in range(a + 1, len(geoms)):
            if geoms[a].intersects(geoms[b]):                      # shared edge or corner
                assert colours[a] != colours[b], (a, b)
    assert colours == qs.neighbour_colours(list(grid.geometry))    # deterministic
    assert set(colours) <= set(qs.OKABE_ITO)


def test_neighbour_colours_on_random_boxes_against_every_pair():
    """Random overlapping boxes (seed printed; CARESHED_TEST_SEED replays): two boxes that meet share a colour only
    when one of them had every palette colour among its neighbours (the greedy rule), checked on every pair."""
    import os

    import numpy as np

    seed = int(os.environ.get("CARESHED_TEST_SEED", np.random.SeedSequence().entropy % (2**32)))
    print(f"CARESHED_TEST_SEED={seed}")
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, size=(300, 2))
    size = rng.uniform(1, 9, size=(300, 2))
    geoms = [box(x, y, x + w, y + h) for (x, y), (w, h) in zip(xy, size)] + [None]
    colours = qs.neighbour_colours(geoms)
    assert colours[-1] in qs.OKABE_ITO
    degree = [sum(1 for b in geoms[:-1] if b is not a and a.intersects(b)) for a in geoms[:-1]]
    for i in range(300):
        for j in range(i + 1, 300):
            if geoms[i].intersects(geoms[j]) and colours[i] == colours[j]:
                assert max(degree[i], degree[j]) >= len(qs.OKABE_ITO), (seed, i, j)
    assert any(d >= 2 for d in degree)                  # the case has neighbours to tell apart


def test_facilities_by_level_or_kind():
    style = qs.facilities_style(["name", "level"], {"level": ["county", "township", "county", None]})
    assert style.kind == "categorized" and style.field == "level"
    assert [c.value for c in style.classes] == ["county", "township"]
    assert qs.facilities_style(["name"], {"name": ["a"]}).kind == "single"
    many = qs.facilities_style(["type"], {"type": [str(i) for i in range(20)]})
    assert many.kind == "single"                                   # too many kinds to tell apart


def test_raster_sidecar(tmp_path):
    style = qs.travel_time_raster_style([11, 15, math.inf])
    path = qs.write_raster_style(tmp_path / "m.qml", style)
    root = ET.fromstring(path.read_text(encoding="utf-8").split("\n", 1)[1])
    items = root.findall(".//colorrampshader/item")
    assert [i.get("value") for i in items] == ["11", "15", "inf"]
    assert [i.get("label") for i in items] == ["within 11 min", "11–15 min", "more than 15 min"]
    assert root.find(".//colorrampshader").get("colorRampType") == "DISCRETE"


# ---- real QGIS -------------------------------------------------------------------------------------------------

_RENDERER = {"single": "singleSymbol", "graduated": "graduatedSymbol", "categorized": "categorizedSymbol"}


def _qgis_job(saved: dict):
    """The QGIS job for every styled layer and raster of `saved` ({analysis: (result, {file: path})}), and what each
    should look like."""
    job = {"vectors": [], "slds": [], "rasters": [], "probes": []}
    expected, raster_styles = {}, {}
    for name, (result, files) in saved.items():
        gpkg = files[f"{result.default_prefix}.gpkg"]
        layers = result._layers()
        for layer, style in result._layer_styles(layers).items():
            job["vectors"].append([str(gpkg), layer])
            job["slds"].append([str(gpkg), layer])
            expected[f"{gpkg.name}:{layer}"] = (style, len(layers[layer]))
        for raster, style in result._raster_styles().items():
            tif = files[f"{result.default_prefix}_{raster}.tif"]
            job["rasters"].append(str(tif))
            raster_styles[tif.name] = style
    return job, expected, raster_styles


def _assert_drawn_as_styled(got: dict, expected: dict, raster_styles: dict) -> None:
    """QGIS drew each layer with its default style (renderer, field, classes' colours and labels; the SLD read back
    as rules) and each raster with its .qml (discrete classes, labels, colours)."""
    for key, (style, count) in expected.items():
        v = got["vectors"][key]
        assert v["valid"] and v["features"] == count, key
        assert v["type"] == _RENDERER[style.kind], key
        assert v.get("field") == style.field or style.kind == "single", key
        want = style._ordered_classes()
        assert [c["colour"] for c in v["classes"]] == [c.colour.lower() for c in want], key
        if style.kind != "single":
            assert [c["label"] for c in v["classes"]] == [c.label for c in want], key
        if style.order_by:
            assert v["order_by"].startswith(f'"{style.order_by[0]}" DESC'), key
        sld = got["slds"][key]
        # QGIS turns an SLD of one rule without a filter into a single symbol, the others into rules
        assert sld["ok"] and sld["type"] == ("singleSymbol" if style.kind == "single" else "RuleRenderer"), (key, sld)
        if style.kind != "single":
            assert sorted(sld["rules"]) == sorted(c.label for c in style.classes), key
    assert set(got["rasters"]) == set(raster_styles)
    for tif, r in got["rasters"].items():
        style = raster_styles[tif]
        assert r["valid"] and r["type"] == "singlebandpseudocolor" and r["ramp_type"] == 1, tif   # 1: discrete
        assert [i["label"] for i in r["items"]] == list(style.labels), tif
        assert [i["colour"] for i in r["items"]] == [c.lower() for c in style.colours], tif


def test_qgis_draws_every_layer_with_its_default_style(tmp_path):
    """Each styled layer of every analysis' GeoPackage, loaded by QGIS 3.22: valid, its default style applied
    (renderer type, field, classes with labels and colours in order); the SLD read back as rules; bounds probed
    through QGIS's own rangeForValue; the travel-time GeoTIFF drawn by its .qml sidecar."""
    saved = saved_results(tmp_path / "out")
    job, expected, raster_styles = _qgis_job(saved)
    reach_gpkg = str(saved["reach"][1]["reach.gpkg"])
    job["probes"] = [[reach_gpkg, "zones", 0.9], [reach_gpkg, "zones", 0.8999], [reach_gpkg, "isochrones", 5.0]]
    assert len(expected) >= 15 and {k.split(":")[1] for k in expected} >= {
        "zones", "stations", "isochrones", "catchments", "facilities", "density", "chosen", "sites",
        "referral_lines", "villages"}
    got = run_qgis(job, tmp_path)
    assert got["qgis_version"].startswith("3.")
    _assert_drawn_as_styled(got, expected, raster_styles)
    assert got["probes"] == ["90 % or more (meets the target)", "75 % to 90 %",
                             "within 5 min"]
    assert {"reach_minutes.tif", "catchments_minutes.tif", "referral_two_leg_minutes.tif"} <= set(got["rasters"])


def test_qgis_draws_reach_by_hour_round_trip_and_outreach_with_their_styles(tmp_path):
    """The same check (one QGIS start) for the results of issue 14 and outreach: ReachByHour (zones by the worst
    hour's share, the worst minutes raster), RoundTrip (zones, stations, hospitals by level, the three minutes rasters
    in one scale, the nearest hospital by colour) and Outreach (zones by effective share, circuits by team, points,
    the effective-access classes)."""
    import test_analyses_hours as hours
    import test_analyses_outreach as outreach
    from strip_case import strip_study
    from test_analyses_round_trip import places

    results = {
        "reach_by_hour": hours.study(tmp_path, hours=hours.HOURS).reach_by_hour(
            hours.points(["s1"], [hours.cell_centre(1, 0)])),
        "round_trip": strip_study(thresholds_min=60).round_trip(
            places((1, 0)), places((1, 5), (1, 9), level=[1, 2]), dispatch_minutes=2, level="level", min_level=2,
            threshold_minutes=11),
        "outreach": outreach.run(strip_study(), solver="heuristic")}
    saved = {}
    for name, r in results.items():
        written = r.save(tmp_path / "out" / name, draw_map=False)
        saved[name] = (r, {p.name: p for p in written})
    job, expected, raster_styles = _qgis_job(saved)
    assert {k.split(":")[1] for k in expected} == {"zones", "stations", "hospitals", "routes", "points", "chosen",
                                                  "bases"}
    assert set(raster_styles) == {"reach_by_hour_worst_minutes.tif", "round_trip_total_minutes.tif",
                                  "round_trip_response_minutes.tif", "round_trip_transport_minutes.tif",
                                  "round_trip_nearest_hospital.tif", "outreach_effective_access.tif"}
    rt = str(saved["round_trip"][1]["round_trip.gpkg"])
    job["probes"] = [[rt, "zones", 1 / 3]]          # a third of the strip reaches definitive care in 11 minutes
    got = run_qgis(job, tmp_path)
    _assert_drawn_as_styled(got, expected, raster_styles)
    assert got["probes"] == ["25 % to 50 %"]
    access = got["rasters"]["outreach_effective_access.tif"]["items"]
    assert [i["label"] for i in access] == ["no service within the standard", "fixed facility",
                                            "monthly service point only"]
    assert [i["value"] for i in access] == [0.0, 1.0, 2.0]
