"""``careshed report``: the planner's offline HTML report (map, targets, curves, equity, methods, run record).

``careshed report --example quzhou --out out`` runs the Quzhou example (catchments and E2SFCA of the
county hospitals within one hour, the ambulance reach, beds per 1000 against the plan) and writes
``out/report.html`` and ``out/report.record.json`` together (an output set: both or neither). ``careshed report
--rerun out/report.record.json`` checks every recorded input against its SHA-256 and regenerates the same report.
"""
from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from ..demo import (QUZHOU_ACCESS_MINUTES, find_data_dir, quzhou_access, quzhou_density, quzhou_reach,
                    quzhou_study)
from ..errors import InputError
from ..io.atomic import OutputSet
from ..report import check_inputs, read_record, read_targets, run_record, write_record, write_report
from ..report.labels import LANGUAGES
from .common import Subcommand, print_written

__all__ = ["COMMAND", "add_report_arguments", "run_report", "EXAMPLES", "QUZHOU_INPUTS", "record_path_for"]

REPORT_EPILOG = """
The report is one HTML file that opens offline: Leaflet, styles, charts and the travel-time overlay are
inlined, no tile server and no request leaves the page. It holds the map (zones coloured against the targets,
travel time, facilities, where the uncovered people live), the summary against the plan's targets, the
coverage curve, resources per 1000 against the target, catchments, accessibility, equity (shares beyond
15/30/60 minutes, Gini, Theil between/within zones and urban/rural, Lorenz curve), methods with every
MODELLED input listed, and the run record. Next to it, PREFIX.record.json: inputs with SHA-256 checksums,
parameters and versions; --rerun regenerates the report from it after checking the inputs are unchanged.

examples:
  careshed report --example quzhou --out out                         # out/report.html (English)
  careshed report --example quzhou --lang zh --out out --prefix report_zh   # 中文
  careshed report --rerun out/report.record.json                     # the same report again
"""

#: The data files of the Quzhou example the report reads (checksummed in the run record).
QUZHOU_INPUTS = ("counties.geojson", "county_seats.csv", "plan_targets.csv", "plan_2021_2025_projects.csv",
                 "census2020_ghsl.csv", "roads_modelled.geojson", "urban_cores_modelled.geojson")
EXAMPLES = ("quzhou",)


def add_report_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--example", choices=EXAMPLES, help="report on a shipped example (quzhou)")
    g.add_argument("--rerun", metavar="RECORD", help="regenerate the report of a run record (PREFIX.record.json)")
    p.add_argument("--out", metavar="DIR", help="folder of the report (default: the current folder; with --rerun the "
                                                "recorded one): PREFIX.html and its run record PREFIX.record.json")
    p.add_argument("--prefix", default="report", help="output file name prefix (default report)")
    p.add_argument("--lang", choices=LANGUAGES, default="en", help="labels in English (default) or Chinese (zh)")
    p.add_argument("--cell-size", type=float, default=100.0, metavar="M", help="cell size in metres (default 100)")


def record_path_for(html_path) -> Path:
    """PREFIX.record.json next to PREFIX.html."""
    p = Path(html_path)
    return p.with_name(p.stem + ".record.json")


def _quzhou(args):
    data_dir = find_data_dir("quzhou")
    study = quzhou_study(data_dir, cell_size_m=args.cell_size)
    density = quzhou_density(data_dir)
    reach = quzhou_reach(data_dir, study=study)
    _, catchments, access = quzhou_access(data_dir, study=study, density=density)
    place = "衢州市" if args.lang == "zh" else "Quzhou"
    report_kw = dict(targets=read_targets(data_dir / "plan_targets.csv"), density=density, title=place)
    inputs = {name: data_dir / name for name in QUZHOU_INPUTS}
    parameters = {"example": "quzhou", "cell_size_m": args.cell_size, "lang": args.lang,
                  "catchment_minutes": QUZHOU_ACCESS_MINUTES, "access_method": "e2sfca",
                  "reach_thresholds_min": reach.thresholds_min, "dispatch_minutes": reach.dispatch_minutes}
    return [catchments, reach, access], report_kw, inputs, parameters


def _command_of(args) -> list[str]:
    return ["report", "--example", args.example, "--lang", args.lang, "--cell-size", f"{args.cell_size:g}",
            "--out", str(args.out or "."), "--prefix", args.prefix]


def _rerun(args) -> int:
    """Parse the recorded command again (inputs checked first) and run it; --out overrides the recorded file."""
    record = read_record(args.rerun)
    check_inputs(record, where=str(args.rerun))
    command = record.get("command")
    if not command or command[0] != "report" or "--rerun" in command:
        raise InputError(f"{args.rerun}: the record holds no `careshed report` command (a report made from Python "
                         "is regenerated by rerunning its script)")
    parser = argparse.ArgumentParser(prog="careshed report")
    add_report_arguments(parser)
    again = parser.parse_args(command[1:])
    if args.out:
        again.out, again.prefix = args.out, args.prefix
        return run_report(again)
    # the recorded file, where it was: a relative --out is relative to the recorded working directory
    return run_report(again, base=Path(record["working_directory"]))


def run_report(args, *, base: Path | None = None) -> int:
    if args.rerun:
        return _rerun(args)
    folder = Path(args.out or ".")
    results, report_kw, inputs, parameters = _quzhou(args)
    record = run_record(inputs, parameters, command=_command_of(args), cwd=base)
    if base is not None and not folder.is_absolute():
        folder = base / folder
    out = folder / f"{args.prefix}.html"
    with OutputSet(folder) as outputs:
        write_report(outputs.path(out.name), results, lang=args.lang, record=record, **report_kw)
        write_record(record, outputs.path(record_path_for(out).name))
    print_written(outputs.written)
    print("regenerate with: careshed " + " ".join(shlex.quote(c) for c in ["report", "--rerun",
                                                                             str(record_path_for(out))]))
    return 0


COMMAND = Subcommand("report", "the planner's offline HTML report (map, targets, equity, methods, run record)",
                     REPORT_EPILOG, add_report_arguments, run_report)
