"""Geometry kernels of the core: coordinates between CRSs, points in zones, polygon checks, the UTM zone.

NumPy in, NumPy out; geometries go to the core as WKB once (:func:`careshed.io.to_wkb`).
"""
from __future__ import annotations

import numpy as np

from .. import _core
from ..io.vector import to_wkb

__all__ = ["transform_xy", "assign_points_to_zones", "check_polygons", "overlapping_pairs", "utm_epsg_for",
           "metric_crs_for"]


def transform_xy(x, y, src_crs: str, dst_crs: str) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) float64 arrays transformed from `src_crs` to `dst_crs` (any CRS text PROJ reads) by PROJ in C++."""
    gx, gy = _core.transform_xy(np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(y, dtype=np.float64),
                                str(src_crs), str(dst_crs))
    return np.asarray(gx, dtype=np.float64), np.asarray(gy, dtype=np.float64)


def assign_points_to_zones(zones, x, y) -> np.ndarray:
    """Index (int64) of the zone polygon covering each point, -1 for none; a point on a boundary shared by two
    zones goes to the zone listed first. `zones`: shapely polygons or WKB, in the points' CRS."""
    return np.asarray(_core.assign_points_to_zones(to_wkb(zones), np.ascontiguousarray(x, dtype=np.float64),
                                                   np.ascontiguousarray(y, dtype=np.float64)), dtype=np.int64)


def check_polygons(polygons) -> list:
    """``[(index, reason), ...]`` of the invalid polygons among `polygons` (shapely or WKB); empty when all are
    valid."""
    return list(_core.check_polygons(to_wkb(polygons)))


def overlapping_pairs(polygons, *, tolerance: float = 1e-3) -> list:
    """``[(i, j, shared area), ...]`` (i < j) of valid polygons whose interiors overlap by more than `tolerance` times
    the smaller one's area (shared edges and corners do not count). Bounding boxes are swept along x first, so
    only neighbours are intersected."""
    geoms = list(polygons)
    if len(geoms) < 2:
        return []
    bounds = np.array([g.bounds for g in geoms], dtype=np.float64)
    order = np.argsort(bounds[:, 0], kind="stable")
    found = []
    for k, i in enumerate(order):
        for j in order[k + 1:]:
            if bounds[j, 0] >= bounds[i, 2]:
                break
            if bounds[j, 1] >= bounds[i, 3] or bounds[i, 1] >= bounds[j, 3]:
                continue
            shared = geoms[i].intersection(geoms[j]).area
            if shared > tolerance * min(geoms[i].area, geoms[j].area):
                found.append((int(min(i, j)), int(max(i, j)), float(shared)))
    return sorted(found)


def utm_epsg_for(lon: float, lat: float) -> int:
    """EPSG code of the WGS 84 / UTM zone of a lon/lat point."""
    return int(_core.utm_epsg_for(float(lon), float(lat)))


def metric_crs_for(frame) -> str:
    """A metric CRS for a GeoDataFrame: its own when projected (as WKT), else the UTM zone of its centre."""
    if frame.crs.is_projected:
        return frame.crs.to_wkt()
    lon0, lat0, lon1, lat1 = frame.to_crs("EPSG:4326").total_bounds
    return f"EPSG:{utm_epsg_for((lon0 + lon1) / 2, (lat0 + lat1) / 2)}"
