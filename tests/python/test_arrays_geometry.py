"""careshed.arrays.geometry: CRS transforms and points in zones, against pyproj and shapely."""
from __future__ import annotations

import numpy as np
import pyproj
import pytest
from shapely.geometry import Point, box

import careshed
from careshed.arrays.geometry import assign_points_to_zones, check_polygons, metric_crs_for, transform_xy, utm_epsg_for


def test_transform_xy_matches_pyproj():
    rng = np.random.default_rng(20261206)
    lon, lat = rng.uniform(118.0, 119.5, 50), rng.uniform(28.0, 29.5, 50)
    x, y = transform_xy(lon, lat, "EPSG:4326", "EPSG:32650")
    ex, ey = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True).transform(lon, lat)
    np.testing.assert_allclose(x, ex, atol=1e-6)
    np.testing.assert_allclose(y, ey, atol=1e-6)


def test_points_in_zones_against_shapely_with_shared_boundary_to_the_first_zone():
    zones = [box(0, 0, 10, 10), box(10, 0, 20, 10)]
    rng = np.random.default_rng(7)
    x, y = rng.uniform(-5, 25, 200), rng.uniform(-5, 15, 200)
    got = assign_points_to_zones(zones, x, y)
    expected = [next((i for i, z in enumerate(zones) if z.covers(Point(a, b))), -1) for a, b in zip(x, y)]
    np.testing.assert_array_equal(got, expected)
    assert assign_points_to_zones(zones, [10.0], [5.0]).tolist() == [0]       # on the shared edge: zone 0


def test_invalid_polygons_are_named_and_utm_zone():
    from shapely.geometry import Polygon
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    problems = check_polygons([box(0, 0, 1, 1), bowtie])
    assert [i for i, _ in problems] == [1]
    assert utm_epsg_for(118.9, 28.9) == 32650 and utm_epsg_for(-70.0, -33.0) == 32719


def test_metric_crs_for_keeps_projected_and_picks_utm_for_lonlat():
    gpd = pytest.importorskip("geopandas")
    ll = gpd.GeoDataFrame(geometry=[box(118.0, 28.0, 119.0, 29.0)], crs="EPSG:4326")
    assert metric_crs_for(ll) == "EPSG:32650"
    utm = ll.to_crs("EPSG:32650")
    assert pyproj.CRS(metric_crs_for(utm)).equals(utm.crs)
    assert careshed.arrays.metric_crs_for is metric_crs_for
