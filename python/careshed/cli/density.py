"""``careshed density``: resources per N residents by zone, against targets."""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ..analyses.density import Facilities, compare_density, resource_density
from ..errors import InputError
from ..io.table import write_table
from ..io.vector import load, write_layers
from .common import Subcommand, add_csv_point_arguments, key_values, print_table, print_written, resource_fields

DENSITY_EPILOG = """
examples:
  # beds per 1000 by county from county totals in the zone table, against a target of 7.8
  careshed density counties.gpkg --zone-id adcode --population pop2020 \\
      --resource beds=beds_2020 --target beds=7.8 --out results/

  # from hospital points (a CSV with lon/lat columns in WGS84) and a physicians field
  careshed density counties.shp hospitals.csv --x lon --y lat --crs EPSG:4326 \\
      --zone-id code --population pop --resource beds --resource physicians=doctors \\
      --target beds=7.8 --target physicians=4.0 --out results/

  # projection: add the plan's new beds (a table with a county-code column) to the baseline
  careshed density data/quzhou/counties.geojson --zone-id adcode --population pop_census2020 \\
      --resource beds=beds_2020_modelled --target beds=7.8 \\
      --modelled "beds=city-wide 6.39/1000 x census population" \\
      --add data/quzhou/plan_2021_2025_projects.csv --add-resource beds=beds_new_min \\
      --add-zone-id county_adcode --unassigned-in-region --out results/

  # zones in PostGIS
  careshed density "PG:host=db dbname=gis user=me" --zones-layer public.counties ...

rates: beds, physicians, nurses per 1000 residents; general_practitioners per 10,000; ambulances per
30,000; any other resource per 1000 (change with --per NAME=N). Shortfall = whole units missing to
reach the target (0 when met). Facilities in no zone, or with an unknown zone id, are reported as a
warning and in <prefix>_unassigned.csv, never silently dropped. See docs/density.md.
"""


def add_density_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("zones", metavar="ZONES",
                   help="zones file or connection string (GeoPackage, Shapefile, GeoJSON, CSV, 'PG:...')")
    p.add_argument("facilities", metavar="FACILITIES", nargs="*",
                   help="facility points or tables (optional; without them the resource counts are "
                        "fields of ZONES)")
    g = p.add_argument_group("zones")
    g.add_argument("--zone-id", required=True, metavar="FIELD", help="field with a unique id per zone")
    g.add_argument("--population", required=True, metavar="FIELD", help="field with the resident population")
    g.add_argument("--zones-layer", metavar="NAME", help="layer of ZONES (when it has several)")
    g.add_argument("--keep", action="append", metavar="FIELD", default=[],
                   help="zone field to copy into the output (repeatable), e.g. --keep name")
    g = p.add_argument_group("resources and targets")
    g.add_argument("--resource", action="append", required=True, metavar="NAME[=FIELD]",
                   help="resource to count (repeatable): 'beds' reads field beds, 'beds=beds_2020' reads "
                        "field beds_2020 (of FACILITIES if given, else of ZONES)")
    g.add_argument("--target", action="append", metavar="NAME=RATE",
                   help="target rate per N residents (repeatable), e.g. --target beds=7.8")
    g.add_argument("--per", action="append", metavar="NAME=N",
                   help="residents per rate unit (repeatable), e.g. --per ambulances=30000")
    g = p.add_argument_group("facilities")
    g.add_argument("--layer", metavar="NAME", help="layer of FACILITIES")
    add_csv_point_arguments(g, "facility")
    g.add_argument("--facility-zone-id", metavar="FIELD",
                   help="facility field holding the zone id (a table without coordinates)")
    g.add_argument("--metric-crs", metavar="CRS",
                   help="CRS for placing points in zones (default: the zones' own if projected, else UTM)")
    g = p.add_argument_group("scenario (projection)")
    g.add_argument("--add", action="append", metavar="FILE", default=[],
                   help="facilities added on top of the baseline (repeatable), e.g. planned projects")
    g.add_argument("--add-resource", action="append", metavar="NAME=FIELD",
                   help="field of the --add table for a resource, e.g. beds=beds_new_min "
                        "(default: the same fields as --resource)")
    g.add_argument("--add-zone-id", metavar="FIELD", help="zone-id field of the --add table")
    g.add_argument("--add-x", metavar="FIELD", help="longitude field of an --add CSV with coordinates")
    g.add_argument("--add-y", metavar="FIELD", help="latitude field of an --add CSV with coordinates")
    g.add_argument("--add-crs", metavar="CRS", help="CRS of an --add CSV with coordinates")
    g.add_argument("--unassigned-in-region", action="store_true",
                   help="count facilities that fit no zone (e.g. sites not decided) in the region row")
    g = p.add_argument_group("labels and output")
    g.add_argument("--modelled", action="append", metavar="NAME=TEXT",
                   help="mark a resource's input as modelled, with how (repeatable); goes into the notes")
    g.add_argument("--note", action="append", metavar="TEXT", help="note written with the results")
    g.add_argument("--region-label", default="region", help="label of the whole-region row (default region)")
    g.add_argument("--out", metavar="DIR", help="write <prefix>.csv (and .gpkg when ZONES have polygons)")
    g.add_argument("--prefix", default="density", help="output file name prefix (default density)")


def run_density(args) -> int:
    kwargs = dict(zone_id=args.zone_id, population=args.population, resources=resource_fields(args.resource),
                  targets=key_values(args.target, "--target", numeric=True) or None,
                  per=key_values(args.per, "--per", numeric=True) or None,
                  facility_zone_id=args.facility_zone_id, zones_layer=args.zones_layer,
                  facilities_layer=args.layer, x=args.x, y=args.y, crs=args.crs,
                  metric_crs=args.metric_crs, keep=args.keep or None,
                  modelled=key_values(args.modelled, "--modelled", numeric=False) or None,
                  notes=args.note, unassigned_in_region=args.unassigned_in_region,
                  region_label=args.region_label)
    zones = load(args.zones, what="zones", layer=args.zones_layer)
    facilities = list(args.facilities) or None
    if args.add:
        add_res = key_values(args.add_resource, "--add-resource", numeric=False) or None
        add = [Facilities(a, resources=add_res, zone_id=args.add_zone_id, x=args.add_x, y=args.add_y,
                          crs=args.add_crs) for a in args.add]
        table = compare_density(zones, facilities, add=add, **kwargs)
    else:
        if args.add_resource or args.add_zone_id:
            raise InputError("--add-resource/--add-zone-id need --add FILE")
        table = resource_density(zones, facilities, **kwargs)

    print_table(table, table.attrs.get("notes", []), width=200, max_columns=30, float_format="{:.3f}")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        written = [write_table(table, out / f"{args.prefix}.csv")]
        unassigned = table.attrs.get("unassigned")
        if unassigned is not None and len(unassigned):
            written.append(write_table(unassigned, out / f"{args.prefix}_unassigned.csv", index=False))
        geom = getattr(zones, "_geometry_column_name", None)
        if geom and geom in zones.columns:
            numbers = table.iloc[:-1].drop(columns=[k for k in (args.keep or []) if k in table.columns])
            layer = zones.copy()
            for col in numbers.columns:
                layer[col] = numbers[col].to_numpy()
            layers = {args.prefix: layer,
                      "region": table.iloc[[-1]].reset_index().astype({args.zone_id: str}),
                      "notes": pd.DataFrame({"note": table.attrs.get("notes", []) or ["(none)"]})}
            written.append(write_layers(out / f"{args.prefix}.gpkg", layers))
        print_written(written)
    return 0


COMMAND = Subcommand("density", "resources per N residents by zone, against targets (beds per 1000 ...)",
            DENSITY_EPILOG, add_density_arguments, run_density)
