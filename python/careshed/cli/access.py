"""``careshed access``: floating catchment accessibility on the grid (2SFCA family)."""
from __future__ import annotations

import argparse

from ..analyses.access import parse_steps
from ..study import Study
from .common import (Subcommand, add_study_arguments, per_of, print_table, save_result,
                     study_and_facility_arguments)

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

outputs (with --out): PREFIX.csv (one row per zone + the region; notes in PREFIX.notes.txt), PREFIX_facilities.csv
(supply ratio of each facility's catchment), PREFIX.gpkg (zones with the scores, region, facilities, notes),
PREFIX_score.tif (Cloud-Optimised GeoTIFF of score x per per cell; NaN = nobody lives there or nothing in reach),
PREFIX.png (map). Every file is written under a temporary name and renamed.

From your own cost table instead (e.g. network minutes village -> hospital, the pysal/access layout):
  careshed access-table DEMAND SUPPLY COSTS --demand-id ... --supply-id ... --max-cost ...
(see 'careshed access-table --help').
"""


def add_access_arguments(p: argparse.ArgumentParser) -> None:
    add_study_arguments(p, "facilities", "access")
    g = p.add_argument_group("accessibility model")
    g.add_argument("--supply", required=True, metavar="FIELD", help="facility field with the supply, e.g. beds")
    g.add_argument("--method", choices=("2sfca", "e2sfca", "g2sfca", "3sfca", "gravity"), default="e2sfca",
                   help="model (default e2sfca; see below)")
    g.add_argument("--max-minutes", type=float, required=True, metavar="MIN",
                   help="catchment size in minutes of travel (inclusive), e.g. 30")
    g.add_argument("--steps", metavar="BOUND:W,...",
                   help="step weights, inclusive upper bounds in minutes, e.g. 10:1,20:0.68,30:0.22 "
                        "(2sfca, e2sfca, 3sfca)")
    g.add_argument("--per", action="append", metavar="[NAME=]N",
                   help="show supply per N residents (default 1000: beds per 1000); NAME=N names the supply")
    g.add_argument("--normalize", action="store_true",
                   help="divide scores by the population-weighted mean (1 = the regional average)")


def run_access(args) -> int:
    study_kw, place_kw = study_and_facility_arguments(args)
    steps = parse_steps(args.steps) if args.steps else None  # checked before the (slower) study is built
    study = Study(args.zones, **study_kw)
    result = study.access(args.facilities, supply=args.supply, max_minutes=args.max_minutes,
                          method=args.method, steps=steps, per=per_of(args.per, args.supply), normalize=args.normalize, **place_kw)
    print_table(result.table.drop(columns=["score"]), result.notes)  # score x per is shown; score is in the CSV
    save_result(result, args)
    return 0


COMMAND = Subcommand("access", "floating catchment accessibility (2SFCA, E2SFCA, G2SFCA, 3SFCA, gravity): supply per "
            "resident per cell and zone", ACCESS_EPILOG, add_access_arguments, run_access)
