"""``careshed catchments``: nearest-facility catchments, optionally capacity-aware coverage."""
from __future__ import annotations

import argparse

from ..errors import UsageError
from ..study import Study
from .common import (Subcommand, add_catchment_arguments, add_study_arguments, print_table, resource_fields,
                     save_result, study_and_facility_arguments)

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

outputs (with --out): PREFIX.csv (one row per facility; notes in PREFIX.notes.txt), PREFIX_zones.csv (people reached
per zone, covered share with --capacity), PREFIX.gpkg (catchments polygons with their numbers, facilities,
zones, region, notes), PREFIX.png (map), PREFIX_nearest.tif and PREFIX_minutes.tif (Cloud-Optimised
GeoTIFFs); with --capacity also PREFIX_capacity.csv and PREFIX_capacity_uncovered.tif. Every file is
written under a temporary name and renamed. Polygons are for display: people are counted on the grid.
"""


def add_catchments_arguments(p: argparse.ArgumentParser) -> None:
    add_study_arguments(p, "facilities", "catchments")
    g = p.add_argument_group("catchments and capacity")
    add_catchment_arguments(g)
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


def run_catchments(args) -> int:
    study_kw, place_kw = study_and_facility_arguments(args)
    resources = resource_fields(args.resource)
    if args.patients_per_bed is not None and args.capacity is None:
        raise UsageError("--patients-per-bed needs --capacity FIELD (the beds field)")
    if args.capacity is not None and args.max_minutes is None:
        raise UsageError("--capacity needs --max-minutes (the maximum travel time of the coverage, e.g. 60)")
    study = Study(args.zones, **study_kw)
    result = study.catchments(args.facilities, resources=resources or None, capacity=args.capacity,
                              patients_per_bed=args.patients_per_bed, max_minutes=args.max_minutes,
                              band_minutes=args.band_minutes, order=args.order, **place_kw)
    print_table(result.table.drop(columns=["x", "y", "row", "col"]), [])
    print()
    print_table(result.zones, result.notes)
    save_result(result, args)
    return 0


COMMAND = Subcommand("catchments", "nearest-facility catchments by travel time (beds per 1000 of each catchment), "
            "optionally capacity-aware coverage (AccessMod)", CATCHMENTS_EPILOG, add_catchments_arguments, run_catchments)
