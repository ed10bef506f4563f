#!/usr/bin/env python3
"""Build the MODELLED facility network of the Quzhou referral example (data/quzhou/facility_levels_modelled.geojson).

Usage (from the repository root; needs numpy, shapely and pyproj, all Debian packages; deterministic)::

    python3 data/quzhou/model_referral_inputs.py [--dir data/quzhou]

No public source gives the coordinates of Quzhou's township health centres or hospitals (README.md), so the
referral example models them from the real files of this folder; every output that uses them says MODELLED:

* **Township health centres** — one per township-level unit of townships_2023.csv (100 units, real names and
  codes, no geometry). Their POSITIONS are modelled: per county, the subdistricts (街道) are spread over the
  county's modelled urban core (urban_cores_modelled.geojson) and the towns and townships (镇, 乡) over the rest
  of the county, each group by k-means (Lloyd, 50 iterations, deterministic farthest-point start) of a 500 m
  lattice of points; each centre sits at the lattice point nearest its cluster's mean. Names are attached to
  the positions in code order (clusters sorted north to south): a named point is NOT that township's real
  location.
* **County hospitals** — one per county at its government seat (county_seats.csv), as in the other examples.
* **City tertiary hospital** — one at Kecheng's seat (the city's tertiary hospitals are in Kecheng).
* ``refers_to`` — the county medical community (医共体) structure: each township centre is assigned to its own
  county's hospital, each county hospital to the city tertiary hospital.
* **Plan projects** (plan_2021_2025_projects.csv) that add a facility of a level at a place the model knows,
  marked ``scenario = "plan #N"`` (the baseline rows are ``scenario = "baseline"``): #5 柯城区第二人民医院 at
  航埠镇 and #9 江山市第三人民医院 at 峡口镇 (峡口中心卫生院迁建, a second-level hospital) become county-level
  hospitals at those towns' modelled points; #1 四省边际中心医院 (智慧新城) a city tertiary hospital at Kecheng's
  seat (智慧新城 has no modelled point). The other projects relocate or extend a facility in place, have no
  place, or add no facility (public health centres, IT): they do not change a travel-time network and are
  listed in the ``plan_projects_by_level`` table the example prints.

Positions are computed in WGS 84 / UTM zone 50N (EPSG:32650) and written in EPSG:4326 rounded to 1e-7 degrees.
Running the script twice gives byte-identical files.
"""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
METRIC_EPSG = 32650
CITY_SEAT = 330802
LATTICE_M = 500.0
LEVELS = ["township health centre", "county hospital", "city tertiary hospital"]
#: plan projects that add a facility at a modelled place: number -> (level, township name or None = city seat)
PLAN_FACILITIES = {5: ("county hospital", "航埠镇"), 9: ("county hospital", "峡口镇"), 1: ("city tertiary hospital", None)}


def _read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _lattice(poly, step: float):
    import numpy as np
    from shapely.vectorized import contains as contains_xy

    x0, y0, x1, y1 = poly.bounds
    xs = np.arange(x0 + step / 2, x1, step)
    ys = np.arange(y0 + step / 2, y1, step)
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    inside = contains_xy(poly, gx, gy)
    return np.column_stack([gx[inside], gy[inside]])


def _kmeans_sites(points, k: int):
    """k lattice points: Lloyd's k-means from a farthest-point start (first: the point nearest the centroid)."""
    import numpy as np

    if k <= 0:
        return np.empty((0, 2))
    start = [int(np.argmin(((points - points.mean(axis=0)) ** 2).sum(axis=1)))]
    d = ((points - points[start[0]]) ** 2).sum(axis=1)
    while len(start) < k:
        start.append(int(np.argmax(d)))
        d = np.minimum(d, ((points - points[start[-1]]) ** 2).sum(axis=1))
    centres = points[start].astype(float)
    for _ in range(50):
        lab = np.argmin(((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2), axis=1)
        for j in range(k):
            if np.any(lab == j):
                centres[j] = points[lab == j].mean(axis=0)
    snapped = [points[int(np.argmin(((points - c) ** 2).sum(axis=1)))] for c in centres]
    order = sorted(range(k), key=lambda j: (-snapped[j][1], snapped[j][0]))   # north to south, then west to east
    return np.array([snapped[j] for j in order])


def build(folder: Path) -> str:
    from pyproj import Transformer
    from shapely.geometry import shape
    from shapely.ops import transform

    fwd = Transformer.from_crs("EPSG:4326", f"EPSG:{METRIC_EPSG}", always_xy=True).transform
    back = Transformer.from_crs(f"EPSG:{METRIC_EPSG}", "EPSG:4326", always_xy=True).transform
    counties = {int(f["properties"]["adcode"]): f for f in
                json.loads((folder / "counties.geojson").read_text(encoding="utf-8"))["features"]}
    cores = {int(f["properties"]["adcode"]): f for f in
             json.loads((folder / "urban_cores_modelled.geojson").read_text(encoding="utf-8"))["features"]}
    seats = {int(r["county_adcode"]): (float(r["lon"]), float(r["lat"])) for r in _read_csv(folder / "county_seats.csv")}
    towns = _read_csv(folder / "townships_2023.csv")

    features = []

    def add(fid, name, level, county, lon, lat, refers_to, scenario, note):
        features.append({"type": "Feature", "properties": {
            "id": fid, "name": name, "level": level, "county_adcode": county, "refers_to": refers_to,
            "scenario": scenario, "note": note},
            "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]}})

    city_id = f"T{CITY_SEAT}"
    positions = {}
    for code in sorted(counties):
        county = transform(fwd, shape(counties[code]["geometry"]))
        core = transform(fwd, shape(cores[code]["geometry"]))
        mine = sorted((t for t in towns if int(t["areaCode"]) == code), key=lambda t: t["code"])
        sub = [t for t in mine if t["name"].endswith("街道")]
        rest = [t for t in mine if not t["name"].endswith("街道")]
        for group, area in ((sub, core), (rest, county.difference(core))):
            sites = _kmeans_sites(_lattice(area, LATTICE_M), len(group))
            for t, (x, y) in zip(group, sites):
                lon, lat = back(float(x), float(y))
                positions[t["name"]] = (lon, lat, code)
                add(f"C{t['code']}", t["name"], LEVELS[0], code, lon, lat, f"H{code}", "baseline",
                    "MODELLED position (k-means placement within the county; not the real site)")
        lon, lat = seats[code]
        add(f"H{code}", f"{counties[code]['properties']['name']}人民医院", LEVELS[1], code, lon, lat, city_id,
            "baseline", "MODELLED: one county hospital at the county seat")
    lon, lat = seats[CITY_SEAT]
    add(city_id, "衢州市三级医院", LEVELS[2], CITY_SEAT, lon, lat, None, "baseline",
        "MODELLED: the city's tertiary hospitals as one point at Kecheng's seat")
    projects = {int(r["no"]): r for r in _read_csv(folder / "plan_2021_2025_projects.csv")}
    for no in sorted(PLAN_FACILITIES):
        level, town = PLAN_FACILITIES[no]
        if town is None:
            lon, lat = seats[CITY_SEAT]
            code = CITY_SEAT
        else:
            lon, lat, code = positions[town]
        refers = city_id if level == LEVELS[1] else None
        add(f"P{no}", projects[no]["name"], level, code, lon, lat, refers, f"plan #{no}",
            f"MODELLED position ({town or 'Kecheng seat'}); plan project #{no} ({projects[no]['stage']})")
    doc = {"type": "FeatureCollection", "name": "facility_levels_modelled", "features": features}
    return json.dumps(doc, ensure_ascii=False, indent=None, separators=(",", ":")) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=HERE, help="the data/quzhou folder (default: this one)")
    args = parser.parse_args()
    text = build(args.dir)
    path = args.dir / "facility_levels_modelled.geojson"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
