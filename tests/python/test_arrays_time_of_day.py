"""careshed.arrays.time_of_day: road speed factors by hour, from a dict or a CSV, checked."""
from __future__ import annotations

import pytest

import careshed
from careshed.arrays.time_of_day import describe_factors, hour_factors


def test_dict_and_csv_give_the_same_factors_hours_sorted(tmp_path):
    spec = {17: {"primary": 0.6, "*": 0.9}, 8: {"primary": 0.5}, 3: {}}
    csv = tmp_path / "hours.csv"
    csv.write_text("# rush hours\nhour,class,factor\n17,primary,0.6\n17,*,0.9\n8,primary,0.5\n", encoding="utf-8")
    got = hour_factors(spec)
    assert list(got) == [3, 8, 17]
    assert got[17] == {"primary": 0.6, "*": 0.9}
    from_csv = hour_factors(csv)
    assert from_csv == {8: {"primary": 0.5}, 17: {"primary": 0.6, "*": 0.9}}
    assert describe_factors(got[17]) == "primary x0.6, * x0.9" and describe_factors({}) == "no change"


@pytest.mark.parametrize("spec,match", [
    ({24: {}}, "whole hour between 0 and 23"),
    ({8.5: {}}, "whole hour"),
    ({8: {"primary": 0}}, "finite number > 0"),
    ({8: {"primary": "fast"}}, "not a number"),
    ({8: 0.5}, "must be a dict"),
    ({}, "at least one hour"),
    (0.5, "give"),
])
def test_bad_factors_are_refused_naming_hour_and_class(spec, match):
    with pytest.raises(careshed.InputError, match=match):
        hour_factors(spec)


def test_bad_csv_rows_are_named(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("hour,class,factor\n8,primary,0.5\n8,primary,0.7\n", encoding="utf-8")
    with pytest.raises(careshed.InputError, match="row 3: class 'primary' at hour 8 is given twice"):
        hour_factors(p)
    p.write_text("h,c,f\n", encoding="utf-8")
    with pytest.raises(careshed.InputError, match="header hour,class,factor"):
        hour_factors(p)
    p.write_text("hour,class,factor\n8,primary\n", encoding="utf-8")
    with pytest.raises(careshed.InputError, match="row 2: expected 3 values"):
        hour_factors(p)


# ---- time of day on the road graph ---------------------------------------------------------------------------
# Oracle: a graph at an hour's factors equals the graph built with the speeds scaled by hand (a profile whose class
# speeds are the hour's, or a speed field holding speed x factor), edge for edge and search for search.

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from careshed.arrays.time_of_day import line_factors_from_field, road_travel_time_by_hour  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "data"
HELSINKI = DATA / "osm" / "helsinki.osm.pbf"
RUSH = {3: {}, 8: {"primary": 0.4, "secondary": 0.5, "*": 0.8}, 17: {"residential": 0.7}}


def base_profile():
    return careshed.SpeedProfile("base", dict(careshed.SpeedProfile.car().speeds_kmh), use_maxspeed=False)


def scaled_profile(factors):
    speeds = careshed.SpeedProfile.car().speeds_kmh
    return careshed.SpeedProfile("scaled", {c: v * factors.get(c, factors.get("*", 1.0)) for c, v in speeds.items()},
                                 use_maxspeed=False)


def test_a_road_graph_at_an_hour_equals_a_graph_built_with_scaled_speeds():
    g = careshed.RoadGraph.from_osm(HELSINKI, base_profile())
    assert g.has_turn_restrictions and "primary" in g.class_names
    rng = np.random.default_rng(14)
    facilities = g.node_xy[rng.choice(g.n_nodes, 3, replace=False)]
    points = g.node_xy[rng.choice(g.n_nodes, 50, replace=False)] + 1e-4
    for hour, factors in RUSH.items():
        at_hour = g.with_speed_factors(factors)
        ref = careshed.RoadGraph.from_osm(HELSINKI, scaled_profile(factors))
        np.testing.assert_allclose(at_hour.edges["seconds"], ref.edges["seconds"], rtol=1e-12)
        np.testing.assert_allclose(at_hour.edges["speed_kmh"], ref.edges["speed_kmh"], rtol=1e-12)
        for reverse in (False, True):
            a = at_hour.travel_time(facilities, points, reverse=reverse, start_offsets_seconds=[0, 60, 5])
            b = ref.travel_time(facilities, points, reverse=reverse, start_offsets_seconds=[0, 60, 5])
            np.testing.assert_allclose(a.seconds, b.seconds, rtol=1e-12)
            np.testing.assert_array_equal(a.nearest, b.nearest)
    rush, night = g.with_speed_factors(RUSH[8]).travel_time(facilities, points).seconds, \
        g.travel_time(facilities, points).seconds
    reached = np.isfinite(night)
    assert (rush[reached] >= night[reached]).all() and (rush[reached] > night[reached]).any()


def test_factors_per_line_from_a_field_equal_a_speed_field_scaled_by_hand(tmp_path):
    import geopandas as gpd
    from shapely.geometry import LineString

    rng = np.random.default_rng(8)
    lines = [LineString([(0, 0), (1000, 0)]), LineString([(1000, 0), (1000, 800)]), LineString([(0, 0), (0, 900)]),
             LineString([(0, 900), (1000, 800)])]
    speed = np.array([50.0, 30.0, 40.0, 20.0])
    f08 = rng.uniform(0.3, 1.0, 4).round(3)
    frame = gpd.GeoDataFrame({"kmh": speed, "kmh08": speed * f08, "f08": f08}, geometry=lines, crs="EPSG:32631")
    path = tmp_path / "roads.gpkg"
    frame.to_file(path, driver="GPKG")
    g = careshed.RoadGraph.from_lines(path, speed_field="kmh")
    factors = line_factors_from_field(path, "f08")
    assert sorted(factors.values()) == sorted(f08.tolist())
    at8 = g.with_speed_factors(line_factors=factors)
    ref = careshed.RoadGraph.from_lines(path, speed_field="kmh08")
    np.testing.assert_allclose(at8.edges["seconds"], ref.edges["seconds"], rtol=1e-12)
    # by hour: each hour is that separate run; the worst is the slowest hour per point, ties to the earliest
    fac, pts = np.array([[0.0, 0.0]]), np.array([[1000.0, 800.0], [0.0, 900.0], [990.0, 0.0], [3.0, 0.0]])
    by = road_travel_time_by_hour(g, fac, pts, hours={3: {}, 8: {}}, line_factors={8: factors})
    assert by.hours == [3, 8]
    np.testing.assert_array_equal(by.by_hour[3].seconds, g.travel_time(fac, pts).seconds)
    np.testing.assert_allclose(by.by_hour[8].seconds, ref.travel_time(fac, pts).seconds, rtol=1e-12)
    np.testing.assert_array_equal(by.worst_seconds, np.maximum(by.by_hour[3].seconds, by.by_hour[8].seconds))
    assert by.worst_hour.tolist() == [8, 8, 8, 3]  # the last snaps to the facility: a tie


def test_road_graph_hours_errors_name_the_keyword(tmp_path):
    g = careshed.RoadGraph.from_xy_lines([[(0, 0), (100, 0)]], [36.0])
    with pytest.raises(careshed.InputError, match="factors: class 'primary'"):
        g.with_speed_factors({"primary": 0})
    with pytest.raises(careshed.InputError, match="edge_factors"):
        g.with_speed_factors(edge_factors=[1.0, 2.0, 3.0])
    with pytest.raises(careshed.InputError, match="line_factors: line 0"):
        g.with_speed_factors(line_factors={0: -1.0})
    with pytest.raises(careshed.InputError, match="line_factors: hour 9 has no factors in hours"):
        road_travel_time_by_hour(g, [[0.0, 0.0]], hours={8: {}}, line_factors={9: {0: 0.5}})
    at = road_travel_time_by_hour(g, np.array([[0.0, 0.0]]), hours={8: {"*": 0.5}})
    assert at.worst_seconds[at.by_hour[8].node_nearest >= 0].max() == pytest.approx(20.0)  # 100 m at 18 km/h
