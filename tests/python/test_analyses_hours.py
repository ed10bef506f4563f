"""careshed.analyses.hours (Study.reach_by_hour, and reach(hour=...)) on the strip study of strip_case.py with
roads: oracle = separate runs of Studies whose road speeds are the hour's speeds (the profile scaled by hand), so an
hour's run must equal a run with scaled speeds, and the worst hour per zone the minimum over those runs."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import careshed
from strip_case import CRS, X0, Y1, cell_centre, gdf, points, strip_zones

PROFILE = {"primary": 60.0, "secondary": 30.0, "track": 12.0}
HOURS = {3: {}, 8: {"primary": 0.25, "*": 0.5}, 17: {"primary": 0.4}}


def roads(tmp_path):
    from shapely.geometry import LineString
    y1, y0 = Y1 - 150, Y1 - 50  # along rows 1 and 0
    frame = gdf({"highway": ["primary", "secondary", "track"], "maxspeed": [None, "40", None]},
                [LineString([(X0 + 50, y1), (X0 + 650, y1)]), LineString([(X0 + 650, y1), (X0 + 950, y1)]),
                 LineString([(X0 + 50, y0), (X0 + 950, y0)])])
    path = tmp_path / "roads.gpkg"
    frame.to_file(path, driver="GPKG")
    return path


def study(tmp_path, **travel):
    return careshed.Study(strip_zones(), zone_id="zone", population="pop", thresholds_min=3, cell_size_m=100,
                          travel={"roads": roads(tmp_path), "road_profile": dict(PROFILE),
                                  "background_speed_kmh": 3, **travel})


def scaled(factors):
    """The hour's profile by hand: class speed x factor (the class's, else '*', else 1)."""
    return {c: v * factors.get(c, factors.get("*", 1.0)) for c, v in PROFILE.items()}


@pytest.fixture(scope="module")
def stations():
    return points(["s1"], [cell_centre(1, 0)])


def test_an_hour_equals_a_run_with_scaled_speeds(tmp_path, stations):
    s = study(tmp_path, hours=HOURS)
    for hour, factors in HOURS.items():
        at_hour = s.reach(stations, hour=hour)
        # the secondary road has maxspeed 40: the factor applies to it too (40 x 0.5 at 8:00)
        speeds = scaled(factors)
        ref_roads = [{"path": roads(tmp_path), "where": "highway <> 'secondary'"},
                     {"path": roads(tmp_path), "where": "highway = 'secondary'",   # its maxspeed 40, scaled
                      "profile": careshed.SpeedProfile("ref", {"secondary": 40.0 * factors.get("*", 1.0)},
                                                       use_maxspeed=False)}]
        ref = careshed.Study(strip_zones(), zone_id="zone", population="pop", thresholds_min=3, cell_size_m=100,
                             travel={"roads": ref_roads, "road_profile": speeds, "background_speed_kmh": 3})
        want = ref.reach(stations)
        np.testing.assert_array_equal(at_hour.seconds, want.seconds)
        pd.testing.assert_frame_equal(at_hour.table, want.table)
        assert any(n.startswith(f"time of day: hour {hour}") for n in at_hour.notes)
    # rush hour is slower than the night
    assert s.reach(stations, hour=8).seconds[1, 9] > s.reach(stations, hour=3).seconds[1, 9]


def test_reach_by_hour_gives_the_worst_hour_per_zone(tmp_path, stations):
    s = study(tmp_path, hours=HOURS)
    r = s.reach_by_hour(stations, thresholds_min=3)
    assert isinstance(r, careshed.ReachByHour) and r.hours == [3, 8, 17]
    separate = {h: s.reach(stations, hour=h, thresholds_min=3).table["covered_share"] for h in HOURS}
    frame = pd.DataFrame(separate)
    for zone in r.table.index:
        assert r.table.loc[zone, "worst_covered_share"] == frame.loc[zone].min()
        assert r.table.loc[zone, "worst_hour"] == frame.loc[zone].idxmin()  # first minimum: earliest hour
        for h in HOURS:
            assert r.table.loc[zone, f"covered_share_h{h}"] == separate[h][zone]
    assert r.table.loc["B", "worst_covered_share"] < r.table.loc["B", "best_covered_share"]
    np.testing.assert_array_equal(r.worst_seconds, np.maximum.reduce([r.by_hour[h].seconds for h in HOURS]))
    written = r.save(tmp_path / "out", draw_map=False)
    assert {p.name for p in written} >= {"reach_by_hour.csv", "reach_by_hour.gpkg", "reach_by_hour_worst_minutes.tif"}
    only_rush = s.reach_by_hour(stations, hours=[8])
    assert list(only_rush.table.columns[:1]) == ["covered_share_h8"]


def test_hours_errors_say_what_to_do(tmp_path, stations):
    s = study(tmp_path, hours=HOURS)
    with pytest.raises(careshed.InputError, match="hours 3, 8, 17"):
        s.reach(stations, hour=9)
    plain = study(tmp_path)
    with pytest.raises(careshed.InputError, match="no speed factors by hour"):
        plain.reach(stations, hour=8)
    with pytest.raises(careshed.UsageError, match="needs road speed factors by hour"):
        plain.reach_by_hour(stations)
    with pytest.raises(careshed.UsageError, match="need roads"):
        careshed.Study(strip_zones(), zone_id="zone", population="pop", thresholds_min=3, cell_size_m=100,
                       travel={"background_speed_kmh": 3, "hours": HOURS})


def test_reach_by_hour_on_a_road_graph_equals_graphs_built_with_scaled_speeds():
    # Oracle: at each hour, the reach on a graph built with the hour's speeds (road x factor) from the start.
    from strip_case import road_strip, strip_study

    study = strip_study()
    factors = {3: {}, 8: {"*": 0.5}, 17: {"*": 0.25}}
    st = points(["s1"], [cell_centre(1, 0)])
    kw = dict(network=road_strip(), thresholds_min={"urban": 2, "rural": 3})
    by_hour = study.reach_by_hour(st, hour_factors=factors, **kw)
    assert by_hour.hours == [3, 8, 17]
    for h, f in ((3, 1.0), (8, 0.5), (17, 0.25)):
        scaled = study.reach(st, network=road_strip(speed_kmh=36.0 * f), thresholds_min={"urban": 2, "rural": 3})
        np.testing.assert_allclose(by_hour.by_hour[h].seconds, scaled.seconds, rtol=1e-6)
        pd.testing.assert_series_equal(by_hour.table[f"covered_share_h{h}"], scaled.table["covered_share"],
                                       check_names=False)
    assert (by_hour.table["worst_hour"] == 17).all() or (by_hour.table["worst_covered_share"] ==
                                                          by_hour.table["covered_share_h17"]).all()
    np.testing.assert_array_equal(by_hour.worst_seconds, by_hour.by_hour[17].seconds)
    one = study.reach(st, hour=8, hour_factors=factors, **kw)
    np.testing.assert_allclose(one.seconds, by_hour.by_hour[8].seconds)
    assert any(n.startswith("time of day: hour 8") for n in one.notes)
