"""The ``careshed`` command line.

Each subcommand is one pair of functions registered in :data:`SUBCOMMANDS`: ``add_<name>_arguments(parser)``
declares its options, ``run_<name>(args)`` does the work and returns an exit status. Later analyses
(reach, catchments, access) add their own pair with :func:`subcommand`; ``main`` needs no change.

Errors that careshed raises on purpose (bad input, missing files) are printed as
``careshed: error: <message>`` with exit status 2 and no traceback; warnings as ``careshed: warning: ...``.
"""
from __future__ import annotations

import argparse
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any, Callable

from .errors import CareshedError, InputError

__all__ = ["main", "subcommand", "SUBCOMMANDS"]

#: name -> (help line, epilog, add_arguments(parser), run(args) -> int)
SUBCOMMANDS: dict[str, tuple[str, str, Callable, Callable]] = {}


def subcommand(name: str, help: str, epilog: str = ""):
    """Register ``run`` (decorated) with its ``add_arguments`` function: ``@subcommand(...)(add_args)``."""
    def register(add_arguments: Callable):
        def deco(run: Callable):
            SUBCOMMANDS[name] = (help, textwrap.dedent(epilog), add_arguments, run)
            return run
        return deco
    return register


def _key_values(items, option: str, *, numeric: bool) -> dict:
    """Parse repeated NAME=VALUE options (`--target beds=7.8`)."""
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise InputError(f"{option} {item!r}: expected NAME=VALUE, e.g. {option} beds="
                             f"{'7.8' if numeric else 'beds_2020'}")
        if numeric:
            try:
                out[name] = float(value)
            except ValueError:
                raise InputError(f"{option} {item!r}: {value!r} is not a number") from None
        else:
            out[name] = value
    return out



def _resources(items) -> dict:
    """``{name: field}`` from repeated NAME[=FIELD] options (`--resource beds=BEDS_2020`; `beds` reads field beds)."""
    out = {}
    for item in items or []:
        name, _, fld = item.partition("=")
        if not name:
            raise InputError(f"--resource {item!r}: expected NAME or NAME=FIELD, e.g. --resource beds=BEDS")
        out[name] = fld or name
    return out


def _profile(text: str):
    if "=" not in text:
        return text
    return {k: float(v) for k, v in _key_values(text.split(","), "--road-profile", numeric=True).items()}


def _print_table(table, notes, *, width: int = 220, max_columns: int = 40, float_format: str = "{:,.3f}") -> None:
    import pandas as pd

    with pd.option_context("display.width", width, "display.max_columns", max_columns, "display.float_format",
                           float_format.format):
        print(table.to_string())
    for note in notes:
        print(f"note: {note}")


def _print_written(written) -> None:
    print("wrote:")
    for pth in written:
        print(f"  {pth}")


def _save_result(result, args) -> None:
    """With --out: ``result.save`` into it (map unless --no-map) and list the files written."""
    if args.out:
        _print_written(result.save(args.out, prefix=args.prefix, draw_map=not args.no_map))


# ---- options shared by the grid analyses (reach, catchments, access): one adder per option group ----------

def _add_csv_point_arguments(g, one: str) -> None:
    """--x/--y/--crs: the coordinate fields and CRS of a point CSV (``one``: 'facility', 'station')."""
    g.add_argument("--x", metavar="FIELD", help=f"longitude/easting field of a {one} CSV")
    g.add_argument("--y", metavar="FIELD", help=f"latitude/northing field of a {one} CSV")
    g.add_argument("--crs", metavar="CRS", help=f"CRS of a {one} CSV, e.g. EPSG:4326")


def _add_zones_and_people_arguments(p: argparse.ArgumentParser, points: str, points_help: str, *,
                                    class_share: bool = False) -> None:
    """ZONES and the points positional (``points``: 'stations', 'facilities'), then the zone / people options."""
    p.add_argument("zones", metavar="ZONES", help="zone polygons (GeoPackage, Shapefile, GeoJSON, 'PG:...'), any CRS")
    p.add_argument(points, metavar=points.upper(),
                   help=f"{points_help} (any OGR source, or a CSV with --x/--y/--crs), any CRS")
    g = p.add_argument_group("zones and people")
    g.add_argument("--zone-id", required=True, metavar="FIELD", help="field with a unique id per zone")
    g.add_argument("--zones-layer", metavar="NAME", help="layer of ZONES")
    g.add_argument("--population", metavar="FIELD",
                   help="zone field with residents per zone (spread over the zone's cells; with "
                        "--population-raster the raster gives the spreading weights)")
    g.add_argument("--population-raster", metavar="RASTER",
                   help="people per cell (WorldPop, GHS-POP; any CRS): totals preserved, nodata ignored")
    if class_share:
        g.add_argument("--class-share", action="append", metavar="CLASS=FIELD",
                       help="share (0..1) of each zone's people in cells of CLASS, from a zone field (repeatable)")
    g.add_argument("--counting", choices=("centre", "fraction"), default="centre",
                   help="cells count in the zone covering their centre (default) or by exact area fractions")
    g.add_argument("--keep", action="append", metavar="FIELD", default=[], help="zone field copied to the outputs")


def _add_point_arguments(g, one: str, many: str, name_use: str = "") -> None:
    """--<one>-id, --<one>-name, --<many>-layer and the CSV coordinates of the stations / facilities."""
    g.add_argument(f"--{one}-id", metavar="FIELD", help=f"{one} id field (default: id/name field or row number)")
    g.add_argument(f"--{one}-name", metavar="FIELD", help=f"{one} name field{name_use}")
    g.add_argument(f"--{many}-layer", metavar="NAME", help=f"layer of {many.upper()}")
    _add_csv_point_arguments(g, one)


def _add_snap_arguments(g, many: str) -> None:
    g.add_argument("--snap-max-m", type=float, metavar="M",
                   help=f"move {many} off impassable cells / into the grid by up to M metres "
                        "(default max(500 m, 2 cells))")
    g.add_argument("--skip-unplaced", action="store_true",
                   help=f"leave out (with a warning) {many} that cannot be placed, instead of stopping")


def _add_travel_arguments(p: argparse.ArgumentParser, *, fractions: bool = False) -> None:
    """The travel model: --friction, --speed-raster, or land cover (+ cover fractions) / roads / background."""
    g = p.add_argument_group("travel model (one of --friction, --speed-raster, or land cover/roads/background)")
    g.add_argument("--friction", metavar="RASTER", help="friction raster (see --friction-unit)")
    g.add_argument("--friction-unit", default="s/m",
                   help="unit of --friction: s/m (default), min/m (Malaria Atlas Project), s/km, min/km, h/km")
    g.add_argument("--speed-raster", metavar="RASTER", help="speed raster in km/h")
    g.add_argument("--landcover", metavar="RASTER", help="land-cover class raster, with --landcover-speed")
    g.add_argument("--landcover-speed", action="append", metavar="CODE=KMH", help="speed of a land-cover class")
    if fractions:
        g.add_argument("--landcover-fraction", action="append", metavar="RASTER=KMH",
                       help="cover-fraction raster (percent) and its speed (repeatable); with --other-speed")
        g.add_argument("--other-speed", type=float, metavar="KMH", help="speed where no listed cover dominates")
    g.add_argument("--roads", action="append", metavar="FILE", help="road lines (OSM .pbf or any OGR source)")
    g.add_argument("--road-profile", default="car",
                   help="car (default), ambulance, walking, or CLASS=KMH,CLASS=KMH (e.g. trunk=60,primary=50)")
    g.add_argument("--background-speed", type=float, metavar="KMH", help="speed every cell has at least")
    g.add_argument("--barriers", action="append", metavar="FILE", help="impassable polygons/lines or raster mask")


def _add_grid_and_label_arguments(p: argparse.ArgumentParser, *, cell_size_m: float, label: str, label_help: str,
                                  prefix: str | None = None) -> None:
    """The grid group (cell size, metric CRS, margin) and the labels-and-output group (--prefix when given)."""
    g = p.add_argument_group("grid")
    g.add_argument("--cell-size", type=float, default=cell_size_m, metavar="M",
                   help=f"cell size in metres (default {cell_size_m:g})")
    g.add_argument("--metric-crs", metavar="CRS",
                   help="CRS of the analysis (default: the zones' own if projected, else their UTM zone)")
    g.add_argument("--margin-m", type=float, default=0.0, metavar="M",
                   help="ground around the zones' extent that travel may cross (default 0)")
    g = p.add_argument_group("labels and output")
    g.add_argument("--label", default=label, help=label_help)
    g.add_argument("--modelled", action="append", metavar="TEXT",
                   help="mark the analysis as using modelled inputs, saying which (repeatable); every output "
                        "then says MODELLED")
    g.add_argument("--note", action="append", metavar="TEXT", help="note written with the results")
    g.add_argument("--region-label", default="region", help="label of the whole-region row (default region)")
    g.add_argument("--out", metavar="DIR", help="write the outputs listed below into DIR")
    if prefix is not None:
        g.add_argument("--prefix", default=prefix, help=f"output file name prefix (default {prefix})")
    g.add_argument("--no-map", action="store_true", help="do not draw the PNG map")


def _study_keywords(args) -> dict:
    """careshed.Study keywords of the zone / people / travel model / grid / label options (the adders above)."""
    fractions = getattr(args, "landcover_fraction", None)  # only `careshed reach` has cover fractions
    travel_given = [args.friction is not None, args.speed_raster is not None,
                    any(v is not None for v in (args.landcover, fractions, args.roads, args.background_speed))]
    if sum(travel_given) != 1:
        raise InputError("give one travel model: --friction RASTER, --speed-raster RASTER, or land cover (--landcover"
                         ") / --roads / --background-speed")
    study = dict(zone_id=args.zone_id, population=args.population, population_raster=args.population_raster,
                 cell_size_m=args.cell_size, crs=args.metric_crs, margin_m=args.margin_m, counting=args.counting,
                 keep=args.keep or None, region_label=args.region_label, zones_layer=args.zones_layer,
                 modelled="; ".join(args.modelled) if args.modelled else None, notes=args.note)
    if args.friction:
        study["friction"] = args.friction
        study["friction_unit"] = args.friction_unit
    elif args.speed_raster:
        study["speed_raster"] = args.speed_raster
    else:
        travel: dict = {}
        if args.landcover:
            if not args.landcover_speed:
                raise InputError("--landcover needs --landcover-speed CODE=KMH (repeatable), e.g. --landcover-speed "
                                 "10=4")
            travel["landcover"] = args.landcover
            travel["landcover_speeds"] = {int(float(k)): v for k, v in
                                          _key_values(args.landcover_speed, "--landcover-speed", numeric=True).items()}
        if fractions:
            travel["landcover_fractions"] = _key_values(fractions, "--landcover-fraction", numeric=True)
            travel["other_speed_kmh"] = args.other_speed
        if args.roads:
            travel["roads"] = list(args.roads)
            travel["road_profile"] = _profile(args.road_profile)
        if args.background_speed is not None:
            travel["background_speed_kmh"] = args.background_speed
        if args.barriers:
            travel["barriers"] = list(args.barriers)
        study["travel"] = travel
    return study


def _placement_keywords(args, *, id_keyword: str, point_id, point_name, layer) -> dict:
    """Keywords placing the stations / facilities on the grid (Study.reach, study_catchments, study_access)."""
    return {id_keyword: point_id, "name_field": point_name, "layer": layer, "x": args.x, "y": args.y,
            "crs": args.crs, "snap_max_m": args.snap_max_m, "unplaced": "skip" if args.skip_unplaced else "error",
            "label": args.label}


# ---- careshed density ---------------------------------------------------------------------------

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
    _add_csv_point_arguments(g, "facility")
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


@subcommand("density", "resources per N residents by zone, against targets (beds per 1000 ...)",
            DENSITY_EPILOG)(add_density_arguments)
def run_density(args) -> int:
    import pandas as pd

    from .density import Facilities, compare_density, resource_density, write_table
    from .io import load, write_layers

    kwargs = dict(zone_id=args.zone_id, population=args.population, resources=_resources(args.resource),
                  targets=_key_values(args.target, "--target", numeric=True) or None,
                  per=_key_values(args.per, "--per", numeric=True) or None,
                  facility_zone_id=args.facility_zone_id, zones_layer=args.zones_layer,
                  facilities_layer=args.layer, x=args.x, y=args.y, crs=args.crs,
                  metric_crs=args.metric_crs, keep=args.keep or None,
                  modelled=_key_values(args.modelled, "--modelled", numeric=False) or None,
                  notes=args.note, unassigned_in_region=args.unassigned_in_region,
                  region_label=args.region_label)
    zones = load(args.zones, what="zones", layer=args.zones_layer)
    facilities = list(args.facilities) or None
    if args.add:
        add_res = _key_values(args.add_resource, "--add-resource", numeric=False) or None
        add = [Facilities(a, resources=add_res, zone_id=args.add_zone_id, x=args.add_x, y=args.add_y,
                          crs=args.add_crs) for a in args.add]
        table = compare_density(zones, facilities, add=add, **kwargs)
    else:
        if args.add_resource or args.add_zone_id:
            raise InputError("--add-resource/--add-zone-id need --add FILE")
        table = resource_density(zones, facilities, **kwargs)

    _print_table(table, table.attrs.get("notes", []), width=200, max_columns=30, float_format="{:.3f}")
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
        _print_written(written)
    return 0


# ---- careshed reach -----------------------------------------------------------------------------

REACH_EPILOG = """
response time = --dispatch-minutes (every station) + turnout (per station, seconds) + travel time over
the friction surface from the nearest station. A person is covered when the response time of their cell
is at most the threshold of the cell's class (inclusive). People are counted on the grid; the isochrone
polygons in the GeoPackage are for display only. See docs/reach.md.

examples:
  # urban 11 / rural 15 minutes, 3 minutes to leave; roads from OSM over a 5 km/h walking background,
  # urban = GHSL-like dense clusters of a WorldPop raster; 100 m cells in the UTM zone of the counties
  careshed reach counties.gpkg stations.gpkg --zone-id code --population-raster worldpop.tif \\
      --roads roads.osm.pbf --road-profile ambulance --background-speed 5 \\
      --urban-density 300 --urban-minutes 11 --rural-minutes 15 --dispatch-minutes 3 \\
      --vehicles-field ambulances --cell-size 100 --out results/

  # the modelled Quzhou example (what `careshed demo` runs): census totals spread by modelled urban cores
  careshed reach data/quzhou/counties.geojson data/quzhou/county_seats.csv --x lon --y lat --crs EPSG:4326 \\
      --station-id county_adcode --zone-id adcode --population pop_census2020 --keep name_en \\
      --urban-polygons data/quzhou/urban_cores_modelled.geojson \\
      --roads data/quzhou/roads_modelled.geojson --road-profile trunk=60 --background-speed 25 \\
      --urban-minutes 11 --rural-minutes 15 --dispatch-minutes 3 --modelled "roads, urban cores" --out out/

  # the one-hour circle to top-tier hospitals: one class, threshold 60 minutes, a friction raster
  careshed reach counties.gpkg tertiary_hospitals.csv --x lon --y lat --crs EPSG:4326 \\
      --zone-id code --population pop --friction friction_s_per_m.tif --minutes 60 --out results/ --prefix one_hour

classes (pick at most one; without one every cell has one class and --minutes N is the threshold):
  --urban-polygons FILE        urban where a cell's centre is inside a polygon, rural elsewhere
  --urban-density [PER_KM2]    urban = connected clusters of cells >= PER_KM2 people/km2 (default 300) holding
                               >= --urban-min-people (default 5000) people; rural elsewhere
  --class-raster FILE --class-code CODE=CLASS ...   e.g. GHSL SMOD: --class-code 30=urban --class-code 13=rural
  --zone-class FIELD           each zone's class name from a field of ZONES
outputs (with --out): PREFIX.csv (zone table, notes as # lines), PREFIX_stations.csv, PREFIX_curve.csv,
PREFIX.gpkg (zones, region, stations, isochrones, curve, notes), PREFIX.png (map), PREFIX_minutes.tif and
PREFIX_nearest.tif (Cloud-Optimised GeoTIFFs), PREFIX_population.tif, PREFIX_class.tif. Every file is
written under a temporary name and renamed.
"""


def add_reach_arguments(p: argparse.ArgumentParser) -> None:
    _add_zones_and_people_arguments(p, "stations", "station points", class_share=True)
    g = p.add_argument_group("urban/rural classes and thresholds")
    g.add_argument("--urban-polygons", metavar="FILE", help="urban areas as polygons (rest rural)")
    g.add_argument("--urban-density", nargs="?", const=300.0, type=float, metavar="PER_KM2",
                   help="urban = dense clusters of the population grid (default 300 people/km2)")
    g.add_argument("--urban-min-people", type=float, default=5000.0, metavar="N",
                   help="people a dense cluster needs to be urban (default 5000)")
    g.add_argument("--class-raster", metavar="RASTER", help="class raster (e.g. GHSL SMOD) with --class-code")
    g.add_argument("--class-code", action="append", metavar="CODE=CLASS", help="raster code to class name (repeatable)")
    g.add_argument("--other-class", metavar="CLASS", help="class of raster codes not listed (default: refuse them)")
    g.add_argument("--zone-class", metavar="FIELD", help="zone field holding each zone's class name")
    g.add_argument("--urban-minutes", type=float, default=11.0, metavar="MIN",
                   help="threshold for urban cells, minutes (default 11)")
    g.add_argument("--rural-minutes", type=float, default=15.0, metavar="MIN",
                   help="threshold for rural cells, minutes (default 15)")
    g.add_argument("--minutes", action="append", metavar="[CLASS=]MIN",
                   help="threshold in minutes: one number when there are no classes, or CLASS=MIN per class "
                        "(repeatable; overrides --urban-minutes/--rural-minutes)")
    g = p.add_argument_group("stations and delays")
    _add_point_arguments(g, "station", "stations")
    g.add_argument("--dispatch-minutes", type=float, default=0.0, metavar="MIN",
                   help="call-to-departure delay added to every response (e.g. 3)")
    g.add_argument("--turnout-field", metavar="FIELD", help="station field with extra turnout seconds")
    g.add_argument("--turnout-seconds", type=float, metavar="S", help="turnout seconds for every station")
    g.add_argument("--vehicles-field", metavar="FIELD",
                   help="station field with ambulances, for the one-per-N-residents check")
    g.add_argument("--residents-per-vehicle", type=float, default=30000.0, metavar="N",
                   help="residents per ambulance (default 30000)")
    _add_snap_arguments(g, "stations")
    _add_travel_arguments(p, fractions=True)
    _add_grid_and_label_arguments(p, cell_size_m=100.0, label="ambulance stations",
                                  label_help="what the stations are (titles, notes)", prefix="reach")


def reach_arguments(args) -> tuple[dict, dict]:
    """(Study keywords, Study.reach keywords) from parsed `careshed reach` options."""
    sources = [args.urban_polygons is not None, args.urban_density is not None, args.class_raster is not None,
               args.zone_class is not None]
    if sum(sources) > 1:
        raise InputError("give at most one of --urban-polygons, --urban-density, --class-raster, --zone-class")
    classes = None
    if args.urban_polygons:
        classes = {"polygons": args.urban_polygons, "inside": "urban", "outside": "rural"}
    elif args.urban_density is not None:
        classes = {"density_per_km2": args.urban_density, "min_people": args.urban_min_people}
    elif args.class_raster:
        if not args.class_code:
            raise InputError("--class-raster needs --class-code CODE=CLASS (repeatable), e.g. --class-code 30=urban")
        codes = {}
        for k, v in _key_values(args.class_code, "--class-code", numeric=False).items():
            try:
                codes[float(k)] = v
            except ValueError:
                raise InputError(f"--class-code {k}={v}: {k!r} is not a number") from None
        classes = {"raster": args.class_raster, "codes": codes, "other": args.other_class}
    elif args.zone_class:
        classes = {"zone_field": args.zone_class}
    thresholds: Any
    if args.minutes:
        if len(args.minutes) == 1 and "=" not in args.minutes[0]:
            try:
                thresholds = float(args.minutes[0])
            except ValueError:
                raise InputError(f"--minutes {args.minutes[0]!r}: expected a number of minutes or CLASS=MIN") from None
        else:
            thresholds = _key_values(args.minutes, "--minutes", numeric=True)
    elif classes is not None:
        thresholds = {"urban": args.urban_minutes, "rural": args.rural_minutes}
        if args.class_raster or args.zone_class:
            names = list(dict.fromkeys(list(classes.get("codes", {}).values()) + [args.other_class]))
            names = [n for n in names if n]
            if set(names) - {"urban", "rural"}:
                raise InputError(f"the classes are {', '.join(names)}: give --minutes CLASS=MIN for each")
    else:
        raise InputError("give --minutes N (one threshold for every cell), or urban/rural classes (--urban-polygons, "
                         "--urban-density, --class-raster or --zone-class) with --urban-minutes/--rural-minutes")
    study = _study_keywords(args)
    study.update(classes=classes, thresholds_min=thresholds if isinstance(thresholds, dict) else None)
    if args.class_share:
        study["class_shares"] = _key_values(args.class_share, "--class-share", numeric=False)
    run = _placement_keywords(args, id_keyword="station_id", point_id=args.station_id, point_name=args.station_name,
                              layer=args.stations_layer)
    run.update(thresholds_min=thresholds, dispatch_minutes=args.dispatch_minutes,
               turnout_seconds=args.turnout_field if args.turnout_field else args.turnout_seconds,
               vehicles=args.vehicles_field, residents_per_vehicle=args.residents_per_vehicle)
    return study, run


@subcommand("reach", "ambulance reach: people covered within urban/rural response thresholds, by zone",
            REACH_EPILOG)(add_reach_arguments)
def run_reach(args) -> int:
    from .reach import Study

    study_kw, run_kw = reach_arguments(args)
    study = Study(args.zones, **study_kw)
    result = study.reach(args.stations, **run_kw)
    _print_table(result.table, result.notes, float_format="{:.3f}")
    _save_result(result, args)
    return 0


# ---- careshed catchments / careshed access (shared: zones, people, travel model, grid, facilities) -----

def _add_study_arguments(p: argparse.ArgumentParser, what: str) -> None:
    """ZONES FACILITIES and the zone / people / travel model / grid / facility options of a careshed.Study."""
    _add_zones_and_people_arguments(p, "facilities", f"{what} as points")
    g = p.add_argument_group(f"{what}")
    _add_point_arguments(g, "facility", "facilities", " (map labels)")
    _add_snap_arguments(g, "facilities")
    _add_travel_arguments(p)
    _add_grid_and_label_arguments(p, cell_size_m=250.0, label="facilities",
                                  label_help="what the facilities are, e.g. hospitals (titles, notes)")


def _study_and_facility_arguments(args) -> tuple[dict, dict]:
    """(careshed.Study keywords, facility placement keywords) from the shared options."""
    if args.population is None and args.population_raster is None:
        raise InputError("give the people: --population FIELD (residents per zone) and/or --population-raster "
                         "RASTER (people per cell)")
    return _study_keywords(args), _placement_keywords(args, id_keyword="facility_id", point_id=args.facility_id,
                                                      point_name=args.facility_name, layer=args.facilities_layer)


CATCHMENTS_EPILOG = """
Every populated cell belongs to the facility it reaches first by travel time (ties to the lowest facility
index; cells beyond --max-minutes belong to none). Per facility: catchment population, area, resources per
1000 residents of the catchment (e.g. beds per 1000), mean and 90th-percentile minutes. With --capacity, the
WHO AccessMod capacity-aware coverage too: facilities in order (--order) each take the remaining people in
one-minute bands ((k-1, k] minutes; a cell at exactly --max-minutes is inside) until their capacity
(--capacity FIELD x --patients-per-bed) is used; the last band fractionally. See docs/catchments.md and
docs/planning.md.

examples:
  # beds per 1000 of each hospital's catchment within 60 minutes, WorldPop people, OSM roads over 5 km/h
  careshed catchments districts.gpkg hospitals.gpkg --zone-id code --population-raster worldpop.tif \\
      --roads roads.osm.pbf --road-profile car --background-speed 5 --resource beds=BEDS \\
      --max-minutes 60 --cell-size 250 --label hospitals --out results/

  # the same with capacity-aware coverage: each bed serves 150 people (capacity = BEDS x 150)
  careshed catchments districts.gpkg hospitals.gpkg --zone-id code --population-raster worldpop.tif \\
      --friction friction_min_per_m.tif --friction-unit min/m --resource beds=BEDS \\
      --capacity BEDS --patients-per-bed 150 --max-minutes 60 --out results/

  # the modelled Quzhou example: one hospital at each county seat (a CSV with lon/lat and a beds field)
  careshed catchments data/quzhou/counties.geojson hospitals.csv --x lon --y lat --crs EPSG:4326 \\
      --facility-id county_adcode --zone-id adcode --population pop_census2020 --keep name_en \\
      --roads data/quzhou/roads_modelled.geojson --road-profile trunk=60 --background-speed 25 \\
      --resource beds --max-minutes 60 --modelled "population, roads, hospital beds and sites" --out out/

outputs (with --out): PREFIX.csv (one row per facility; notes as # lines), PREFIX_zones.csv (people reached
per zone, covered share with --capacity), PREFIX.gpkg (catchments polygons with their numbers, facilities,
zones, region, notes), PREFIX.png (map), PREFIX_nearest.tif and PREFIX_minutes.tif (Cloud-Optimised
GeoTIFFs); with --capacity also PREFIX_capacity.csv and PREFIX_capacity_uncovered.tif. Every file is
written under a temporary name and renamed. Polygons are for display: people are counted on the grid.
"""


def add_catchments_arguments(p: argparse.ArgumentParser) -> None:
    _add_study_arguments(p, "facilities")
    g = p.add_argument_group("catchments and capacity")
    g.add_argument("--resource", action="append", metavar="NAME[=FIELD]",
                   help="facility resource to count per 1000 residents of the catchment (repeatable): 'beds' reads "
                        "field beds, 'beds=BEDS_2020' reads field BEDS_2020")
    g.add_argument("--max-minutes", type=float, metavar="MIN",
                   help="catchments reach this far (inclusive); farther cells belong to no catchment "
                        "(default: no limit; required with --capacity)")
    g.add_argument("--capacity", metavar="FIELD",
                   help="facility field with the people it can serve (or beds, with --patients-per-bed): "
                        "adds the capacity-aware coverage")
    g.add_argument("--patients-per-bed", type=float, metavar="N",
                   help="capacity = --capacity FIELD x N (e.g. beds x people served per bed)")
    g.add_argument("--band-minutes", type=float, default=1.0, metavar="MIN",
                   help="time bands of the capacity coverage (default 1 minute; 0 = one band per distinct time)")
    g.add_argument("--order", default="population", metavar="population|index|FIELD",
                   help="processing order of the capacity coverage: population within --max-minutes, descending "
                        "(default), file order, or a facility field (descending)")
    g.add_argument("--prefix", default="catchments", help="output file name prefix (default catchments)")


@subcommand("catchments", "nearest-facility catchments by travel time (beds per 1000 of each catchment), "
            "optionally capacity-aware coverage (AccessMod)", CATCHMENTS_EPILOG)(add_catchments_arguments)
def run_catchments(args) -> int:
    from .planning import study_catchments
    from .reach import Study

    study_kw, place_kw = _study_and_facility_arguments(args)
    resources = _resources(args.resource)
    if args.patients_per_bed is not None and args.capacity is None:
        raise InputError("--patients-per-bed needs --capacity FIELD (the beds field)")
    if args.capacity is not None and args.max_minutes is None:
        raise InputError("--capacity needs --max-minutes (the maximum travel time of the coverage, e.g. 60)")
    study = Study(args.zones, **study_kw)
    result = study_catchments(study, args.facilities, resources=resources or None, capacity=args.capacity,
                              patients_per_bed=args.patients_per_bed, max_minutes=args.max_minutes,
                              band_minutes=args.band_minutes, order=args.order, **place_kw)
    _print_table(result.table.drop(columns=["x", "y", "row", "col"]), [])
    print()
    _print_table(result.zones, result.notes)
    _save_result(result, args)
    return 0


ACCESS_EPILOG = """
Floating catchment accessibility: each facility's supply (beds, doctors) is shared among everybody within its
catchment (travel time <= --max-minutes, inclusive), weighted by distance decay; each cell's score is the
sum of the shares it can reach: supply per resident, shown x --per (default: beds per 1000). Zones get the
population-weighted mean over the people with a facility in reach; people with none are counted apart
(population_no_access). The conservation check (sum of population x score = supply of the facilities with
people in reach) is printed in the notes. See docs/access.md and docs/planning.md.

methods:
  2sfca    Luo & Wang 2003: weight 1 inside the catchment (or your --steps)
  e2sfca   Luo & Qi 2009: steps, default thirds of --max-minutes -> 1.00 / 0.68 / 0.22
           (0-10 / 10-20 / 20-30 min for 30 minutes)
  g2sfca   Dai 2010: Gaussian weight reaching 0 at --max-minutes
  3sfca    Wan et al. 2012: step weights and selection weights among the facilities in reach
  gravity  competition-weighted gravity model, weight minutes^-1

examples:
  # beds per 1000, enhanced 2SFCA with Luo & Qi's steps, 30-minute catchment
  careshed access districts.gpkg hospitals.gpkg --zone-id code --population-raster worldpop.tif \\
      --roads roads.osm.pbf --background-speed 5 --supply BEDS --method e2sfca --max-minutes 30 \\
      --steps 10:1,20:0.68,30:0.22 --label hospitals --out results/

  # doctors per 10,000 with plain 2SFCA over a friction raster (Malaria Atlas Project, minutes per metre)
  careshed access districts.shp clinics.csv --x lon --y lat --crs EPSG:4326 --zone-id code --population pop \\
      --friction friction.tif --friction-unit min/m --supply doctors --per 10000 --method 2sfca \\
      --max-minutes 60 --out results/ --prefix doctors

outputs (with --out): PREFIX.csv (one row per zone + the region; notes as # lines), PREFIX_facilities.csv
(supply ratio of each facility's catchment), PREFIX.gpkg (zones with the scores, region, facilities, notes),
PREFIX.tif (Cloud-Optimised GeoTIFF of score x per per cell; NaN = nobody lives there or nothing in reach),
PREFIX.png (map). Every file is written under a temporary name and renamed.

From your own cost table instead (e.g. network minutes village -> hospital, the pysal/access layout):
  careshed access-table DEMAND SUPPLY COSTS --demand-id ... --supply-id ... --max-cost ...
(see 'careshed access-table --help').
"""


def add_access_arguments(p: argparse.ArgumentParser) -> None:
    _add_study_arguments(p, "facilities")
    g = p.add_argument_group("accessibility model")
    g.add_argument("--supply", required=True, metavar="FIELD", help="facility field with the supply, e.g. beds")
    g.add_argument("--method", choices=("2sfca", "e2sfca", "g2sfca", "3sfca", "gravity"), default="e2sfca",
                   help="model (default e2sfca; see below)")
    g.add_argument("--max-minutes", type=float, required=True, metavar="MIN",
                   help="catchment size in minutes of travel (inclusive), e.g. 30")
    g.add_argument("--steps", metavar="MIN:W,...",
                   help="step weights, inclusive upper bounds in minutes, e.g. 10:1,20:0.68,30:0.22 "
                        "(2sfca, e2sfca, 3sfca)")
    g.add_argument("--per", type=float, default=1000.0, metavar="N",
                   help="show supply per N residents (default 1000: beds per 1000)")
    g.add_argument("--normalize", action="store_true",
                   help="divide scores by the population-weighted mean (1 = the regional average)")
    g.add_argument("--prefix", default="access", help="output file name prefix (default access)")


@subcommand("access", "floating catchment accessibility (2SFCA, E2SFCA, G2SFCA, 3SFCA, gravity): supply per "
            "resident per cell and zone", ACCESS_EPILOG)(add_access_arguments)
def run_access(args) -> int:
    from .planning import parse_steps, study_access
    from .reach import Study

    study_kw, place_kw = _study_and_facility_arguments(args)
    steps = parse_steps(args.steps) if args.steps else None  # checked before the (slower) study is built
    study = Study(args.zones, **study_kw)
    result = study_access(study, args.facilities, supply=args.supply, max_minutes=args.max_minutes,
                          method=args.method, steps=steps, per=args.per, normalize=args.normalize, **place_kw)
    _print_table(result.table.drop(columns=["score"]), result.notes)  # score x per is shown; score is in the CSV
    _save_result(result, args)
    return 0


# ---- careshed demo ------------------------------------------------------------------------------

DEMO_EPILOG = """
The demo uses the Quzhou example shipped with careshed (data/quzhou, see its README): six counties
with 2020 census population, a MODELLED 2020 baseline of beds per county (city-wide 6.39 per 1000 x
population: per-county counts are not published), the plan's target of 7.8 beds per 1000 for 2025 and
the new beds of the plan's 39 construction projects.

Then the ambulance reach against the plan's standard (urban 11 min, rural 15 min, 3 min to leave) from a
station at each county seat, on 100 m cells. No road network or population raster is public for Quzhou:
population, urban cores, roads and station sites are MODELLED (stated in data/quzhou/README.md) and every
reach output says so.

Last, beds per 1000 three ways: the county rate, the rate of each county hospital's catchment (nearest by
travel time, within one hour) and the E2SFCA score (one-hour catchment, Luo & Qi steps), per county; the
hospitals are MODELLED too (one per county seat holding the county's modelled beds). See docs/planning.md.

examples:
  careshed demo                      # writes out/quzhou_density.{csv,gpkg,png}, out/quzhou_reach.{csv,gpkg,png}
                                     # and the GeoTIFFs out/quzhou_reach_{minutes,nearest,population,class}.tif,
                                     # then out/quzhou_access.{csv,gpkg,png} (county vs catchment vs E2SFCA)
  careshed demo --out /tmp/q --beds max --count-relocations --no-reach
"""


def add_demo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="out", metavar="DIR", help="output folder (default: out)")
    p.add_argument("--beds", choices=("min", "max"), default="min",
                   help="use each project's minimum (default) or maximum planned beds (#2 gives 300-500)")
    p.add_argument("--count-relocations", action="store_true",
                   help="count all 1200 beds of relocation project #34 as new (they include existing "
                        "beds: an upper bound); default excluded")
    p.add_argument("--no-reach", action="store_true",
                   help="only the beds-per-1000 part (skip the modelled ambulance reach and the catchment / "
                        "E2SFCA comparison)")


@subcommand("demo", "run the Quzhou example: beds per 1000 by county vs the plan, ambulance reach, and beds per 1000 "
            "by county vs catchment vs E2SFCA (modelled)",
            DEMO_EPILOG)(add_demo_arguments)
def run_demo_command(args) -> int:
    from .demo import run_demo

    run_demo(args.out, beds=args.beds, count_relocations=args.count_relocations, reach=not args.no_reach)
    return 0


# ---- entry point --------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="careshed",
        description="careshed — who can reach care, how fast, and is there enough of it where people live.",
        epilog="Run 'careshed <command> --help' for a command's options and examples.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    try:
        from . import __version__
    except ImportError:  # pragma: no cover - the compiled module is missing
        __version__ = "unknown"
    parser.add_argument("--version", action="version", version=f"careshed {__version__}")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, epilog, add_arguments, run) in SUBCOMMANDS.items():
        sp = subs.add_parser(name, help=help_text, description=help_text, epilog=epilog,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
        add_arguments(sp)
        sp.set_defaults(_run=run)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"careshed: warning: {message}", file=sys.stderr)


def main(argv=None) -> int:
    """Entry point of the ``careshed`` command; returns the exit status (0 ok, 2 error)."""
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    previous = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        return int(args._run(args) or 0)
    except CareshedError as exc:
        print(f"careshed: error: {exc}", file=sys.stderr)
        return 2
    finally:
        warnings.showwarning = previous
