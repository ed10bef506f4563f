"""careshed.read_vector / read_table / write_layers: GeoPandas objects from any OGR source, and back.

Independent references: the raw GeoJSON/CSV text parsed with json/csv, and fiona (through
geopandas.read_file) reading what careshed wrote.
"""
from __future__ import annotations

import csv
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, Point, Polygon

import careshed
from careshed.io import load
from conftest import QUZHOU_CENSUS_TOTAL, polygon_feature, square, write_geojson


def test_read_geojson_counties(quzhou_dir):
    gdf = careshed.read_vector(quzhou_dir / "counties.geojson")
    raw = json.loads((quzhou_dir / "counties.geojson").read_text(encoding="utf-8"))
    assert isinstance(gdf, gpd.GeoDataFrame)
    assert gdf.crs.to_epsg() == 4326
    assert list(gdf.columns) == ["adcode", "name", "name_en", "pop_census2020", "beds_2020_modelled", "geometry"]
    assert gdf["adcode"].dtype == np.int64 and gdf["pop_census2020"].dtype == np.int64
    assert gdf["pop_census2020"].sum() == QUZHOU_CENSUS_TOTAL
    assert gdf["name"].tolist() == [f["properties"]["name"] for f in raw["features"]]
    for geom, feat in zip(gdf.geometry, raw["features"]):
        assert geom.geom_type == "Polygon"
        np.testing.assert_allclose(np.asarray(geom.exterior.coords),
                                   np.asarray(feat["geometry"]["coordinates"][0]), atol=1e-12)
    assert gdf.attrs["geometry_type"] == "Polygon"


def test_read_csv_points_with_crs(quzhou_dir):
    gdf = careshed.read_vector(quzhou_dir / "county_seats.csv", x="lon", y="lat", crs="EPSG:4326")
    with open(quzhou_dir / "county_seats.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert gdf.crs.to_epsg() == 4326
    assert [(p.x, p.y) for p in gdf.geometry] == [(float(r["lon"]), float(r["lat"])) for r in rows]
    assert gdf["county_adcode"].tolist() == [int(r["county_adcode"]) for r in rows]


def test_read_fields_subset_and_missing_field(quzhou_dir):
    gdf = careshed.read_vector(quzhou_dir / "counties.geojson", fields=["adcode"])
    assert list(gdf.columns) == ["adcode", "geometry"]
    for cls in (careshed.InputError, ValueError):
        with pytest.raises(cls, match=r"counties.geojson.*population.*pop_census2020"):
            careshed.read_vector(quzhou_dir / "counties.geojson", fields=["population"])


def test_read_errors(tmp_path, quzhou_dir):
    for cls in (careshed.DataIOError, OSError):
        with pytest.raises(cls, match="absent.gpkg"):
            careshed.read_vector(tmp_path / "absent.gpkg")
    for cls in (careshed.CRSError, ValueError):
        with pytest.raises(cls, match="county_seats.csv"):   # CSV points without a CRS
            careshed.read_vector(quzhou_dir / "county_seats.csv", x="lon", y="lat")
        with pytest.raises(cls, match="counties.geojson"):   # contradicting CRS
            careshed.read_vector(quzhou_dir / "counties.geojson", crs="EPSG:3857")
    metres = write_geojson(tmp_path / "metres.geojson", [
        polygon_feature({"id": 1}, square(500000, 1000000, 501000, 1001000))])
    with pytest.raises(careshed.CRSError, match="metres.geojson"):
        careshed.read_vector(metres)
    bad = tmp_path / "bad_xy.csv"
    bad.write_text("name,lon,lat\na,118.9,28.9\nb,east,28.8\n", encoding="utf-8")
    with pytest.raises(careshed.InputError, match=r"bad_xy.csv.*row 2"):
        careshed.read_vector(bad, x="lon", y="lat", crs="EPSG:4326")


def test_read_table_needs_no_crs(quzhou_dir):
    t = careshed.read_table(quzhou_dir / "plan_2021_2025_projects.csv")
    assert len(t) == 39 and "county_adcode" in t.columns
    assert t["county_adcode"].isna().sum() == 3          # #25, #26, #28: site not decided / city-wide
    assert t.attrs["source"].endswith("plan_2021_2025_projects.csv")
    with pytest.raises(careshed.InputError, match="no field 'beds'"):
        careshed.read_table(quzhou_dir / "plan_2021_2025_projects.csv", fields=["beds"])
    with pytest.raises(OSError, match="nope.csv"):
        careshed.read_table(quzhou_dir / "nope.csv")


def test_load_passes_objects_through(quzhou_dir):
    gdf = careshed.read_vector(quzhou_dir / "counties.geojson")
    assert load(gdf, what="zones") is gdf
    df = pd.DataFrame({"a": [1]})
    assert load(df, what="zones").attrs["source"] == "<zones DataFrame>"
    with pytest.raises(careshed.InputError, match="zones: expected a file path"):
        load(42, what="zones")


def test_write_layers_roundtrip(tmp_path):
    pts = gpd.GeoDataFrame({"name": ["a", None], "beds": [10, 20], "rate": [1.5, np.nan]},
                           geometry=[Point(118.9, 28.9), Point(119.0, 29.0)], crs="EPSG:4326")
    mixed = gpd.GeoDataFrame(
        {"zone": [1, 2]},
        geometry=[Polygon([(0, 0), (1, 0), (1, 1)]),
                  MultiPolygon([Polygon([(2, 2), (3, 2), (3, 3)]), Polygon([(4, 4), (5, 4), (5, 5)])])],
        crs="EPSG:32650")
    table = pd.DataFrame({"note": ["modelled", "real"], "n": [1, 2]})
    out = careshed.write_layers(tmp_path / "o.gpkg", {"points": pts, "zones": mixed, "notes": table})
    assert out == tmp_path / "o.gpkg"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.gpkg"]      # no temporary left behind
    # independent reader: fiona
    back = gpd.read_file(out, layer="points")
    assert back.crs.to_epsg() == 4326
    assert back["beds"].tolist() == [10, 20] and back["name"].tolist()[0] == "a"
    assert back["name"].isna().tolist() == [False, True] and np.isnan(back["rate"].iloc[1])
    assert [(g.x, g.y) for g in back.geometry] == [(118.9, 28.9), (119.0, 29.0)]
    z = gpd.read_file(out, layer="zones")
    assert z.crs.to_epsg() == 32650
    assert set(z.geom_type) == {"MultiPolygon"}               # Polygon promoted to the layer type
    assert z.geometry.iloc[0].equals(MultiPolygon([mixed.geometry.iloc[0]]))
    # careshed's own reader, attribute-only layer
    notes = careshed.read_vector(out, layer="notes")
    assert notes["note"].tolist() == ["modelled", "real"]
    assert notes.geometry.isna().all()


def test_write_layers_failure_leaves_existing_file(tmp_path):
    target = tmp_path / "keep.gpkg"
    good = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)], crs="EPSG:4326")
    careshed.write_layers(target, {"good": good})
    before = target.read_bytes()
    no_crs = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)])
    with pytest.raises(careshed.InputError, match="layer 'bad' has no CRS"):
        careshed.write_layers(target, {"bad": no_crs})
    assert target.read_bytes() == before
    with pytest.raises(OSError):
        careshed.write_layers(tmp_path / "no_such_dir" / "x.gpkg", {"good": good})
    assert not (tmp_path / "no_such_dir").exists()


def test_points_xy_matches_shapely(seed=20261123):
    from shapely.geometry import Point as P
    from shapely.geometry import box

    from careshed.io import points_xy
    rng = np.random.default_rng(seed)
    print("seed", seed)
    coords = rng.uniform(-1e6, 1e6, size=(500, 2))
    geoms = [P(x, y) for x, y in coords]
    geoms[3] = None
    geoms[7] = P()                       # empty point
    geoms[11] = box(0, 0, 1, 1)          # not a point
    x, y, kind = points_xy(gpd.GeoSeries(geoms))
    assert kind[3] == 1 and kind[7] == 1 and kind[11] == 2
    ok = kind == 0
    assert ok.sum() == 497
    np.testing.assert_array_equal(x[ok], [g.x for g, k in zip(geoms, ok) if k])
    np.testing.assert_array_equal(y[ok], [g.y for g, k in zip(geoms, ok) if k])
    assert np.isnan(x[~ok]).all()


def test_connection_password_is_masked_in_messages():
    from careshed.io import describe_source
    frame = pd.DataFrame()
    frame.attrs["source"] = "PG:host=db dbname=gis user=me password=s3cret port=5432"
    assert describe_source(frame) == "PG:host=db dbname=gis user=me password=*** port=5432"
    frame.attrs["source"] = "PG:host=db PASSWORD='a b' user=x"
    assert "a b" not in describe_source(frame)


def test_unreachable_database_error_hides_password():
    with pytest.raises(careshed.DataIOError) as info:
        careshed.read_vector("PG:host=127.0.0.1 port=1 dbname=x user=y password=zzz-secret connect_timeout=2")
    assert "zzz-secret" not in str(info.value) and "password=***" in str(info.value)


def test_points_xy_fast_path_and_per_geometry_path_agree():
    from shapely.geometry import LineString, Point

    from careshed.io import points_xy

    rng = np.random.default_rng(20261206)
    pts = [Point(x, y) for x, y in rng.uniform(-1e6, 1e6, (500, 2))]
    x, y, kind = points_xy(pts)                                   # all points: one MultiPoint read at once
    assert np.array_equal(x, [p.x for p in pts]) and np.array_equal(y, [p.y for p in pts])
    assert (kind == 0).all()
    mixed = pts[:3] + [None, Point(), LineString([(0, 0), (1, 1)])]
    x, y, kind = points_xy(mixed)                                 # the per-geometry way
    assert kind.tolist() == [0, 0, 0, 1, 1, 2]
    assert np.array_equal(x[:3], [p.x for p in pts[:3]]) and np.isnan(x[3:]).all() and np.isnan(y[3:]).all()


def test_file_metadata_goes_into_the_geopackage_where_gdal_reads_it(tmp_path):
    import geopandas as gpd
    from osgeo import gdal
    from shapely.geometry import Point

    from careshed.io.vector import write_layers

    pts = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(500000, 1000000)], crs="EPSG:32631")
    meta = {"CARESHED_NOTE_00": "MODELLED population: 柯城区 <spread> & more", "CARESHED_MODELLED": "yes"}
    out = write_layers(tmp_path / "m.gpkg", {"pts": pts}, metadata=meta)
    assert gdal.OpenEx(str(out)).GetMetadata() == meta
    assert careshed.read_vector(out, "pts")["a"].tolist() == [1]          # the layer is intact
    with pytest.raises(careshed.InputError, match="GeoPackage"):
        write_layers(tmp_path / "m.geojson", {"pts": pts}, driver="GeoJSON", metadata=meta)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.gpkg"]
