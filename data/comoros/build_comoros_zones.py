#!/usr/bin/env python3
"""Build the Comoros example's zones and land mask (data/comoros/) from its OpenStreetMap extract.

Usage (from the repository root; needs Debian's python3-gdal and python3-shapely, no network, deterministic)::

    python3 data/comoros/build_comoros_zones.py [--dest data/comoros] [--check]

Inputs, both already in data/comoros/: ``comores-latest.osm.pbf`` (read with GDAL's OSM driver) and
``population.tif`` (WorldPop 2020, only for the validation figures).

What it does, step by step:

1. zones.geojson — the administrative units of the Union of the Comoros in the extract's ``multipolygons``
   layer (``boundary=administrative``). The extract holds admin_level 2 (the nation, drawn over its
   territorial sea), 4 (the three islands: Ngazidja, Mwali, Nzwani — complete, they cover the land) and 8
   (communes: only Mwali's six; Ngazidja and Nzwani have none, and no préfecture level exists in the
   extract). Written: the islands (``kind = island``) and Mwali's communes (``kind = commune``). Fields:
   ``zone_id`` (islands: their ISO 3166-2 code KM-G / KM-M / KM-A from the OSM tags; communes: KM-M-<NAME>),
   ``name`` (the Latin-script part of OSM's name), ``name_fr``, ``admin_level``, ``kind``, ``island`` (the
   zone_id of the island the unit lies on; an island's own id for islands), ``osm_id`` ("relation/N").
   The extract also has admin_level 8 closed ways named after a commune (islets off Mwali's south coast):
   those inside their commune's relation are repeats and skipped; the two outside it (ways 859437364 of
   Djando and 859437372 of M'lédjélé, ~0.02 km² each, inside Mwali's island polygon) are added to it. Use ONE level at a time as zones (they overlap by design):
   ``kind == "island"`` or ``kind == "commune"``.
2. land.geojson — the land: the extract's ``natural=coastline`` ways merged into rings and polygonised
   (plus the islets mapped as closed coastline ways), clipped to the WorldPop raster's extent (which drops
   Mayotte, part of the extract but not of the Union or of the raster), minus the inland water polygons
   (``natural=water``: crater lakes, ponds). A land MASK for careshed's friction surface: every cell it does
   not touch is sea, impassable (barriers ``{"path": "land.geojson", "outside": True, "all_touched": True}``).
3. Validation, printed (and, with --check, enforced): every polygon valid; the islands cover the land (land
   outside every island, km²); communes nest in their island, do not overlap and cover Mwali; WorldPop
   people per zone by pixel centre, people outside every island, and people on pixels the land does not
   even touch (in the sea by the OSM coastline).

Coordinates are WGS 84 longitude/latitude rounded to 7 decimals (~1 cm), features in a fixed order, keys in
a fixed order: running it twice gives byte-identical files. Areas are measured in WGS 84 / UTM 38S.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from pathlib import Path

from osgeo import gdal, ogr, osr
from shapely import wkb as shapely_wkb
from shapely.geometry import MultiPolygon, Polygon, box, mapping
from shapely.ops import linemerge, polygonize, unary_union

gdal.UseExceptions()
ogr.UseExceptions()

HERE = Path(__file__).resolve().parent
PBF = "comores-latest.osm.pbf"
POPULATION = "population.tif"
DECIMALS = 7
ISLAND_LEVEL = "4"
COMMUNE_LEVEL = "8"
AREA_EPSG = 32738           # WGS 84 / UTM 38S: the islands' zone, for areas in km²
NEST_TOLERANCE_KM2 = 0.01   # a commune may stick out of its island by at most this (shared-way rounding)


def osm_tag(other_tags: str | None, key: str) -> str | None:
    """Value of `key` in OSM's other_tags string ("k"=>"v","k2"=>"v2"), or None."""
    if not other_tags:
        return None
    m = re.search(r'(?:^|,)"' + re.escape(key) + r'"=>"((?:[^"\\]|\\.)*)"', other_tags)
    return m.group(1).replace('\\"', '"') if m else None


def latin_name(name: str) -> str:
    """The Latin-script words of a bilingual OSM name ("Ngazidja القمر الكبرى" -> "Ngazidja")."""
    words = [w for w in name.split() if all(unicodedata.name(ch, "").startswith("LATIN") or not ch.isalpha()
                                            for ch in w)]
    return " ".join(words) if words else name


def slug(name: str) -> str:
    """ASCII upper-case id part: "M'lédjélé" -> "MLEDJELE", "Moili Mdjini" -> "MOILI-MDJINI"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z0-9]+", "-", ascii_name.upper().replace("'", "")).strip("-")


def query(ds, sql: str) -> list[dict]:
    lyr = ds.ExecuteSQL(sql, dialect="SQLITE")
    rows = []
    try:
        for f in lyr:
            row = f.items()
            g = f.GetGeometryRef()
            row["geometry"] = shapely_wkb.loads(bytes(g.ExportToWkb())) if g is not None else None
            rows.append(row)
    finally:
        ds.ReleaseResultSet(lyr)
    return rows


def as_multipolygon(g) -> MultiPolygon:
    if isinstance(g, Polygon):
        return MultiPolygon([g])
    if isinstance(g, MultiPolygon):
        return g
    parts = [p for p in getattr(g, "geoms", []) if isinstance(p, (Polygon, MultiPolygon))]
    return as_multipolygon(unary_union(parts))


def rounded(g) -> MultiPolygon:
    """`g` with coordinates rounded to DECIMALS (what is written), checked still valid."""
    def ring(coords):
        return [(round(x, DECIMALS), round(y, DECIMALS)) for x, y in coords]
    out = MultiPolygon([Polygon(ring(p.exterior.coords), [ring(i.coords) for i in p.interiors])
                        for p in as_multipolygon(g).geoms])
    if not out.is_valid:
        out = as_multipolygon(out.buffer(0))
    return out


class Metric:
    """Areas in km² in UTM 38S (through GDAL/PROJ)."""

    def __init__(self):
        src, dst = osr.SpatialReference(), osr.SpatialReference()
        src.ImportFromEPSG(4326)
        dst.ImportFromEPSG(AREA_EPSG)
        src.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        dst.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        self.ct = osr.CoordinateTransformation(src, dst)

    def km2(self, g) -> float:
        """Area of the polygonal parts of `g` (an intersection of neighbours may be lines: 0 km²)."""
        if g.geom_type == "GeometryCollection":
            return sum(self.km2(p) for p in g.geoms)
        if g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon"):
            return 0.0
        o = ogr.CreateGeometryFromWkb(g.wkb)
        o.Transform(self.ct)
        return o.GetArea() / 1e6


def read_zones(ds) -> tuple[list[dict], list[str]]:
    """Islands and communes as dicts (zone fields + geometry), and notes on what the extract holds."""
    rows = query(ds, "SELECT osm_id, osm_way_id, admin_level, name, other_tags, geometry FROM multipolygons "
                     "WHERE boundary = 'administrative'")
    levels: dict[str, int] = {}
    for r in rows:
        levels[r["admin_level"]] = levels.get(r["admin_level"], 0) + 1
    notes = [f"admin levels in the extract (features): {dict(sorted(levels.items()))}"]
    islands = []
    for r in rows:
        if r["admin_level"] != ISLAND_LEVEL:
            continue
        code = osm_tag(r["other_tags"], "ISO3166-2")
        if code is None:  # Nzwani carries no ISO code in this extract; its English name identifies it
            code = {"Anjouan": "KM-A"}.get(osm_tag(r["other_tags"], "name:en") or "")
        if code is None:
            raise SystemExit(f"island relation {r['osm_id']} ({r['name']}) has no ISO3166-2 code")
        islands.append({"zone_id": code, "name": latin_name(r["name"]),
                        "name_fr": osm_tag(r["other_tags"], "name:fr"), "admin_level": int(ISLAND_LEVEL),
                        "kind": "island", "island": code, "osm_id": f"relation/{r['osm_id']}",
                        "geometry": as_multipolygon(r["geometry"])})
    if sorted(z["zone_id"] for z in islands) != ["KM-A", "KM-G", "KM-M"]:
        raise SystemExit(f"expected the three islands KM-A, KM-G, KM-M, got {[z['zone_id'] for z in islands]}")

    communes, repeated_ways = [], []
    for r in rows:
        if r["admin_level"] != COMMUNE_LEVEL:
            continue
        if r["osm_id"] is None:          # a closed way, not a relation: checked below
            repeated_ways.append(r)
            continue
        g = as_multipolygon(r["geometry"])
        parent = max(islands, key=lambda z: z["geometry"].intersection(g).area)
        name = latin_name(r["name"])
        communes.append({"zone_id": f"{parent['zone_id']}-{slug(name)}", "name": name,
                         "name_fr": osm_tag(r["other_tags"], "name:fr"), "admin_level": int(COMMUNE_LEVEL),
                         "kind": "commune", "island": parent["zone_id"], "osm_id": f"relation/{r['osm_id']}",
                         "geometry": g})
    # Closed admin_level 8 ways carry a commune's name: islets of that commune. Those already inside the
    # commune's relation are repeats; the others are parts the relation misses and are added to it.
    by_name = {c["name"]: c for c in communes}
    merged = []
    for w in sorted(repeated_ways, key=lambda r: int(r["osm_way_id"])):
        c = by_name.get(latin_name(w["name"]))
        if c is None:
            raise SystemExit(f"admin_level {COMMUNE_LEVEL} way {w['osm_way_id']} ({w['name']}) names no commune "
                             "relation; decide where it belongs")
        if w["geometry"].difference(c["geometry"]).area > 1e-3 * w["geometry"].area:
            c["geometry"] = as_multipolygon(unary_union([c["geometry"], w["geometry"]]))
            c["osm_id"] += f";way/{w['osm_way_id']}"
            merged.append(f"way/{w['osm_way_id']} ({c['name']})")
    notes.append(f"{len(repeated_ways)} admin_level {COMMUNE_LEVEL} closed ways (islets named after a commune): "
                 f"{len(repeated_ways) - len(merged)} already inside their commune's relation, {len(merged)} "
                 f"missing from it and added: {', '.join(merged) or 'none'}")
    with_communes = sorted({c["island"] for c in communes})
    notes.append(f"communes (admin_level {COMMUNE_LEVEL}) exist only on {with_communes}")
    islands.sort(key=lambda z: z["zone_id"])
    communes.sort(key=lambda z: z["zone_id"])
    return islands + communes, notes


def read_land(ds, extent) -> Polygon | MultiPolygon:
    """Coastline rings polygonised + closed coastline islets, clipped to `extent`, minus inland water."""
    lines = query(ds, "SELECT geometry FROM lines WHERE other_tags LIKE '%\"natural\"=>\"coastline\"%'")
    merged = linemerge([r["geometry"] for r in lines])
    parts = list(getattr(merged, "geoms", [merged]))
    open_rings = [p for p in parts if not p.is_closed]
    if open_rings:
        raise SystemExit(f"{len(open_rings)} coastline pieces do not close into rings (extract cut mid-coast?)")
    land = list(polygonize(parts))
    land += [r["geometry"] for r in query(ds, "SELECT geometry FROM multipolygons WHERE natural = 'coastline'")]
    water = [r["geometry"] for r in query(ds, "SELECT geometry FROM multipolygons WHERE natural = 'water'")]
    return unary_union(land).intersection(extent).difference(unary_union(water))


def population_by_zone(pop_path: Path, geoms: list, all_touched: bool = False):
    """WorldPop people per geometry (pixel centre rule, or every touched pixel) and the raster total."""
    src = gdal.Open(str(pop_path))
    band = src.GetRasterBand(1)
    values = band.ReadAsArray().astype("float64")
    nodata = band.GetNoDataValue()
    valid = values != nodata if nodata is not None else values == values
    total = float(values[valid].sum())
    out = []
    for g in geoms:
        mem = gdal.GetDriverByName("MEM").Create("", src.RasterXSize, src.RasterYSize, 1, gdal.GDT_Byte)
        mem.SetGeoTransform(src.GetGeoTransform())
        mem.SetProjection(src.GetProjection())
        vds = ogr.GetDriverByName("Memory").CreateDataSource("")
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(4326)
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        lyr = vds.CreateLayer("g", srs)
        f = ogr.Feature(lyr.GetLayerDefn())
        f.SetGeometry(ogr.CreateGeometryFromWkb(g.wkb))
        lyr.CreateFeature(f)
        gdal.RasterizeLayer(mem, [1], lyr, burn_values=[1],
                            options=["ALL_TOUCHED=TRUE"] if all_touched else [])
        inside = mem.GetRasterBand(1).ReadAsArray().astype(bool) & valid
        out.append(float(values[inside].sum()))
    return out, total


def raster_extent(path: Path):
    ds = gdal.Open(str(path))
    x0, dx, _, y1, _, dy = ds.GetGeoTransform()
    return box(x0, y1 + dy * ds.RasterYSize, x0 + dx * ds.RasterXSize, y1)


def geojson_text(features: list[dict], name: str, description: str) -> str:
    def coords(g):
        return [[[[round(x, DECIMALS), round(y, DECIMALS)] for x, y in ring]
                 for ring in poly] for poly in mapping(g)["coordinates"]]
    feats = []
    for z in features:
        props = {k: v for k, v in z.items() if k != "geometry"}
        feats.append({"type": "Feature", "properties": props,
                      "geometry": {"type": "MultiPolygon", "coordinates": coords(z["geometry"])}})
    doc = {"type": "FeatureCollection", "name": name, "description": description, "features": feats}
    # One feature per line: readable diffs, stable bytes.
    head = json.dumps({k: v for k, v in doc.items() if k != "features"}, ensure_ascii=False)[:-1]
    body = ",\n".join(json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in feats)
    return head + ', "features": [\n' + body + "\n]}\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dest", type=Path, default=HERE, help="output folder (default: this script's folder)")
    ap.add_argument("--source", type=Path, default=HERE, help="folder with the .osm.pbf and population.tif")
    ap.add_argument("--check", action="store_true", help="fail (exit 1) when a validation rule is broken")
    args = ap.parse_args(argv)

    ds = gdal.OpenEx(str(args.source / PBF), gdal.OF_VECTOR, allowed_drivers=["OSM"])
    zones, notes = read_zones(ds)
    extent = raster_extent(args.source / POPULATION)
    land = as_multipolygon(read_land(ds, extent))
    ds = None
    for z in zones:
        z["geometry"] = rounded(z["geometry"])
    land = rounded(land)

    metric = Metric()
    problems: list[str] = []
    islands = [z for z in zones if z["kind"] == "island"]
    communes = [z for z in zones if z["kind"] == "commune"]
    for z in zones:
        if not z["geometry"].is_valid or z["geometry"].is_empty:
            problems.append(f"{z['zone_id']}: invalid or empty polygon")
    if not land.is_valid:
        problems.append("land: invalid polygon")
    island_union = unary_union([z["geometry"] for z in islands])
    land_km2 = metric.km2(land)
    off_islands = land.difference(island_union)
    off_km2 = metric.km2(off_islands)
    report = [f"land (OSM coastline, clipped to the WorldPop extent, minus inland water): {land_km2:.1f} km² in "
              f"{len(land.geoms)} polygons; land outside every island: {off_km2:.3f} km²"]
    if off_km2 > 1.0:
        problems.append(f"the islands leave {off_km2:.3f} km² of land outside (> 1 km²)")
    for z in islands:
        report.append(f"island {z['zone_id']} {z['name']}: {metric.km2(z['geometry']):.1f} km²")
    for isl in sorted({c["island"] for c in communes}):
        mine = [c for c in communes if c["island"] == isl]
        island_geom = next(z["geometry"] for z in islands if z["zone_id"] == isl)
        for c in mine:
            out_km2 = metric.km2(c["geometry"].difference(island_geom))
            if out_km2 > NEST_TOLERANCE_KM2:
                problems.append(f"commune {c['zone_id']} sticks {out_km2:.4f} km² out of island {isl}")
        overlap = sum(metric.km2(a["geometry"].intersection(b["geometry"]))
                      for i, a in enumerate(mine) for b in mine[i + 1:])
        uncovered = metric.km2(island_geom.difference(unary_union([c["geometry"] for c in mine])))
        report.append(f"communes of {isl}: {len(mine)}, overlapping {overlap:.4f} km², leaving {uncovered:.4f} km² "
                      f"of the island uncovered")
        if overlap > NEST_TOLERANCE_KM2 or uncovered > NEST_TOLERANCE_KM2:
            problems.append(f"communes of {isl} overlap or leave gaps (> {NEST_TOLERANCE_KM2} km²)")

    people, total = population_by_zone(args.source / POPULATION, [z["geometry"] for z in zones] + [island_union])
    (on_land,), _ = population_by_zone(args.source / POPULATION, [land], all_touched=True)
    in_islands = people[-1]
    report.append(f"WorldPop 2020 total {total:,.0f} people; in the islands (pixel centre) {in_islands:,.0f}; "
                  f"outside every island {total - in_islands:,.0f} ({(total - in_islands) / total:.2%})")
    for z, p in zip(zones, people):
        report.append(f"  {z['zone_id']:<18} {z['name']:<14} {p:>10,.0f}")
    for isl in sorted({c["island"] for c in communes}):
        i = next(k for k, z in enumerate(zones) if z["zone_id"] == isl)
        in_communes = sum(p for z, p in zip(zones, people) if z["kind"] == "commune" and z["island"] == isl)
        report.append(f"  communes of {isl} hold {in_communes:,.0f} of the island's {people[i]:,.0f}")
    report.append(f"people on pixels the land does not even touch (in the sea by the OSM coastline): "
                  f"{total - on_land:,.0f} ({(total - on_land) / total:.2%})")

    args.dest.mkdir(parents=True, exist_ok=True)
    (args.dest / "zones.geojson").write_text(geojson_text(
        zones, "zones",
        "Union of the Comoros: islands (admin_level 4) and Mwali's communes (admin_level 8) from OpenStreetMap "
        "(c) OpenStreetMap contributors, ODbL; built by data/comoros/build_comoros_zones.py"), encoding="utf-8")
    (args.dest / "land.geojson").write_text(geojson_text(
        [{"name": "land", "geometry": land}], "land",
        "Land of the Comoros from the OpenStreetMap coastline minus inland water, clipped to the WorldPop extent "
        "(c) OpenStreetMap contributors, ODbL; built by data/comoros/build_comoros_zones.py"), encoding="utf-8")
    for line in notes + report:
        print(line)
    for p in problems:
        print("PROBLEM:", p, file=sys.stderr)
    return 1 if (problems and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
