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


# ---- a road graph over the strip (reach on a road graph: test_analyses_reach.py, test_analyses_hours.py) -----

def road_strip(speed_kmh=36.0, oneway=False):
    """A road along the strip's middle row, a vertex at every cell centre, and a spur north from column 7."""
    row = np.array([cell_centre(1, c) for c in range(10)])
    spur = np.array([cell_centre(1, 7), cell_centre(0, 7)])
    return careshed.RoadGraph.from_xy_lines([row, spur], [speed_kmh, speed_kmh / 2],
                                            oneway=[int(oneway), 0], geographic=False,
                                            crs_wkt=_core.crs_to_wkt(CRS))


def network_oracle(graph, stations_xy, dispatch_s, offroad_kmh=5.0):
    import networkx as nx

    e = graph.edges
    g = nx.DiGraph()
    for t, h, s in zip(e["tails"], e["heads"], e["seconds"]):
        if not g.has_edge(int(t), int(h)) or g[int(t)][int(h)]["w"] > s:
            g.add_edge(int(t), int(h), w=float(s))
    nodes = graph.node_xy
    nearest_node = lambda x, y: int(np.argmin(np.hypot(nodes[:, 0] - x, nodes[:, 1] - y)))  # noqa: E731
    leg = lambda x, y, v: float(np.hypot(nodes[v, 0] - x, nodes[v, 1] - y)) / (offroad_kmh / 3.6)  # noqa: E731
    out = np.full((3, 10), np.inf)
    for sx, sy in stations_xy:
        sv = nearest_node(sx, sy)
        dist = nx.single_source_dijkstra_path_length(g, sv, weight="w")
        for r in range(3):
            for c in range(10):
                x, y = cell_centre(r, c)
                v = nearest_node(x, y)
                if v in dist:
                    out[r, c] = min(out[r, c], dispatch_s + leg(sx, sy, sv) + dist[v] + leg(x, y, v))
    return out
