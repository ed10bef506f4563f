"""``careshed outreach``: mobile outreach — service points for the people fixed care misses, and each team's
monthly circuit."""
from __future__ import annotations

import argparse

from ..study import Study
from .common import (Subcommand, add_grid_and_label_arguments, add_point_arguments, add_snap_arguments,
                     add_travel_arguments, add_zones_and_people_arguments, print_table, save_result)
from .reach import add_class_arguments, classed_study_arguments

OUTREACH_EPILOG = """
The gap = residents beyond the standard (--minutes, or the class thresholds; inclusive) of every fixed facility
(--facilities). From the CANDIDATES, the site-optimisation MCLP chooses --points service points covering most of
the gap within the same standard. Each team (one per --bases point) then gets its monthly circuit: day routes from
its base through distinct points and back within --hours-per-day (travel + --service-hours per visit), every point
visited --visits times a month, at most --working-days routes; least total travel (+ --day-cost-minutes per
team-day). Exact (route enumeration + MIP, CBC) when the routes can be enumerated, else savings + local search
with a proven lower bound and the gap to it. See docs/outreach.md.

examples:
  # 6 teams, 18 monthly service points among the villages, 13 working days of 8 h, 2 h per visit, a 15-minute
  # standard for clinics and service points alike (the walking-hospital size; `careshed demo` runs it on the
  # MODELLED Quzhou inputs, see docs/outreach.md)
  careshed outreach counties.gpkg villages.gpkg --facilities clinics.gpkg --bases team_bases.gpkg \
      --zone-id code --population-raster worldpop.tif --friction friction.tif --minutes 15 \
      --points 18 --working-days 13 --hours-per-day 8 --service-hours 2 --visits 1 --out results/

outputs (with --out, all of them or none): PREFIX.csv (zones: population, fixed, gap, reached, effective and their
shares), PREFIX_schedule.csv (each team's stops per day with arrival/leave minutes), PREFIX_routes.csv (one row per
team-day), PREFIX_points.csv (every candidate: chosen, team, people reached), PREFIX_teams.csv, PREFIX.gpkg (routes
as lines, points, chosen, bases, zones, schedule, report, notes), PREFIX.png (map),
PREFIX_effective_access.tif (0 none, 1 fixed facility, 2 monthly service point only).
"""


def add_outreach_arguments(p: argparse.ArgumentParser) -> None:
    add_zones_and_people_arguments(p, "candidates", "candidate service points (villages, township centres)",
                                   class_share=True)
    add_class_arguments(p)
    g = p.add_argument_group("points, facilities and teams")
    add_point_arguments(g, "CANDIDATES, --facilities and --bases")
    g.add_argument("--facilities", metavar="FILE", required=True,
                   help="fixed facilities (read like CANDIDATES): residents within the standard of one are served")
    g.add_argument("--bases", metavar="FILE", required=True, help="team bases, one team per point")
    g.add_argument("--points", type=int, default=18, metavar="N", help="service points to choose (default 18)")
    g.add_argument("--working-days", type=int, default=13, metavar="D",
                   help="working days a month per team (default 13)")
    g.add_argument("--hours-per-day", type=float, default=8.0, metavar="H",
                   help="longest working day, travel + service (default 8)")
    g.add_argument("--service-hours", type=float, default=2.0, metavar="H", help="hours on site per visit (default 2)")
    g.add_argument("--visits", type=int, default=1, metavar="N", help="visits per point per month (default 1)")
    g.add_argument("--day-cost-minutes", type=float, default=0.0, metavar="MIN",
                   help="cost of each team-day used, added to travel in the objective (default 0)")
    g.add_argument("--circuit-solver", choices=("auto", "exact", "heuristic"), default="auto",
                   help="solver of the circuits: auto (exact when the routes can be enumerated; default), exact "
                        "(CBC) or heuristic (the choice of points is always exact MCLP)")
    g.add_argument("--time-limit", type=float, metavar="S", help="seconds the circuit solver may take")
    add_snap_arguments(g, "points")
    add_travel_arguments(p, fractions=True)
    add_grid_and_label_arguments(p, label="service points", label_help="what the points are (titles, notes)",
                                 prefix="outreach")


def outreach_arguments(args) -> tuple[dict, dict]:
    """(Study keywords, Study.outreach keywords) from parsed `careshed outreach` options."""
    study, run, thresholds = classed_study_arguments(args)
    run.update(facilities=args.facilities, bases=args.bases, points=args.points, thresholds_min=thresholds,
               working_days=args.working_days, hours_per_day=args.hours_per_day, service_hours=args.service_hours,
               visits_per_month=args.visits, day_cost_minutes=args.day_cost_minutes, solver=args.circuit_solver,
               time_limit_s=args.time_limit)
    return study, run


def run_outreach(args) -> int:
    study_kw, run_kw = outreach_arguments(args)
    study = Study(args.zones, **study_kw)
    result = study.outreach(args.candidates, **run_kw)
    print(result.summary())
    print_table(result.table, result.notes, float_format="{:,.3f}")
    save_result(result, args)
    return 0


COMMAND = Subcommand("outreach", "mobile outreach: service points for the gap in fixed care, and each team's "
                     "monthly circuit (exact or heuristic with a proven bound)", OUTREACH_EPILOG,
                     add_outreach_arguments, run_outreach)
