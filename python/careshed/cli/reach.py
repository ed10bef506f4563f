"""``careshed reach``: ambulance reach — people covered within the response thresholds, by zone."""
from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any

from ..constants import RESIDENTS_PER_VEHICLE
from ..errors import UsageError
from ..study import Study
from ..tiled.search import dashboard_address, dask_client
from .common import (Subcommand, add_grid_and_label_arguments, add_point_arguments, add_snap_arguments,
                     add_network_arguments, add_travel_arguments, add_zones_and_people_arguments, key_values,
                     network_keywords, placement_keywords, print_table,
                     save_result, study_keywords)

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

  # the modelled Quzhou example: census totals spread UNIFORMLY over each county's cells (`careshed demo`
  # spreads them by the GHSL urban shares into the urban cores instead, so its covered shares are higher)
  careshed reach data/quzhou/counties.geojson data/quzhou/county_seats.csv --x lon --y lat --crs EPSG:4326 \\
      --facility-id county_adcode --zone-id adcode --population pop_census2020 --keep name_en \\
      --urban-polygons data/quzhou/urban_cores_modelled.geojson \\
      --roads data/quzhou/roads_modelled.geojson --road-profile trunk=60 --background-speed 25 \\
      --urban-minutes 11 --rural-minutes 15 --dispatch-minutes 3 --modelled "roads, urban cores" --out out/

  # driving on the road graph of an OSM extract (one-way streets, turn restrictions): stations and cell centres
  # snap to the nearest node, 5 km/h off the road; the background speed and land mask say which cells are land
  careshed reach islands.gpkg hospitals.gpkg --zone-id zone_id --population-raster population.tif \\
      --background-speed 5 --land land.geojson --network comores.osm.pbf --network-profile car --minutes 15 \\
      --hour-factors rush.csv --hour 3 --hour 8 --out results/

  # the one-hour circle to top-tier hospitals: one class, threshold 60 minutes, a friction raster
  careshed reach counties.gpkg tertiary_hospitals.csv --x lon --y lat --crs EPSG:4326 \\
      --zone-id code --population pop --friction friction_s_per_m.tif --minutes 60 --out results/ --prefix one_hour

classes (pick at most one; without one every cell has one class and --minutes N is the threshold):
  --urban-polygons FILE        urban where a cell's centre is inside a polygon, rural elsewhere
  --urban-density [PER_KM2]    urban = connected clusters of cells >= PER_KM2 people/km2 (default 300) holding
                               >= --urban-min-people (default 5000) people; rural elsewhere
  --class-raster FILE --class-code CODE=CLASS ...   e.g. GHSL SMOD: --class-code 30=urban --class-code 13=rural
  --zone-class FIELD           each zone's class name from a field of ZONES
outputs (with --out): PREFIX.csv (zone table; notes in PREFIX.notes.txt), PREFIX_stations.csv, PREFIX_curve.csv,
PREFIX.gpkg (zones, region, stations, isochrones, curve, notes), PREFIX.png (map), PREFIX_minutes.tif and
PREFIX_nearest.tif (Cloud-Optimised GeoTIFFs), PREFIX_population.tif, PREFIX_class.tif. Every file is
written under a temporary name and renamed.
"""


def add_class_arguments(p: argparse.ArgumentParser) -> None:
    """The "urban/rural classes and thresholds" option group (shared with ``careshed optimize``)."""
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


def add_reach_arguments(p: argparse.ArgumentParser) -> None:
    add_zones_and_people_arguments(p, "stations", "station points", class_share=True)
    add_class_arguments(p)
    g = p.add_argument_group("stations and delays")
    add_point_arguments(g, "STATIONS", former=("station", "stations"))
    g.add_argument("--dispatch-minutes", type=float, default=0.0, metavar="MIN",
                   help="call-to-departure delay added to every response (e.g. 3)")
    g.add_argument("--turnout-field", metavar="FIELD", help="station field with extra turnout seconds")
    g.add_argument("--turnout-seconds", type=float, metavar="S", help="turnout seconds for every station")
    g.add_argument("--vehicles-field", metavar="FIELD",
                   help="station field with ambulances, for the one-per-N-residents check")
    g.add_argument("--residents-per-vehicle", type=float, default=RESIDENTS_PER_VEHICLE, metavar="N",
                   help=f"residents per ambulance (default {RESIDENTS_PER_VEHICLE:g})")
    add_snap_arguments(g, "stations")
    add_travel_arguments(p, fractions=True)
    p.add_argument("--hour", type=int, action="append", metavar="H",
                   help="hour of the day, with --hour-factors (repeatable): one hour runs the reach at that hour; "
                        "several write the covered share at each hour and the worst hour per zone (PREFIX.csv), "
                        "the slowest response per cell over the hours (PREFIX_worst_minutes.tif) and the map of "
                        "the region's worst hour")
    add_network_arguments(p)
    add_grid_and_label_arguments(p, label="ambulance stations",
                                  label_help="what the stations are (titles, notes)", prefix="reach")
    add_tile_arguments(p)


def add_tile_arguments(p: argparse.ArgumentParser) -> None:
    """--tiles, --workers, --scheduler: the travel-time search tile by tile on Dask (docs/scale.md)."""
    g = p.add_argument_group("tiles on Dask (grids beyond one machine; same results)")
    g.add_argument("--tiles", metavar="N|auto",
                   help="search tile by tile, N cells per tile side (e.g. 4096), or 'auto' (tiles only when the "
                        "in-memory search would not fit); grids of one tile use the in-memory search")
    g.add_argument("--workers", type=int, metavar="N", help="Dask worker processes started here (default: cores)")
    g.add_argument("--scheduler", metavar="ADDRESS", help="an existing Dask scheduler, e.g. tcp://host:8786 "
                   "(the Dask dashboard's address is printed when the run starts)")
    g.add_argument("--scratch", metavar="DIR", help="folder for the tiles' labels between rounds; with --scheduler on "
                   "several machines one every worker can write (NFS). Default: a local temporary folder")


def tile_keywords(args) -> dict:
    """Study keywords of :func:`add_tile_arguments`."""
    tiles = args.tiles
    if tiles is not None and tiles != "auto":
        try:
            tiles = int(tiles)
        except ValueError:
            raise UsageError(f"--tiles {tiles!r}: expected a number of cells per tile side or 'auto'") from None
        if tiles < 2:
            raise UsageError(f"--tiles {tiles}: tiles need at least 2 cells per side")
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers {args.workers}: give at least one worker")
    if tiles is None and (args.workers is not None or args.scheduler is not None or args.scratch is not None):
        raise UsageError("--workers, --scheduler and --scratch go with --tiles N (or --tiles auto)")
    return {"tiles": tiles, "workers": args.workers, "scheduler": args.scheduler, "scratch": args.scratch}


def classes_and_thresholds(args) -> tuple[dict | None, Any]:
    """(Study ``classes=``, ``thresholds_min``) from the options of :func:`add_class_arguments`."""
    sources = [args.urban_polygons is not None, args.urban_density is not None, args.class_raster is not None,
               args.zone_class is not None]
    if sum(sources) > 1:
        raise UsageError("give at most one of --urban-polygons, --urban-density, --class-raster, --zone-class")
    classes = None
    if args.urban_polygons:
        classes = {"polygons": args.urban_polygons, "inside": "urban", "outside": "rural"}
    elif args.urban_density is not None:
        classes = {"density_per_km2": args.urban_density, "min_people": args.urban_min_people}
    elif args.class_raster:
        if not args.class_code:
            raise UsageError("--class-raster needs --class-code CODE=CLASS (repeatable), e.g. --class-code 30=urban")
        codes = {}
        for k, v in key_values(args.class_code, "--class-code", numeric=False).items():
            try:
                codes[float(k)] = v
            except ValueError:
                raise UsageError(f"--class-code {k}={v}: {k!r} is not a number") from None
        classes = {"raster": args.class_raster, "codes": codes, "other": args.other_class}
    elif args.zone_class:
        classes = {"zone_field": args.zone_class}
    thresholds: Any
    if args.minutes:
        if len(args.minutes) == 1 and "=" not in args.minutes[0]:
            try:
                thresholds = float(args.minutes[0])
            except ValueError:
                raise UsageError(f"--minutes {args.minutes[0]!r}: expected a number of minutes or CLASS=MIN") from None
        else:
            thresholds = key_values(args.minutes, "--minutes", numeric=True)
    elif classes is not None:
        thresholds = {"urban": args.urban_minutes, "rural": args.rural_minutes}
        if args.class_raster or args.zone_class:
            names = list(dict.fromkeys(list(classes.get("codes", {}).values()) + [args.other_class]))
            names = [n for n in names if n]
            if set(names) - {"urban", "rural"}:
                raise UsageError(f"the classes are {', '.join(names)}: give --minutes CLASS=MIN for each")
    else:
        raise UsageError("give --minutes N (one threshold for every cell), or urban/rural classes (--urban-polygons, "
                         "--urban-density, --class-raster or --zone-class) with --urban-minutes/--rural-minutes")
    return classes, thresholds


def classed_study_arguments(args) -> tuple[dict, dict, object]:
    """(Study keywords, facility placement keywords, thresholds) from the options every subcommand with
    urban/rural (or other) classes and response thresholds shares: `careshed reach` and `careshed optimize`."""
    classes, thresholds = classes_and_thresholds(args)
    study = study_keywords(args)
    study.update(classes=classes, thresholds_min=thresholds if isinstance(thresholds, dict) else None)
    if args.class_share:
        study["class_shares"] = key_values(args.class_share, "--class-share", numeric=False)
    run = placement_keywords(args, id_keyword="facility_id", point_id=args.facility_id, point_name=args.facility_name,
                             layer=args.facilities_layer)
    return study, run, thresholds


def reach_arguments(args) -> tuple[dict, dict]:
    """(Study keywords, Study.reach keywords) from parsed `careshed reach` options."""
    study, run, thresholds = classed_study_arguments(args)
    run.update(thresholds_min=thresholds, dispatch_minutes=args.dispatch_minutes,
               turnout_seconds=args.turnout_field if args.turnout_field else args.turnout_seconds,
               vehicles=args.vehicles_field, residents_per_vehicle=args.residents_per_vehicle)
    return study, run


@contextlib.contextmanager
def tile_cluster(args):
    """Study keywords of :func:`add_tile_arguments`, with one Dask cluster for the whole run when tiles are asked
    for (started here, or the --scheduler's); says on stderr where it runs and the dashboard's address."""
    kw = tile_keywords(args)
    if kw["tiles"] is None:
        yield kw
        return
    with dask_client(scheduler=kw["scheduler"], workers=kw["workers"]) as client:
        _link, text = dashboard_address(client)
        where = (f"the Dask scheduler {kw['scheduler']}" if kw["scheduler"] else
                 f"a local Dask cluster of {len(client.scheduler_info()['workers'])} worker process(es)")
        print(f"careshed: tiles ({kw['tiles']}) on {where}; {text}", file=sys.stderr)
        yield {**kw, "client": client}


def run_reach(args) -> int:
    if args.hour and not args.hour_factors:
        raise UsageError("--hour needs --hour-factors CSV (the road speed factors of each hour)")
    net_kw = network_keywords(args, hours=True)
    study_kw, run_kw = reach_arguments(args)
    run_kw.update(net_kw)
    with tile_cluster(args) as tiling:
        study = Study(args.zones, **study_kw, **tiling)
        if args.hour and len(args.hour) > 1:
            result = study.reach_by_hour(args.stations, hours=args.hour, **run_kw)
        else:
            result = study.reach(args.stations, hour=args.hour[0] if args.hour else None, **run_kw)
    print_table(result.table, result.notes, float_format="{:.3f}")
    save_result(result, args)
    return 0


COMMAND = Subcommand("reach", "ambulance reach: people covered within urban/rural response thresholds, by zone",
            REACH_EPILOG, add_reach_arguments, run_reach)
