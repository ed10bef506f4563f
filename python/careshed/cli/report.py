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

from ..demo import (COMOROS_INPUTS, COMOROS_LATTICE_M, QUZHOU_ACCESS_MINUTES, comoros_example, comoros_study,
                    find_data_dir, quzhou_access, quzhou_density, quzhou_reach, quzhou_study)
from ..errors import InputError, UsageError
from ..io.atomic import OutputSet
from ..report import check_inputs, read_record, read_targets, run_record, write_record, write_report
from ..report.labels import LANGUAGES
from ..study import Study
from .common import (Subcommand, add_catchment_arguments, add_study_arguments, print_written, resource_fields,
                     study_and_facility_arguments)

__all__ = ["COMMAND", "add_report_arguments", "run_report", "EXAMPLES", "QUZHOU_INPUTS", "record_path_for"]

REPORT_EPILOG = """
The report is one HTML file that opens offline: Leaflet, styles, charts and the travel-time overlay are
inlined, no tile server and no request leaves the page. It holds the map (zones coloured against the targets,
travel time, facilities, where the uncovered people live, chosen sites), the summary against the plan's
targets, the coverage curve, resources per 1000 against the target, catchments, accessibility, equity (shares
beyond 15/30/60 minutes, Gini, Theil between/within zones and urban/rural, Lorenz curve), optimisation results
(chosen sites, coverage before/after per zone, marginal-gain curve, solver report), methods with every MODELLED
input listed, and the run record. Next to it, PREFIX.record.json: inputs with SHA-256 checksums, parameters and
versions; --rerun regenerates the report from it after checking the inputs are unchanged.

Three ways to say what to report on: a shipped example (--example quzhou: catchments, E2SFCA and ambulance
reach of the modelled Quzhou hospitals; --example comoros: the real Comoros data at 500 m cells — the 28
hospitals' reach, the catchments of all 70 OSM health facilities within an hour, and the 3 sites that would
cover most people besides the hospitals), your own ZONES and FACILITIES with the options of `careshed
catchments` (the catchments and travel time to the nearest facility; --resource, --max-minutes, --targets), or
--rerun RECORD.

examples:
  careshed report --example quzhou --out out                         # out/report.html (English)
  careshed report --example quzhou --lang zh --out out --prefix report_zh   # 中文
  careshed report --example comoros --out out --prefix comoros
  careshed report --rerun out/report.record.json                     # the same report again
  careshed report districts.gpkg hospitals.gpkg --zone-id code --population-raster worldpop.tif \\
      --roads roads.osm.pbf --road-profile car --background-speed 5 --resource beds=BEDS \\
      --max-minutes 60 --targets plan_targets.csv --out results/
"""

#: The data files of the Quzhou example the report reads (checksummed in the run record).
QUZHOU_INPUTS = ("counties.geojson", "county_seats.csv", "plan_targets.csv", "plan_2021_2025_projects.csv",
                 "census2020_ghsl.csv", "roads_modelled.geojson", "urban_cores_modelled.geojson")
EXAMPLES = ("quzhou", "comoros")


def add_report_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("report")
    src = g.add_mutually_exclusive_group()
    src.add_argument("--example", choices=EXAMPLES, help="report on a shipped example (quzhou, comoros)")
    src.add_argument("--rerun", metavar="RECORD", help="regenerate the report of a run record (PREFIX.record.json)")
    g.add_argument("--lang", choices=LANGUAGES, default="en", help="labels in English (default) or Chinese (zh)")
    g.add_argument("--targets", metavar="CSV",
                   help="the plan's targets (indicator, per, target_2025, direction; like data/quzhou/"
                        "plan_targets.csv): resources per 1000 residents the report compares against")
    add_catchment_arguments(g)
    # your own inputs: the options of careshed catchments (ZONES FACILITIES optional: --example / --rerun need none)
    add_study_arguments(p, "facilities", "report")
    for action in p._actions:
        if action.dest in ("zones", "facilities"):
            action.nargs, action.default = "?", None
        elif action.required:          # --zone-id: needed with ZONES only (run_report says so)
            action.required = False


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


def _comoros(args):
    data_dir = find_data_dir("comoros")
    study = comoros_study(data_dir, region_label="Comoros")
    reach, catchments, optimized = comoros_example(data_dir, study=study)
    place = "科摩罗" if args.lang == "zh" else "Comoros"
    inputs = {name: data_dir / name for name in COMOROS_INPUTS}
    parameters = {"example": "comoros", "cell_size_m": study.grid.cell_size[0], "lang": args.lang,
                  "reach_thresholds_min": reach.thresholds_min, "catchment_minutes": catchments.max_minutes,
                  "optimisation": {"model": optimized.diagnostics["model"], "p": optimized.diagnostics["p"],
                                   "candidate_spacing_m": COMOROS_LATTICE_M}}
    return [catchments, reach, optimized], dict(title=place), inputs, parameters


def _own_inputs(args):
    """Catchments of your own FACILITIES on your ZONES (the options of careshed catchments)."""
    study_kw, place_kw = study_and_facility_arguments(args)
    study = Study(args.zones, **study_kw)
    catchments = study.catchments(args.facilities, resources=resource_fields(args.resource) or None,
                                  max_minutes=args.max_minutes, **place_kw)
    report_kw = {"title": args.region_label if args.region_label != "region" else None}
    if args.targets:
        report_kw["targets"] = read_targets(args.targets)
    inputs = {}
    for action, value in _set_options(args):
        for item in (value if isinstance(value, list) else [value]):
            path = _file_in(item)
            if path is not None:
                name = path.name if path.name not in inputs else f"{action.dest}:{path.name}"
                inputs[name] = path
    parameters = {"cell_size_m": args.cell_size, "lang": args.lang, "max_minutes": args.max_minutes,
                  "resources": resource_fields(args.resource)}
    return [catchments], report_kw, inputs, parameters


def _file_in(value) -> Path | None:
    """The file an option value names (``FILE``, ``FILE=...`` or ``NAME=FILE``), absolute; None if none."""
    if not isinstance(value, str):
        return None
    for part in [value] + value.split("="):
        if part and Path(part).is_file():
            return Path(part).resolve()
    return None


def _absolute(value) -> str:
    """An option value with the files it names made absolute (``tree.tif=2.5`` -> ``/abs/tree.tif=2.5``)."""
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    if Path(text).is_file():
        return str(Path(text).resolve())
    return "=".join(str(Path(p).resolve()) if p and Path(p).is_file() else p for p in text.split("="))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="careshed report")
    add_report_arguments(parser)
    return parser


def _set_options(args):
    """(action, value) of every argument given a value other than its default, in the parser's order."""
    for action in _parser()._actions:
        if action.dest in ("help", "rerun") or not hasattr(args, action.dest):
            continue
        value = getattr(args, action.dest)
        if value is not None and value is not False and value != action.default:
            yield action, value


def _command_of(args) -> list[str]:
    """The CLI arguments that make this report again (input files as absolute paths, so --rerun works from any
    folder): the example or ZONES FACILITIES, the options given, and always --lang, --cell-size, --out, --prefix."""
    positional, options = [], []
    for action, value in _set_options(args):
        if action.dest in ("lang", "cell_size", "out", "prefix"):
            continue
        if not action.option_strings:
            positional.append(_absolute(value))
            continue
        flag = action.option_strings[0]
        for item in (value if isinstance(value, list) else [value]):
            options += [flag] if item is True else [flag, _absolute(item)]
    return (["report"] + positional + options + ["--lang", args.lang, "--cell-size", f"{args.cell_size:g}",
                                                 "--out", str(args.out or "."), "--prefix", args.prefix])


def _rerun(args) -> int:
    """Parse the recorded command again (inputs checked first) and run it; --out overrides the recorded file."""
    record = read_record(args.rerun)
    check_inputs(record, where=str(args.rerun))
    command = record.get("command")
    if not command or command[0] != "report" or "--rerun" in command:
        raise InputError(f"{args.rerun}: the record holds no `careshed report` command (a report made from Python "
                         "is regenerated by rerunning its script)")
    again = _parser().parse_args(command[1:])
    if args.out:
        again.out, again.prefix = args.out, args.prefix
        return run_report(again)
    # the recorded file, where it was: a relative --out is relative to the recorded working directory
    return run_report(again, base=Path(record["working_directory"]))


def run_report(args, *, base: Path | None = None) -> int:
    if args.rerun:
        return _rerun(args)
    if args.example == "quzhou":
        made = _quzhou(args)
    elif args.example == "comoros":
        made = _comoros(args)
    elif args.zones and args.facilities:
        if not args.zone_id:
            raise UsageError("careshed report ZONES FACILITIES: give --zone-id FIELD (the zones' id field)")
        made = _own_inputs(args)
    else:
        raise UsageError("careshed report: say what to report on — ZONES FACILITIES (with --zone-id and the people "
                         "and travel options of careshed catchments), --example quzhou|comoros, or --rerun RECORD")
    results, report_kw, inputs, parameters = made
    record = run_record(inputs, parameters, command=_command_of(args), cwd=base)
    folder = Path(args.out or ".")
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


COMMAND = Subcommand("report", "the planner's offline HTML report (map, targets, equity, optimisation, methods, "
                     "run record) of a shipped example or your own zones and facilities",
                     REPORT_EPILOG, add_report_arguments, run_report)
