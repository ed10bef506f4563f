"""The strip study shared by the reach, placement, prepared-study and CLI tests: a 3 x 10 grid of 100 m cells, two
zones A (cols 0-4) and B (cols 5-9), an urban polygon over cols 0-2, friction 0.6 s/m (1 minute per cell step);
see tests/python/test_analyses_reach.py's docstring for the hand-worked numbers."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

import careshed
from careshed import _core


SQ2 = math.sqrt(2.0)


X0, Y1 = 500000.0, 1000300.0


CRS = "EPSG:32631"


def strip_grid(rows=3, cols=10, cell=100.0):
    return careshed.Grid(cols, rows, (X0, cell, 0.0, Y1, 0.0, -cell), _core.crs_to_wkt(CRS))


def gdf(records, geoms, crs=CRS):
    import geopandas as gpd
    return gpd.GeoDataFrame(pd.DataFrame(records), geometry=list(geoms), crs=crs)


def strip_zones():
    from shapely.geometry import box
    return gdf({"zone": ["A", "B"], "pop": [1500, 3000], "name": ["Alpha", "Beta"]},
               [box(X0, Y1 - 300, X0 + 500, Y1), box(X0 + 500, Y1 - 300, X0 + 1000, Y1)])


def urban_polygon():
    from shapely.geometry import box
    return gdf({"kind": ["urban"]}, [box(X0, Y1 - 300, X0 + 300, Y1)])


def cell_centre(r, c, cell=100.0):
    return X0 + (c + 0.5) * cell, Y1 - (r + 0.5) * cell


def points(ids, xy, **fields):
    from shapely.geometry import Point
    return gdf({"id": ids, **fields}, [Point(x, y) for x, y in xy])


def strip_study(friction=None, **kw):
    grid = strip_grid()
    f = np.full(grid.shape, 0.6) if friction is None else friction
    args = dict(zone_id="zone", population="pop", friction=careshed.FrictionSurface(f, grid),
                classes={"polygons": urban_polygon(), "inside": "urban", "outside": "rural"},
                thresholds_min={"urban": 4, "rural": 6}, keep=["name"])
    args.update(kw)
    return careshed.Study(strip_zones(), **args)


def hand_minutes(r, c):
    """Travel minutes from cell (1, 0) on the strip (see the module docstring)."""
    if r == 1:
        return float(c)
    return 1.0 if c == 0 else SQ2 + (c - 1)
