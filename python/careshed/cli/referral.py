"""``careshed referral``: facility levels and referral (time to each level, referral targets, two-leg times, gaps)."""
from __future__ import annotations

import argparse

from ..errors import UsageError
from ..study import Study
from .common import (Subcommand, add_network_arguments, add_study_arguments, key_values, network_keywords, print_table,
                     save_result, study_and_facility_arguments)

REFERRAL_EPILOG = """
Facilities carry a level (--level-field), in the order --levels gives, lowest first (or, without --levels, the
values of a numeric field in ascending order). One travel-time search per level gives every cell its minutes to
the nearest facility of each level; each facility's referral target is the nearest facility of the next level by
travel time (or the facility whose id --assigned-field holds), with the minutes and the km of the least-time route.
Per zone: residents within each level's standard (--standard LEVEL=MIN, inclusive), mean minutes, the two-leg
referral time home -> first contact (--first-contact, default the lowest level) -> its target, people beyond the
first-contact standard, and facilities beyond their referral standard (--referral-standard LEVEL=MIN). Ties go to
the lowest facility index. See docs/referral.md.

examples:
  # the modelled Quzhou county medical communities: the 15-minute circle to a township health centre, the
  # one-hour circle to the city's tertiary hospital, township centres more than 30 minutes from a county hospital
  careshed referral data/quzhou/counties.geojson data/quzhou/facility_levels_modelled.geojson \\
      --zone-id adcode --population pop_census2020 --keep name_en --facility-id id --level-field level \\
      --levels "township health centre,county hospital,city tertiary hospital" \\
      --standard "township health centre=15" --standard "city tertiary hospital=60" \\
      --referral-standard "township health centre=30" \\
      --roads data/quzhou/roads_modelled.geojson --road-profile trunk=60 --background-speed 25 \\
      --cell-size 250 --modelled "facility sites, roads, population spread" --out out/referral

  # each facility refers to the one its field 'refers_to' names (the county medical community's own hospital)
  careshed referral zones.gpkg facilities.gpkg --zone-id code --population-raster worldpop.tif \\
      --friction friction.tif --level-field grade --levels "clinic,centre,hospital" --assigned-field refers_to

  # on the road graph of an OSM extract (one-way streets and turn restrictions count; docs/referral.md)
  careshed referral area.gpkg care.gpkg --zone-id zone --population people --metric-crs EPSG:3067 \\
      --cell-size 100 --background-speed 5 --facility-id id --level-field level --levels clinic,hospital \\
      --standard clinic=10 --network helsinki.osm.pbf --out out/referral

outputs (with --out): PREFIX.csv (one row per facility: level, target, referral minutes and km, gap), PREFIX_zones.csv
(per zone), PREFIX_gaps.csv (facilities beyond their referral standard), with --villages PREFIX_villages.csv,
PREFIX.gpkg (facilities, referral_lines along the least-time routes, zones, region, notes[, villages]), PREFIX.png (map of the two-leg time with the routes) and
PREFIX_minutes_<level>.tif, PREFIX_two_leg_minutes.tif, PREFIX_first_contact_gap.tif. All or nothing is written.
"""


def add_referral_arguments(p: argparse.ArgumentParser) -> None:
    add_study_arguments(p, "facilities", "referral")
    add_network_arguments(p)
    g = p.add_argument_group("levels and referral")
    g.add_argument("--level-field", required=True, dest="level_field", metavar="FIELD",
                   help="facility field with each facility's level")
    g.add_argument("--levels", metavar="A,B,...",
                   help="the level names, lowest first, separated by commas (e.g. 'village clinic,township health "
                        "centre,county hospital,city tertiary hospital'); default: the numeric values of "
                        "--level-field in ascending order")
    g.add_argument("--assigned-field", dest="assigned_field", metavar="FIELD",
                   help="facility field holding the id of the facility each one refers to (empty: the nearest "
                        "facility of the next level)")
    g.add_argument("--standard", action="append", dest="standards_minutes", metavar="LEVEL=MIN",
                   help="access standard of a level in minutes, inclusive (repeatable), e.g. 'township health "
                        "centre=15'")
    g.add_argument("--referral-standard", action="append", dest="referral_standards_minutes", metavar="LEVEL=MIN",
                   help="longest acceptable referral from a facility of LEVEL to its target (repeatable), e.g. "
                        "'township health centre=30'")
    g.add_argument("--first-contact", dest="first_contact", metavar="LEVEL",
                   help="the level people go to first (default: the lowest level)")
    g.add_argument("--max-minutes", type=float, metavar="MIN",
                   help="cut-off of every search, inclusive (default: none); farther counts as unreachable")
    g.add_argument("--villages", metavar="POINTS",
                   help="villages (points; a CSV uses --x/--y/--crs) to list with their first-contact minutes and "
                        "whether they are beyond its standard (PREFIX_villages.csv, GeoPackage layer villages)")
    g.add_argument("--village-id", dest="village_id", metavar="FIELD", help="unique id field of --villages")
    g.add_argument("--village-name", dest="village_name", metavar="FIELD", help="name field of --villages")
    g.add_argument("--villages-layer", dest="villages_layer", metavar="LAYER", help="layer of --villages")


def _levels(text):
    if text is None:
        return None
    names = [v.strip() for v in text.split(",") if v.strip()]
    if not names:
        raise UsageError("--levels: give the level names separated by commas, lowest first")
    return names


def run_referral(args) -> int:
    net_kw = network_keywords(args)
    study_kw, place_kw = study_and_facility_arguments(args)
    standards = key_values(args.standards_minutes, "--standard", numeric=True)
    ref_standards = key_values(args.referral_standards_minutes, "--referral-standard", numeric=True)
    study = Study(args.zones, **study_kw)
    result = study.referral(args.facilities, level_field=args.level_field, levels=_levels(args.levels),
                            assigned_field=args.assigned_field, standards_minutes=standards or None,
                            referral_standards_minutes=ref_standards or None, first_contact=args.first_contact,
                            max_minutes=args.max_minutes, villages=args.villages, village_id=args.village_id,
                            village_name=args.village_name, villages_layer=args.villages_layer, **place_kw, **net_kw)
    print_table(result.table.drop(columns=["x", "y", "row", "col"]), [])
    print()
    print_table(result.zones, result.notes)
    print()
    print(result.summary())
    save_result(result, args)
    return 0


COMMAND = Subcommand("referral", "facility levels and referral: time to each level, each facility's referral "
                     "target, two-leg referral times and gaps per zone", REFERRAL_EPILOG, add_referral_arguments,
                     run_referral)
