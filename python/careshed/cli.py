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
from typing import Callable

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
    g.add_argument("--x", metavar="FIELD", help="longitude/easting field of a facility CSV")
    g.add_argument("--y", metavar="FIELD", help="latitude/northing field of a facility CSV")
    g.add_argument("--crs", metavar="CRS", help="CRS of a facility CSV, e.g. EPSG:4326")
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

    resources = {}
    for item in args.resource:
        name, _, field = item.partition("=")
        resources[name] = field or name
    kwargs = dict(zone_id=args.zone_id, population=args.population, resources=resources,
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

    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.float_format",
                           "{:.3f}".format):
        print(table.to_string())
    for note in table.attrs.get("notes", []):
        print(f"note: {note}")
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
        print("wrote:")
        for pth in written:
            print(f"  {pth}")
    return 0


# ---- careshed demo ------------------------------------------------------------------------------

DEMO_EPILOG = """
The demo uses the Quzhou example shipped with careshed (data/quzhou, see its README): six counties
with 2020 census population, a MODELLED 2020 baseline of beds per county (city-wide 6.39 per 1000 x
population: per-county counts are not published), the plan's target of 7.8 beds per 1000 for 2025 and
the new beds of the plan's 39 construction projects.

examples:
  careshed demo                      # writes out/quzhou_density.{csv,gpkg,png}
  careshed demo --out /tmp/q --beds max --count-relocations
"""


def add_demo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="out", metavar="DIR", help="output folder (default: out)")
    p.add_argument("--beds", choices=("min", "max"), default="min",
                   help="use each project's minimum (default) or maximum planned beds (#2 gives 300-500)")
    p.add_argument("--count-relocations", action="store_true",
                   help="count all 1200 beds of relocation project #34 as new (they include existing "
                        "beds: an upper bound); default excluded")


@subcommand("demo", "run the Quzhou example: beds per 1000 by county, modelled 2020 baseline vs the plan",
            DEMO_EPILOG)(add_demo_arguments)
def run_demo_command(args) -> int:
    from .demo import run_demo

    run_demo(args.out, beds=args.beds, count_relocations=args.count_relocations)
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
    args = parser.parse_args(argv)
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
