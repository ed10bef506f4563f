#!/usr/bin/env python3
"""Build the MODELLED inputs of the Quzhou ambulance-reach example (data/quzhou/*_modelled.geojson).

Usage (from the repository root; needs shapely and pyproj, both Debian packages; deterministic)::

    python3 data/quzhou/model_reach_inputs.py [--dir data/quzhou]

No road network or population raster exists publicly for Quzhou (see README.md), so the reach example
models both, from the real files of this folder, and every output that uses them says "modelled":

1. urban_cores_modelled.geojson — one "urban core" per county: a disc around the county seat
   (county_seats.csv), clipped to the county polygon (counties.geojson), whose radius is chosen (by
   bisection, to 0.1 m²) so that its AREA equals the county's urban population divided by a modelled
   urban density of URBAN_DENSITY_PER_KM2 = 3,000 people/km². The county's urban population is its 2020
   census population (pop_census2020) times its GHSL urban share GHSL_URB (census2020_ghsl.csv: the
   population share in GHSL Degree-of-Urbanisation classes 30 + 23 + 22 + 21, i.e. urban centres and urban
   clusters). careshed.reach then spreads each county's census total over its cells by these shares
   (GHSL_URB of the people uniformly over the core's cells, the rest uniformly over the rest of the
   county) and applies the URBAN threshold (11 min) in the cores and the RURAL one (15 min) elsewhere.
2. roads_modelled.geojson — straight "trunk" roads from the city seat (Kecheng, 330802) to each of the
   other five county seats, class ``highway=trunk``; the reach example burns them at 60 km/h over a
   terrain-free background of 25 km/h everywhere else (no rivers, hills or missing roads are modelled).

Discs and lengths are computed in WGS 84 / UTM zone 50N (EPSG:32650, metres); the files are written in
EPSG:4326 (lon/lat, RFC 7946 GeoJSON) with coordinates rounded to 1e-7 degrees (~1 cm). Running the script
twice gives byte-identical files.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path

HERE = Path(__file__).resolve().parent
URBAN_DENSITY_PER_KM2 = 3000.0      # modelled mean density of the urban cores (people per km²)
ROAD_CLASS = "trunk"                # burned at ROAD_SPEED_KMH by the reach example
ROAD_SPEED_KMH = 60.0
BACKGROUND_SPEED_KMH = 25.0
CITY_SEAT = 330802                  # Kecheng: the city government's seat, hub of the modelled roads
METRIC_EPSG = 32650                 # UTM 50N: Quzhou lies in it
DISC_SEGMENTS = 32                  # points per quarter circle of the disc polygons (~10 m off a true circle)


def _read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _round_coords(geom_mapping):
    """Coordinates rounded to 1e-7 degrees, as nested lists (stable JSON)."""
    def rnd(c):
        if isinstance(c[0], (int, float)):
            return [round(float(c[0]), 7), round(float(c[1]), 7)]
        return [rnd(x) for x in c]
    return {"type": geom_mapping["type"], "coordinates": rnd(geom_mapping["coordinates"])}


def build(folder: Path) -> tuple[str, str]:
    from pyproj import Transformer
    from shapely.geometry import LineString, Point, mapping, shape
    from shapely.ops import transform

    fwd = Transformer.from_crs("EPSG:4326", f"EPSG:{METRIC_EPSG}", always_xy=True).transform
    back = Transformer.from_crs(f"EPSG:{METRIC_EPSG}", "EPSG:4326", always_xy=True).transform
    counties = json.loads((folder / "counties.geojson").read_text(encoding="utf-8"))
    ghsl = {int(r["CODE"]): float(r["GHSL_URB"]) for r in _read_csv(folder / "census2020_ghsl.csv")}
    seats = {int(r["county_adcode"]): (float(r["lon"]), float(r["lat"]))
             for r in _read_csv(folder / "county_seats.csv")}

    cores = []
    for feat in sorted(counties["features"], key=lambda f: int(f["properties"]["adcode"])):
        props = feat["properties"]
        code = int(props["adcode"])
        county = transform(fwd, shape(feat["geometry"]))
        seat = Point(*fwd(*seats[code]))
        if not county.contains(seat):
            raise SystemExit(f"county seat of {code} is not inside its county polygon")
        share = ghsl[code]
        urban_people = share * float(props["pop_census2020"])
        target_m2 = urban_people / URBAN_DENSITY_PER_KM2 * 1e6
        if target_m2 >= county.area:
            raise SystemExit(f"{code}: urban core of {target_m2 / 1e6:.1f} km² does not fit in the county")
        lo, hi = 0.0, 200_000.0
        # area(disc ∩ county) grows monotonically with the radius: bisection to 0.1 m² (or 1 mm of radius).
        while hi - lo > 1e-3:
            mid = 0.5 * (lo + hi)
            area = seat.buffer(mid, DISC_SEGMENTS).intersection(county).area
            if abs(area - target_m2) < 0.1:
                lo = hi = mid
                break
            lo, hi = (mid, hi) if area < target_m2 else (lo, mid)
        radius = 0.5 * (lo + hi)
        core = seat.buffer(radius, DISC_SEGMENTS).intersection(county)
        cores.append({
            "type": "Feature",
            "properties": {
                "adcode": code, "name": props["name"], "name_en": props["name_en"],
                "class": "urban",
                "ghsl_urban_share": share,
                "urban_population_modelled": round(urban_people, 1),
                "density_per_km2_modelled": URBAN_DENSITY_PER_KM2,
                "radius_m": round(radius, 1),
                "area_km2": round(core.area / 1e6, 3),
                "note": "MODELLED urban core: disc around the county seat clipped to the county, area = "
                        "GHSL urban share x census population / 3000 per km2",
            },
            "geometry": _round_coords(mapping(transform(back, core))),
        })

    roads = []
    hub = seats[CITY_SEAT]
    for code in sorted(seats):
        if code == CITY_SEAT:
            continue
        line = LineString([hub, seats[code]])
        length_m = transform(fwd, line).length
        roads.append({
            "type": "Feature",
            "properties": {
                "id": f"{CITY_SEAT}-{code}", "highway": ROAD_CLASS, "speed_kmh": ROAD_SPEED_KMH,
                "length_km": round(length_m / 1000.0, 3),
                "note": "MODELLED straight trunk road between county seats (no real network is public)",
            },
            "geometry": _round_coords(mapping(line)),
        })

    def dump(features, name):
        doc = {"type": "FeatureCollection", "name": name, "features": features}
        return json.dumps(doc, ensure_ascii=False, indent=None, separators=(",", ":")) + "\n"

    return dump(cores, "urban_cores_modelled"), dump(roads, "roads_modelled")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=HERE, help="the data/quzhou folder (default: this one)")
    args = parser.parse_args()
    cores, roads = build(args.dir)
    for name, text in (("urban_cores_modelled.geojson", cores), ("roads_modelled.geojson", roads)):
        path = args.dir / name
        tmp = path.with_name(f".{name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
