"""``careshed access-table``: floating catchment accessibility from the caller's own cost table."""
from __future__ import annotations

import argparse
import warnings
from pathlib import Path


from ..analyses.access import parse_steps
from ..analyses.access_table import access_table
from ..arrays.access import FCA_METHODS
from ..errors import UsageError
from ..io.table import write_table
from ..io.vector import read_table
from .common import EXCEL_HELP, Subcommand, per_of, print_table

ACCESS_TABLE_EPILOG = """
Floating catchment accessibility (2SFCA family) from a sparse cost table, e.g. network minutes from
every village to every hospital within reach. Score = supply per resident within reach, x --per.
Rules: catchment cost <= --max-cost (inclusive); no facility in reach -> empty score (NaN); see
docs/access.md. Example:
  careshed access-table villages.csv hospitals.csv minutes.csv --demand-id id --population pop \\
      --supply-id id --capacity beds --method e2sfca --max-cost 30 --out results
"""


def add_access_table_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("demand", help="demand table (CSV or any OGR layer): one row per demand point")
    p.add_argument("supply", help="supply table: one row per facility")
    p.add_argument("costs", help="cost table: one row per (demand, facility) pair within reach")
    p.add_argument("--demand-id", required=True, metavar="FIELD", help="id field of DEMAND")
    p.add_argument("--population", required=True, metavar="FIELD", help="demand amount field of DEMAND")
    p.add_argument("--supply-id", required=True, metavar="FIELD", help="id field of SUPPLY")
    p.add_argument("--capacity", required=True, metavar="FIELD", help="supply amount field of SUPPLY (e.g. beds)")
    p.add_argument("--origin", default="origin", metavar="FIELD", help="demand id field of COSTS (origin)")
    p.add_argument("--dest", default="dest", metavar="FIELD", help="facility id field of COSTS (dest)")
    p.add_argument("--cost", default="cost", metavar="FIELD", help="cost field of COSTS (cost)")
    p.add_argument("--method", choices=FCA_METHODS, default="e2sfca",
                   help="model (default e2sfca, as in careshed access; see docs/access.md)")
    p.add_argument("--max-cost", required=True, type=float, help="inclusive catchment size, in the cost unit")
    p.add_argument("--steps", metavar="BOUND:W,...",
                   help="step weights, inclusive upper bounds in the cost unit, e.g. 10:1,20:0.68,30:0.22 (as in "
                        "careshed access)")
    p.add_argument("--step", action="append", metavar="BOUND=WEIGHT", help=argparse.SUPPRESS)  # former syntax
    p.add_argument("--beta", type=float, default=1.0, help="gravity exponent (default 1)")
    p.add_argument("--min-cost", type=float, help="gravity clamp of small costs (default 1 cost unit)")
    p.add_argument("--normalize", action="store_true", help="divide by the population-weighted mean score")
    p.add_argument("--per", action="append", metavar="[NAME=]N",
                   help="report scores per N residents (default 1000); NAME=N names the --capacity field")
    p.add_argument("--out", metavar="DIR", help="write <prefix>_demand.csv and <prefix>_supply.csv")
    p.add_argument("--prefix", default="access", help="output file name prefix (default access)")
    p.add_argument("--excel", action="store_true", help=EXCEL_HELP)


def run_access_table(args) -> int:
    weights = parse_steps(args.steps) if args.steps else None
    if args.step:
        warnings.warn("--step BOUND=WEIGHT is deprecated; use --steps BOUND:WEIGHT,... (the syntax of careshed access)",
                      FutureWarning)  # shown to CLI users (DeprecationWarning is hidden by default)
        if weights is not None:
            raise UsageError("give --steps only (--step is its former syntax)")
        weights = parse_steps(",".join(item.replace("=", ":", 1) for item in args.step))
    dem, sup, _ = access_table(read_table(args.demand), read_table(args.supply), read_table(args.costs),
                               demand_id=args.demand_id, population=args.population, supply_id=args.supply_id,
                               capacity=args.capacity, origin=args.origin, dest=args.dest, cost=args.cost,
                               method=args.method, max_cost=args.max_cost, weights=weights, beta=args.beta,
                               min_cost=args.min_cost, normalize=args.normalize,
                               per=per_of(args.per, args.capacity))
    print_table(sup.head(40), dem.attrs["notes"], index=False)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        print("wrote:")
        for frame, kind in ((dem, "demand"), (sup, "supply")):
            print(f"  {write_table(frame, out / f'{args.prefix}_{kind}.csv', index=False, excel=args.excel)}")
    return 0


COMMAND = Subcommand("access-table", "floating catchment accessibility (2SFCA, E2SFCA, G2SFCA, 3SFCA, gravity) from "
                "your own cost table (pysal/access layout)", ACCESS_TABLE_EPILOG, add_access_table_arguments, run_access_table)
