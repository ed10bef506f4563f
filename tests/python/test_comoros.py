"""The Comoros bundle end to end through careshed.reach — every input real (data/comoros/README.md):
friction from Copernicus land-cover fractions + OpenStreetMap roads + walking 3 km/h where neither says
anything, with the sea cut out by the OSM land mask (careshed.friction_surface), WorldPop 2020 population
(869,595 people), the 28 OSM hospitals as stations, urban/rural from the GHSL-like density rule on the
population grid, the Quzhou standard (urban 11 min, rural 15 min) as the threshold set, 500 m cells.

Zones: the three islands from the OSM extract's admin boundaries (data/comoros/zones.geojson, kind island).
WorldPop puts ~6 % of its people on cells whose centre is offshore of the OSM coastline: they are the table's
"outside every zone" row, and the region row counts everybody on the grid.

What is checked: the population reconciles with the raster and the rows add up (zones + outside = region,
the outside row = the people of the cells in no zone, counted with numpy); nobody walks across the sea (the
Mwali hospitals reach no cell of Ngazidja or Nzwani; everybody on Ngazidja and Nzwani is reached by their own
island's hospitals; the only unreachable islanders live on Mwali's southern islets); plausible numbers
(covered share and mean response in a sensible band, hospitals placed); stability (two independent runs give
identical tables and arrays); valid isochrone polygons whose area is their cell count x the cell area; and
that more facilities never cover fewer people.

The zones and land mask (data/comoros/zones.geojson, land.geojson): the shipped files are exactly what
data/comoros/build_comoros_zones.py builds from the OSM extract (reproducible; its validation rules pass with
--check); and, independently of the script, with shapely on the files as read by GDAL: valid polygons, the
islands cover the land, communes tile their island, and the 70 OSM health facilities stand on land.
"""
from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

import careshed
import careshed.demo
from careshed.constants import OUTSIDE_ZONES_LABEL
from conftest import ROOT

COMOROS = ROOT / "data" / "comoros"
WORLDPOP_TOTAL = 869_595.03   # data/comoros/README.md: sum of population.tif
CELL_M = 500.0
ISLANDS = ["KM-A", "KM-G", "KM-M"]   # Nzwani, Ngazidja, Mwali (ISO 3166-2), in the file's order


def comoros_study():
    """The study of careshed.demo.comoros_study (the one `careshed report --example comoros` uses): friction from
    the land-cover fractions + OSM roads by car + walking 3 km/h, the sea cut out by the land mask, the density
    rule for urban/rural with 11/15 minutes, 500 m cells, 1 km of margin (every population pixel on the grid)."""
    return careshed.demo.comoros_study(COMOROS)


@pytest.fixture(scope="module")
def facilities():
    return careshed.read_vector(COMOROS / "health.gpkg")


@pytest.fixture(scope="module")
def run(facilities):
    study = comoros_study()
    hospitals = facilities[facilities["amenity"] == "hospital"]
    return study, study.reach(hospitals, label="hospitals")


def test_population_reconciles_and_people_outside_every_zone_are_a_row(run):
    study, r = run
    assert study.grid.epsg == 32738                      # UTM 38S, the zone of the islands' centre
    assert study.grid.cell_size == (CELL_M, CELL_M)
    # The grid covers the raster, so the sum-preserving warp keeps the total (docs/friction.md: ~1e-15).
    assert np.nansum(study.population) == pytest.approx(WORLDPOP_TOTAL, rel=1e-6)
    assert list(r.table.index) == ISLANDS + [OUTSIDE_ZONES_LABEL, "region"]
    region = r.table.loc["region"]
    assert region["population"] == pytest.approx(WORLDPOP_TOTAL, rel=1e-6)   # everybody, in a zone or not
    assert r.table["population"].iloc[:-1].sum() == pytest.approx(region["population"], rel=1e-12)
    in_no_zone = study.zone_raster.zone == -1              # cell centre in no island (counting="centre")
    outside = r.table.loc[OUTSIDE_ZONES_LABEL]
    assert outside["population"] == pytest.approx(np.nansum(study.population[in_no_zone]), rel=1e-9)
    # data/comoros/README.md: 5.5 % of the WorldPop pixels' people lie offshore by pixel centre; on 500 m
    # cells it is the same order.
    assert 0.03 < outside["population"] / region["population"] < 0.10
    assert outside["stations"] == 0                       # every hospital stands on an island
    for col in ("covered", "unreachable"):
        assert r.table[col].iloc[:-1].sum() == pytest.approx(region[col], rel=1e-9)
    assert region["population_urban"] + region["population_rural"] == pytest.approx(region["population"])
    assert 0.5 < region["population_urban"] / region["population"] < 0.95   # dense clusters hold most people


def test_nobody_walks_across_the_sea(run, facilities):
    study, r = run
    friction = study.friction.seconds_per_metre
    zone = study.zone_raster.zone
    people = np.nan_to_num(study.population)
    index = {z: i for i, z in enumerate(study.ids)}
    # Ngazidja and Nzwani: every populated cell reached by the island's own hospitals.
    for code in ("KM-G", "KM-A"):
        assert r.table.loc[code, "unreachable"] == 0
    # Mwali: the unreachable are on the islets off its south coast (south of 12.37 S; a boat ride away).
    stuck = (zone == index["KM-M"]) & ~np.isfinite(r.seconds) & (people > 0)
    assert r.table.loc["KM-M", "unreachable"] == pytest.approx(people[stuck].sum(), rel=1e-9)
    x0, dx, _, y0, _, dy = study.grid.transform
    from pyproj import Transformer
    to_lonlat = Transformer.from_crs(study.grid.crs, "EPSG:4326", always_xy=True)
    rows, cols = np.nonzero(stuck)
    _, lat = to_lonlat.transform(x0 + dx * (cols + 0.5), y0 + dy * (rows + 0.5))
    assert stuck.any() and (np.asarray(lat) < -12.37).all()
    # The sea itself: impassable except cells touching land.
    assert np.isnan(friction).sum() > 0.8 * friction.size
    # The six Mwali hospitals alone reach no cell of Ngazidja or Nzwani (ferries: issue 14).
    mwali = facilities[(facilities["amenity"] == "hospital")]
    mwali = mwali[mwali.geometry.x.between(43.6, 43.9)]
    assert len(mwali) == r.table.loc["KM-M", "stations"] == 6
    only_mwali = study.reach(mwali, label="Mwali hospitals")
    for code in ("KM-G", "KM-A"):
        assert only_mwali.table.loc[code, "covered"] == 0
        assert only_mwali.table.loc[code, "unreachable"] == pytest.approx(only_mwali.table.loc[code, "population"])
        assert not np.isfinite(only_mwali.seconds[zone == index[code]]).any()


def test_hospitals_placed_and_coverage_plausible(run):
    study, r = run
    st = r.stations
    assert len(st) == 28
    assert st["status"].isin(["on grid", "snapped"]).all()
    assert (st.loc[st["status"] == "snapped", "snapped_m"] <= max(500.0, 2 * CELL_M)).all()
    assert st["population_nearest"].sum() == pytest.approx(
        r.table.iloc[-1]["population"] - r.table.iloc[-1]["unreachable"], rel=1e-9)
    assert (st["population_covered"] <= st["population_nearest"] + 1e-9).all()
    region = r.table.iloc[-1]
    # 28 hospitals, car roads: roughly half the people within 11 (urban) / 15 (rural) minutes.
    assert 0.25 < region["covered_share"] < 0.75
    assert region["covered_share_urban"] > region["covered_share_rural"]
    assert 5.0 < region["mean_minutes"] < 60.0
    assert region["unreachable"] / region["population"] < 0.05   # offshore cells and Mwali's islets
    for code in ISLANDS:
        assert r.table.loc[code, "stations"] >= 1
    # The curve is a cumulative share: non-decreasing, from the people next to a hospital up to <= 1.
    curve = r.curve["region"].to_numpy()
    assert (np.diff(curve) >= -1e-12).all() and 0 <= curve[0] <= curve[-1] <= 1
    # within an hour: everybody reached, except those reached later than that
    assert curve[60] <= 1 - region["unreachable"] / region["population"] + 1e-12
    assert curve[60] > 0.8


def test_two_runs_are_identical(run, facilities):
    _, r1 = run
    study2 = comoros_study()
    r2 = study2.reach(facilities[facilities["amenity"] == "hospital"], label="hospitals")
    pd.testing.assert_frame_equal(r1.table, r2.table, check_exact=True)
    pd.testing.assert_frame_equal(r1.stations, r2.stations, check_exact=True)
    assert np.array_equal(r1.seconds, r2.seconds) and np.array_equal(r1.nearest, r2.nearest)
    assert np.array_equal(r1.population, r2.population, equal_nan=True)


def test_isochrones_valid_with_exact_cell_areas(run):
    _, r = run
    iso = r.isochrones([11, 15, 30])
    assert len(iso) == 3 and iso.crs.to_epsg() == 32738
    minutes = r.minutes
    for k, m in enumerate([11, 15, 30]):
        geom = iso.geometry.iloc[k]
        assert geom.is_valid and geom.geom_type == "MultiPolygon"
        cells = int((minutes <= m).sum())
        assert iso["cells"].iloc[k] == cells
        assert geom.area == pytest.approx(cells * CELL_M * CELL_M, rel=1e-9)
    assert (np.diff(iso["cells"].to_numpy()) >= 0).all()   # cumulative bands are nested


def test_all_facilities_cover_at_least_the_hospitals(run, facilities):
    study, r = run
    everything = study.reach(facilities, label="health facilities", unplaced="skip")
    assert len(everything.stations) == 70
    assert (everything.table["covered"].to_numpy() >= r.table["covered"].to_numpy() - 1e-6).all()
    assert everything.table.iloc[-1]["mean_minutes"] <= r.table.iloc[-1]["mean_minutes"] + 1e-9


# ---- the zones and the land mask (data/comoros/build_comoros_zones.py) ----

def _builder():
    spec = importlib.util.spec_from_file_location("build_comoros_zones", COMOROS / "build_comoros_zones.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read(path, layer):
    from osgeo import ogr
    from shapely import wkb

    ds = ogr.Open(str(path))
    lyr = ds.GetLayerByName(layer)
    assert lyr is not None, f"{path}: no layer {layer!r}"
    rows = []
    for f in lyr:
        row = f.items()
        row["geometry"] = wkb.loads(bytes(f.GetGeometryRef().ExportToWkb()))
        rows.append(row)
    return rows


def test_shipped_files_are_what_the_script_builds(tmp_path, capsys):
    assert _builder().main(["--dest", str(tmp_path), "--check"]) == 0
    for name in ("zones.geojson", "land.geojson"):
        assert (tmp_path / name).read_bytes() == (COMOROS / name).read_bytes(), f"{name} differs: rebuild it"
    out = capsys.readouterr().out
    assert "outside every island" in out and "communes (admin_level 8) exist only on ['KM-M']" in out


def test_zones_valid_nested_and_covering_the_land():
    from shapely.ops import unary_union

    zones = _read(COMOROS / "zones.geojson", "zones")
    (land,) = [r["geometry"] for r in _read(COMOROS / "land.geojson", "land")]
    islands = {z["zone_id"]: z for z in zones if z["kind"] == "island"}
    communes = [z for z in zones if z["kind"] == "commune"]
    assert sorted(islands) == ["KM-A", "KM-G", "KM-M"]
    assert len(communes) == 6 and {c["island"] for c in communes} == {"KM-M"}
    assert len({z["zone_id"] for z in zones}) == len(zones)
    assert all(z["geometry"].is_valid and z["geometry"].geom_type == "MultiPolygon" for z in zones)
    assert land.is_valid
    # Degrees² at 12° S: 1e-6 deg² ≈ 0.012 km². The islands hold all but specks of the land (two rocks off
    # Mwali, README: 0.005 km²); Mwali's communes tile Mwali.
    every_island = unary_union([z["geometry"] for z in islands.values()])
    assert land.difference(every_island).area < 1e-6
    assert land.area == pytest.approx(every_island.area, rel=0.01)
    mwali = islands["KM-M"]["geometry"]
    tiled = unary_union([c["geometry"] for c in communes])
    assert tiled.symmetric_difference(mwali).area < 1e-8
    assert sum(c["geometry"].area for c in communes) == pytest.approx(tiled.area, rel=1e-9)  # no overlaps


def test_health_facilities_stand_on_land():
    from shapely.geometry import Point

    (land,) = [r["geometry"] for r in _read(COMOROS / "land.geojson", "land")]
    facilities = _read(COMOROS / "health.gpkg", _health_layer())
    assert len(facilities) == 70
    at_sea = [f.get("name") for f in facilities if not land.contains(Point(f["geometry"].coords[0]))]
    assert at_sea == []


def _health_layer():
    from osgeo import ogr

    ds = ogr.Open(str(COMOROS / "health.gpkg"))
    return ds.GetLayer(0).GetName()


def test_map_of_the_seventy_facilities_is_readable(run, facilities, tmp_path):
    """The catchments map of all 70 OSM health facilities: labels placed without overlap (the most people
    first, the rest counted in a footnote), every name's characters (French, Arabic) in the map fonts, the
    title naming the islands, and the PNG written (a missing glyph would refuse it)."""
    from careshed.mapping import display_text, map_fonts, missing_glyphs

    study, _ = run
    c = study.catchments(facilities, label="health facilities")
    fig = c.plot(tmp_path / "catchments.png")
    assert (tmp_path / "catchments.png").read_bytes()[:4] == b"\x89PNG"
    names = [n for n in facilities["name"] if isinstance(n, str)]
    assert any("\u0600" <= ch <= "\u06ff" for n in names for ch in n)          # Arabic names are there
    for n in names:
        assert missing_glyphs(n, map_fonts([n])) == [], n
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    labels = [t for t in ax.texts if t.get_gid() == "label"]
    boxes = [t.get_bbox_patch().get_window_extent(renderer) for t in labels]
    assert 10 <= len(boxes) < 70
    assert not any(boxes[i].overlaps(boxes[j]) for i in range(len(boxes)) for j in range(i + 1, len(boxes)))
    served = c.table["population"].astype(float)
    top = c.table.index[int(np.argmax(served.to_numpy()))]
    top_name = c.table.loc[top, "name"] if isinstance(c.table.loc[top, "name"], str) else str(top)
    assert any(t.get_text().startswith(display_text(top_name[:32])) for t in labels)   # the largest is labelled
    foot = [t.get_text() for t in fig.texts if t.get_gid() == "footnote"]
    assert any(f"Labels: {len(labels)} of 70 health facilities" in line for line in foot)
    assert fig._suptitle.get_text().startswith("Nzwani, Ngazidja and Mwali: catchments")


def test_docs_optimize_worked_example_prints_what_the_page_shows(run, monkeypatch, capsys):
    """docs/optimize.md's Comoros health-post example: its python block runs (on this module's study: the same
    careshed.demo.comoros_study, built once) and prints the text block the page shows."""
    import re

    doc = (ROOT / "docs" / "optimize.md").read_text(encoding="utf-8")
    section = doc[doc.index("## Worked example: where five new health posts go in the Comoros"):]
    code = re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)
    shown = re.search(r"```text\n(.*?)```", section, flags=re.S).group(1)
    study, _ = run
    monkeypatch.setattr(careshed.demo, "comoros_study", lambda *a, **k: study)
    monkeypatch.chdir(ROOT)
    capsys.readouterr()
    exec(compile(code, "docs/optimize.md", "exec"), {})
    printed = capsys.readouterr().out
    assert [ln.split() for ln in printed.strip().splitlines()] == [ln.split() for ln in shown.strip().splitlines()]
