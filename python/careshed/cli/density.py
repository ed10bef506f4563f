"""``careshed density``: resources per N residents by zone, against targets."""
from __future__ import annotations

import argparse
from ..analyses.density import Density, Facilities, compare_density, resource_density
from ..errors import UsageError
from ..io.vector import load
from .common import (Subcommand, add_csv_point_arguments, add_output_arguments, add_zone_arguments, key_values,
                     modelled_option, per_option, print_table, print_written, resource_fields)

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

outputs (with --out; all of them or none): PREFIX.csv (one row per zone + the region; notes in PREFIX.notes.txt),
PREFIX_unassigned.csv (facilities in no zone, when there are any), PREFIX.gpkg (layers density: zones with
the numbers, region, notes) and PREFIX.png (map of the first resource's rate against its target) when ZONES
have polygons.
"""


def add_density_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("zones", metavar="ZONES",
                   help="zones file or connection string (GeoPackage, Shapefile, GeoJSON, CSV, 'PG:...')")
    p.add_argument("facilities", metavar="FACILITIES", nargs="*",
                   help="facility points or tables (optional; without them the resource counts are "
                        "fields of ZONES)")
    g = p.add_argument_group("zones")
    add_zone_arguments(g)
    g.add_argument("--population", required=True, metavar="FIELD", help="zone field with the resident population")
    g = p.add_argument_group("resources and targets")
    g.add_argument("--resource", action="append", required=True, metavar="NAME[=FIELD]",
                   help="resource to count (repeatable): 'beds' reads field beds, 'beds=beds_2020' reads "
                        "field beds_2020 (of FACILITIES if given, else of ZONES)")
    g.add_argument("--target", action="append", metavar="NAME=RATE",
                   help="target rate per N residents (repeatable), e.g. --target beds=7.8")
    g.add_argument("--per", action="append", metavar="[NAME=]N",
                   help="residents per rate unit: N for every resource, or NAME=N for one (repeatable), e.g. "
                        "--per ambulances=30000 (defaults: see below)")
    g = p.add_argument_group("facilities")
    g.add_argument("--facilities-layer", "--layer", dest="facilities_layer", metavar="NAME",
                   help="layer of FACILITIES")
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
    add_output_arguments(p.add_argument_group("labels and output"), prefix="density")


def run_density(args) -> int:
    kwargs = dict(zone_id=args.zone_id, population=args.population, resources=resource_fields(args.resource),
                  targets=key_values(args.target, "--target", numeric=True) or None, per=per_option(args.per),
                  facility_zone_id=args.facility_zone_id, zones_layer=args.zones_layer,
                  facilities_layer=args.facilities_layer, x=args.x, y=args.y, crs=args.crs,
                  metric_crs=args.metric_crs, keep=args.keep or None, modelled=modelled_option(args.modelled),
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
            raise UsageError("--add-resource/--add-zone-id need --add FILE")
        table = resource_density(zones, facilities, **kwargs)
    result = Density(table, zones)
    print_table(table, result.notes, max_columns=30, float_format="{:.3f}")
    if args.out:
        print_written(result.save(args.out, prefix=args.prefix, draw_map=not args.no_map and result.has_polygons,
                                  qgis_project=args.qgis_project and result.has_polygons, excel=args.excel))
    return 0


COMMAND = Subcommand("density", "resources per N residents by zone, against targets (beds per 1000 ...)",
            DENSITY_EPILOG, add_density_arguments, run_density)
