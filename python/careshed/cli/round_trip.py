"""``careshed round-trip``: the ambulance's round trip — response + transport to definitive care, by zone."""
from __future__ import annotations

import argparse

from ..errors import UsageError
from ..study import Study
from .common import (Subcommand, add_grid_and_label_arguments, add_point_arguments, add_snap_arguments,
                     add_travel_arguments, add_zones_and_people_arguments, print_table, save_result, study_keywords)

ROUND_TRIP_EPILOG = """
total = --dispatch-minutes (every station) + turnout (per station, seconds) + travel station -> patient
      + travel patient -> nearest suitable hospital (level >= --min-level of --level-field, when given).
Two searches over the whole grid, whatever the number of stations and hospitals: one from all the stations,
one toward all the suitable hospitals. A person is covered when their cell's total is at most --total-minutes
(inclusive; default 60, "definitive care within the golden hour"). See docs/travel-modes.md.

examples:
  # stations and hospitals from two layers, hospitals of level 2 or more are definitive care
  careshed round-trip counties.gpkg stations.gpkg hospitals.gpkg --zone-id code \\
      --population-raster worldpop.tif --roads roads.osm.pbf --road-profile ambulance --background-speed 5 \\
      --dispatch-minutes 3 --turnout-field turnout_s --level-field level --min-level 2 --total-minutes 60 --out out/

outputs (with --out): PREFIX.csv (zones: population, covered, covered_share, unreachable, mean/p90 total
minutes, mean response and transport minutes; notes as # lines), PREFIX.gpkg (zones, stations, hospitals,
notes), PREFIX.png (map of the total minutes), PREFIX_total_minutes.tif, PREFIX_response_minutes.tif,
PREFIX_transport_minutes.tif, PREFIX_nearest_hospital.tif. Every file is written under a temporary name and
renamed.
"""


def add_round_trip_arguments(p: argparse.ArgumentParser) -> None:
    add_zones_and_people_arguments(p, "stations", "ambulance stations as points")
    p.add_argument("hospitals", metavar="HOSPITALS",
                   help="hospitals as points (any OGR source, or a CSV with --x/--y/--crs), any CRS")
    g = p.add_argument_group("stations, hospitals and delays")
    add_point_arguments(g, "STATIONS", former=("station", "stations"))
    g.add_argument("--hospital-id", metavar="FIELD", help="hospital id field (default: id/name field or row number)")
    g.add_argument("--hospital-name", metavar="FIELD", help="hospital name field")
    g.add_argument("--hospitals-layer", metavar="NAME", help="layer of HOSPITALS")
    g.add_argument("--level-field", metavar="FIELD", help="hospital field with its level, with --min-level")
    g.add_argument("--min-level", type=float, metavar="L", help="lowest level that is definitive care")
    g.add_argument("--dispatch-minutes", type=float, default=0.0, metavar="MIN",
                   help="call-to-departure delay added to every response (e.g. 3)")
    g.add_argument("--turnout-field", metavar="FIELD", help="station field with extra turnout seconds")
    g.add_argument("--turnout-seconds", type=float, metavar="S", help="turnout seconds for every station")
    g.add_argument("--total-minutes", type=float, default=60.0, metavar="MIN",
                   help="covered when response + transport is at most this (default 60)")
    g.add_argument("--hour", type=int, action="append", metavar="H", help="hour of the day, with --hour-factors")
    add_snap_arguments(g, "stations and hospitals")
    add_travel_arguments(p)
    add_grid_and_label_arguments(p, label="ambulance stations and hospitals", label_help="what the points are "
                                 "(notes)", prefix="round_trip")


def run_round_trip(args) -> int:
    if args.population is None and args.population_raster is None:
        raise UsageError("give the people: --population FIELD (residents per zone) and/or --population-raster "
                         "RASTER (people per cell)")
    if (args.level_field is None) != (args.min_level is None):
        raise UsageError("--level-field and --min-level go together")
    if args.hour and not args.hour_factors:
        raise UsageError("--hour needs --hour-factors CSV (the road speed factors of each hour)")
    if args.hour and len(args.hour) > 1:
        raise UsageError("careshed round-trip runs at one --hour at a time")
    study = Study(args.zones, **study_keywords(args))
    result = study.round_trip(
        args.stations, args.hospitals, threshold_minutes=args.total_minutes, dispatch_minutes=args.dispatch_minutes,
        turnout_seconds=args.turnout_field if args.turnout_field else args.turnout_seconds,
        level=args.level_field, min_level=args.min_level, facility_id=args.facility_id,
        name_field=args.facility_name, layer=args.facilities_layer, hospital_id=args.hospital_id,
        hospital_name=args.hospital_name, hospital_layer=args.hospitals_layer, x=args.x, y=args.y, crs=args.crs,
        snap_max_m=args.snap_max_m, unplaced="skip" if args.skip_unplaced else "error",
        hour=args.hour[0] if args.hour else None)
    print_table(result.table, result.notes, float_format="{:.3f}")
    save_result(result, args)
    return 0


COMMAND = Subcommand("round-trip", "ambulance round trip: response + transport to definitive care within N minutes, "
                     "by zone", ROUND_TRIP_EPILOG, add_round_trip_arguments, run_round_trip)
