"""``careshed optimize``: where new sites go (LSCP, MCLP, backup, MEXCLP, p-median, p-center) with a proven bound."""
from __future__ import annotations

import argparse

from ..analyses.optimize import MODELS
from ..errors import UsageError
from ..study import Study
from .common import (Subcommand, add_grid_and_label_arguments, add_point_arguments, add_snap_arguments,
                     add_travel_arguments, add_zones_and_people_arguments, key_values, print_table,
                     save_result)
from .reach import add_class_arguments, classed_study_arguments

OPTIMIZE_EPILOG = """
Demand = the populated cells of the study, each with its class's response standard (inclusive); response =
--dispatch-minutes + travel from the site over the friction surface, from one bounded search per candidate
(sparse coverage, never a dense matrix). The answer comes with a proven bound and the gap to it: exact (CBC)
or heuristic (greedy + swap; Lagrangian or LP bound). See docs/optimize.md.

examples:
  # the modelled Quzhou example: the plan's 1 ambulance per 30,000 residents, county seats kept, candidates on a
  # 2.5 km lattice, 11 min urban / 15 min rural, 3 min dispatch
  careshed optimize mclp data/quzhou/counties.geojson data/quzhou/county_seats.csv --existing-seats \\
      --x lon --y lat --crs EPSG:4326 --facility-id county_adcode --zone-id adcode --population pop_census2020 \\
      --keep name_en --urban-polygons data/quzhou/urban_cores_modelled.geojson \\
      --roads data/quzhou/roads_modelled.geojson --road-profile trunk=60 --background-speed 25 \\
      --candidate-spacing 2500 --cell-size 250 --dispatch-minutes 3 --solver heuristic --time-limit 60 \\
      --modelled "roads, urban cores" --out out/

  # fewest new health posts so that every zone has >= 90 % of its people within 60 minutes
  careshed optimize lscp zones.gpkg villages.gpkg --zone-id code --population-raster worldpop.tif \\
      --friction friction.tif --minutes 60 --zone-min-share 0.9 --out results/

outputs (with --out, all of them or none): PREFIX.csv (zones: covered before/after), PREFIX_sites.csv (every
candidate: open, added rank, marginal gain), PREFIX_curve.csv (the marginal-gain curve), PREFIX_report.csv (the
solver report: objective, bound, gap, time), PREFIX.gpkg (sites, chosen, zones, curve, report, notes), PREFIX.png
(map of newly covered cells and the chosen sites).
"""


def add_optimize_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", choices=MODELS, help="the model (see docs/optimize.md)")
    add_zones_and_people_arguments(p, "candidates", "candidate site points", class_share=True)
    add_class_arguments(p)
    g = p.add_argument_group("sites and model")
    add_point_arguments(g, "CANDIDATES")
    g.add_argument("--existing", metavar="FILE", help="existing facilities (kept open, counted in --p)")
    g.add_argument("--may-close", type=int, metavar="N",
                   help="at most N existing facilities may close (relocation: with --p = their number, moves up to N)")
    g.add_argument("--existing-seats", action="store_true",
                   help="treat the CANDIDATES points themselves as the existing facilities (with --candidate-spacing)")
    g.add_argument("--candidate-spacing", type=float, metavar="M",
                   help="also a lattice of passable cells every M metres as candidates")
    g.add_argument("--p", type=int, metavar="N",
                   help="open sites in total, existing included (MEXCLP: vehicles); default one per 30,000 residents")
    g.add_argument("--dispatch-minutes", type=float, default=0.0, metavar="MIN", help="added to every response")
    g.add_argument("--cost-field", metavar="FIELD", help="candidate field with each site's cost (with --budget)")
    g.add_argument("--budget", type=float, metavar="X", help="limit on the total cost of open sites")
    g.add_argument("--capacity", metavar="FIELD",
                   help="mclp/p-median: site field with the people each site can serve (or beds, with "
                        "--patients-per-bed); demand may be split between sites")
    g.add_argument("--patients-per-bed", type=float, metavar="N",
                   help="capacity = --capacity FIELD x N (e.g. beds x people served per bed)")
    g.add_argument("--single-source", action="store_true",
                   help="with --capacity: each populated cell is served wholly by one site (not split)")
    g.add_argument("--closing-cost", metavar="X|FIELD",
                   help="with --may-close and --budget (or lscp): what closing an existing site spends from the "
                        "budget (a number, or a field of --existing)")
    g.add_argument("--existing-vehicles", metavar="N|FIELD",
                   help="mexclp: vehicles already at each existing station (a number, or a field of --existing)")
    g.add_argument("--zone-min-share", metavar="SHARE|ZONE=SHARE", action="append",
                   help="minimum covered share, for every zone (one number) or per zone (repeatable)")
    g.add_argument("--backup-weight", type=float, default=1.0, metavar="W", help="backup: weight of backed-up people")
    g.add_argument("--busy-fraction", type=float, default=0.0, metavar="Q", help="mexclp: probability a vehicle is busy")
    g.add_argument("--vehicles-per-site", type=int, default=1, metavar="N", help="mexclp: vehicles a site may hold")
    g.add_argument("--max-minutes", type=float, metavar="MIN", help="search radius (default: the largest threshold)")
    g.add_argument("--solver", choices=("exact", "heuristic"), default="exact",
                   help="exact (CBC, default) or heuristic (greedy + swap with a proven bound)")
    g.add_argument("--time-limit", type=float, metavar="S", help="seconds the solver may take")
    g.add_argument("--gap-target", type=float, default=0.0, metavar="G", help="stop at this relative gap")
    add_snap_arguments(g, "sites")
    add_travel_arguments(p, fractions=True)
    add_grid_and_label_arguments(p, label="sites", label_help="what the sites are (titles, notes)", prefix="optimize")


def optimize_arguments(args) -> tuple[dict, dict]:
    """(Study keywords, Study.optimize keywords) from parsed `careshed optimize` options."""
    study, run, thresholds = classed_study_arguments(args)
    share = None
    if args.zone_min_share:
        if len(args.zone_min_share) == 1 and "=" not in args.zone_min_share[0]:
            share = float(args.zone_min_share[0])
        else:
            share = key_values(args.zone_min_share, "--zone-min-share", numeric=True)
    if args.patients_per_bed is not None and args.capacity is None:
        raise UsageError("--patients-per-bed needs --capacity FIELD (the beds of each site)")
    if args.single_source and args.capacity is None:
        raise UsageError("--single-source needs --capacity FIELD (without capacities every cell already goes "
                         "wholly to its nearest site)")
    if args.closing_cost is not None and args.may_close is None:
        raise UsageError("--closing-cost needs --may-close N (it is what closing an existing site costs)")
    run.update(capacity=args.capacity, patients_per_bed=args.patients_per_bed, may_close=args.may_close,
               single_source=args.single_source, closing_cost=_number_or_field(args.closing_cost),
               existing_vehicles=_number_or_field(args.existing_vehicles))
    run.update(model=args.model, thresholds_min=thresholds, dispatch_minutes=args.dispatch_minutes, p=args.p,
               candidate_spacing_m=args.candidate_spacing, site_cost=args.cost_field, budget=args.budget,
               zone_min_share=share, backup_weight=args.backup_weight, busy_fraction=args.busy_fraction,
               vehicles_per_site=args.vehicles_per_site, max_minutes=args.max_minutes, solver=args.solver,
               time_limit_s=args.time_limit, gap_target=args.gap_target)
    return study, run


def _number_or_field(text):
    """A number given on the command line, or a field name; None stays None."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def run_optimize(args) -> int:
    study_kw, run_kw = optimize_arguments(args)
    study = Study(args.zones, **study_kw)
    if args.existing_seats:
        result = study.optimize(None, existing=args.candidates, **run_kw)
    else:
        result = study.optimize(args.candidates, existing=args.existing, **run_kw)
    print(result.summary())
    print_table(result.table, result.notes, float_format="{:,.3f}")
    save_result(result, args)
    return 0


COMMAND = Subcommand("optimize", "site optimisation: where new sites go, with a proven bound and the gap",
                     OPTIMIZE_EPILOG, add_optimize_arguments, run_optimize)
