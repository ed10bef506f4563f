"""The hand case of the grid CLI tests (careshed catchments / careshed access) and its oracles.

Oracle: the hand case below is small enough for a plain Dijkstra written here (8 neighbours, the r.cost rule:
centre distance x mean friction) and an AccessMod band loop written here; the CLI's CSV and GeoTIFF outputs are
compared with them (the 2SFCA formulas are written in test_cli_access.py).

    two zones in UTM 31N (EPSG:32631), 100 m cells, 20 x 10 cells:
        A: x 500000-501000, y 1000000-1001000, 2000 people -> 20 per cell (100 cells)
        B: x 501000-502000, same y,            5000 people -> 50 per cell (100 cells)
    travel: 28.8 km/h everywhere -> friction 0.125 s/m exactly (a rook step 12.5 s, a diagonal 17.68 s), so no
    time lands exactly on a 60 s band edge or on the 90 s limit and float32 vs float64 cannot flip a comparison.
    hospitals: h1 (500250, 1000550) in A, 10 beds; h2 (501750, 1000250) in B, 30 beds.
"""
from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from oracles import dijkstra


CELL = 100.0


ROWS, COLS = 10, 20


X0, Y1 = 500000.0, 1001000.0


FRICTION = 3.6 / 28.8  # s/m


HOSPITALS = [("h1", 500250.0, 1000550.0, 10.0), ("h2", 501750.0, 1000250.0, 30.0)]


MAX_S = 90.0


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    import geopandas as gpd
    from shapely.geometry import box

    d = tmp_path_factory.mktemp("issue5")
    zones = gpd.GeoDataFrame({"zone": ["A", "B"], "pop": [2000, 5000]},
                             geometry=[box(500000, 1000000, 501000, 1001000), box(501000, 1000000, 502000, 1001000)],
                             crs="EPSG:32631")
    zones.to_file(d / "zones.gpkg", layer="zones", driver="GPKG")
    pd.DataFrame({"hid": [h[0] for h in HOSPITALS], "x": [h[1] for h in HOSPITALS], "y": [h[2] for h in HOSPITALS],
                  "beds": [h[3] for h in HOSPITALS]}).to_csv(d / "hospitals.csv", index=False)
    return d


def case_args(case) -> list:
    return [str(case / "zones.gpkg"), str(case / "hospitals.csv"), "--x", "x", "--y", "y", "--crs", "EPSG:32631",
            "--facility-id", "hid", "--zone-id", "zone", "--population", "pop", "--background-speed", "28.8",
            "--cell-size", "100"]


@pytest.fixture(scope="module")
def oracle():
    pop = np.zeros((ROWS, COLS))
    pop[:, :10] = 20.0
    pop[:, 10:] = 50.0
    zone = np.zeros((ROWS, COLS), dtype=int)
    zone[:, 10:] = 1
    cells = [(int((Y1 - y) // CELL), int((x - X0) // CELL)) for _, x, y, _ in HOSPITALS]
    times = dijkstra(np.full((ROWS, COLS), FRICTION), cells, [0.0] * len(cells), CELL)  # (2, ROWS, COLS)
    beds = np.array([h[3] for h in HOSPITALS])
    return {"pop": pop, "zone": zone, "cells": cells, "times": times, "beds": beds}


def read_csv(path):
    return pd.read_csv(path, comment="#", index_col=0)


def csv_notes(path) -> list:
    """The notes of a careshed CSV: its sidecar NAME.notes.txt (the CSV itself has no comment lines)."""
    assert not path.read_text(encoding="utf-8").startswith("#")
    return path.with_name(path.stem + ".notes.txt").read_text(encoding="utf-8").splitlines()


def band_coverage(times, pop, capacity, max_s):
    """AccessMod geographic coverage written from the rule: order = population within max_s (descending, ties
    lowest index); each facility takes the remaining people by 1-minute band ((k-1)60, k*60] s, band 0 = 0 s,
    the band that does not fit fractionally."""
    remaining = pop.copy()
    reach_pop = [float(pop[t <= max_s].sum()) for t in times]
    order = sorted(range(len(times)), key=lambda j: (-reach_pop[j], j))
    covered = np.zeros(len(times))
    for j in order:
        cap = capacity[j]
        t = times[j]
        inside = t <= max_s
        band = np.where(inside, np.ceil(t / 60.0), -1)
        for k in np.unique(band[inside]):
            m = band == k
            r = remaining[m].sum()
            if r <= cap:
                remaining[m] = 0.0
                cap -= r
                covered[j] += r
            else:
                remaining[m] *= 1.0 - cap / r
                covered[j] += cap
                cap = 0.0
                break
    return covered, pop - remaining, order
