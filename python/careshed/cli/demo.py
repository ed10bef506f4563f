"""``careshed demo``: the Quzhou example end to end."""
from __future__ import annotations

import argparse

from ..demo import run_demo
from .common import EXCEL_HELP, Subcommand

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
  careshed demo --excel                # the same CSVs with the UTF-8 byte-order mark, for Excel
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
    p.add_argument("--excel", action="store_true", help=EXCEL_HELP)


def run_demo_command(args) -> int:
    run_demo(args.out, beds=args.beds, count_relocations=args.count_relocations, reach=not args.no_reach,
             excel=args.excel)
    return 0


COMMAND = Subcommand("demo", "run the Quzhou example: beds per 1000 by county vs the plan, ambulance reach, and beds per 1000 "
            "by county vs catchment vs E2SFCA (modelled)",
            DEMO_EPILOG, add_demo_arguments, run_demo_command)
