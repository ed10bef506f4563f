"""What every subcommand shares: option groups built once, parsing of repeated NAME=VALUE options, printing.

Each subcommand module (``careshed/cli/<name>.py``) declares its options with the adders here, so the same option
has the same name, syntax and default in every subcommand, and exports ``COMMAND`` (a :class:`Subcommand`);
careshed/cli/main.py lists them.
"""
from __future__ import annotations

import argparse
import os
import shlex
import textwrap
import unicodedata
from dataclasses import dataclass
from typing import Callable

import pandas as pd

from ..arrays.network import RoadGraph
from ..constants import DEFAULT_CELL_SIZE_M
from ..errors import NO_VALUE, UsageError
from ..io.atomic import check_file_name, check_output_folder
from ..io.table import csv_ready

__all__ = ["EXCEL_HELP", "add_catchment_arguments", "Subcommand", "key_values", "resource_fields", "profile", "print_table", "print_written", "save_result",
           "add_csv_point_arguments", "add_zone_arguments", "add_zones_and_people_arguments", "add_point_arguments", "add_snap_arguments",
           "add_travel_arguments", "add_grid_arguments", "add_output_arguments", "add_grid_and_label_arguments",
           "modelled_option", "per_option", "per_of", "study_keywords", "placement_keywords",
           "add_study_arguments", "study_and_facility_arguments", "add_run_arguments", "cli_speaker",
           "os_error_text", "check_outputs", "EXIT_DATA", "EXIT_USAGE", "EXIT_BUG", "EXIT_INTERRUPTED"]

#: Exit statuses of ``careshed`` (docs/errors.md): problem in the data/files, in the command, a bug, Ctrl-C.
EXIT_DATA, EXIT_USAGE, EXIT_BUG, EXIT_INTERRUPTED = 1, 2, 3, 130


@dataclass(frozen=True)
class Subcommand:
    """One ``careshed <name>``: its help line, epilog (examples), option adder and runner (returns the exit status)."""
    name: str
    help: str
    epilog: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]

    def __post_init__(self):
        object.__setattr__(self, "epilog", textwrap.dedent(self.epilog))


def key_values(items, option: str, *, numeric: bool) -> dict:
    """Parse repeated NAME=VALUE options (`--target beds=7.8`)."""
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise UsageError(f"{option} {item!r}: expected NAME=VALUE, e.g. {option} beds="
                             f"{'7.8' if numeric else 'beds_2020'}")
        if numeric:
            try:
                out[name] = float(value)
            except ValueError:
                raise UsageError(f"{option} {item!r}: {value!r} is not a number") from None
        else:
            out[name] = value
    return out



def resource_fields(items) -> dict:
    """``{name: field}`` from repeated NAME[=FIELD] options (`--resource beds=BEDS_2020`; `beds` reads field beds)."""
    out = {}
    for item in items or []:
        name, _, fld = item.partition("=")
        if not name:
            raise UsageError(f"--resource {item!r}: expected NAME or NAME=FIELD, e.g. --resource beds=BEDS")
        out[name] = fld or name
    return out


def profile(text: str):
    if "=" not in text:
        return text
    return {k: float(v) for k, v in key_values(text.split(","), "--road-profile", numeric=True).items()}


#: --excel (every subcommand that writes CSVs).
EXCEL_HELP = ("start the CSVs with the UTF-8 byte-order mark, so Excel reads Chinese and accented names right (the "
              "notes are in NAME.notes.txt next to each CSV either way)")
#: The terminal summary's width: tables and notes fit in 100 columns (wide tables continue in blocks below).
TERMINAL_COLUMNS = 100


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal: East Asian wide and full-width characters (Chinese) take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _wrap_display(text: str, width: int, indent: str) -> list[str]:
    lines, line = [], ""
    for word in str(text).split():
        candidate = f"{line} {word}" if line else (indent if lines else "") + word
        if line and display_width(candidate) > width:
            lines.append(line)
            line = indent + word
        else:
            line = candidate
    return lines + ([line] if line else [])


def print_table(table, notes, *, width: int = TERMINAL_COLUMNS, max_columns: int = 40,
                float_format: str = "{:,.3f}", index: bool = True) -> None:
    """The table (people as whole numbers, ranks as integers: as in the CSV) and its notes, in `width`
    terminal columns: a wide table continues in column blocks below, notes wrap."""
    shown, _ = csv_ready(table)
    with pd.option_context("display.width", width, "display.max_columns", max_columns, "display.float_format",
                           float_format.format, "display.unicode.east_asian_width", True):
        text = shown.to_string(line_width=width, index=index)
    print(text)
    for note in notes:
        print("\n".join(_wrap_display(f"note: {note}", width, "      ")))


def print_written(written) -> None:
    print("wrote:")
    for pth in written:
        print(f"  {pth}")


def save_result(result, args) -> None:
    """With --out: ``result.save`` into it (map unless --no-map, QGIS project with --qgis-project, CSVs for Excel
    with --excel) and list the files written."""
    if args.out:
        print_written(result.save(args.out, prefix=args.prefix, draw_map=not args.no_map,
                                  qgis_project=args.qgis_project, excel=args.excel))


# ---- what every subcommand has: how the run behaves, and how advice names its options ---------------------

def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """--quiet, --max-memory and --debug (every subcommand; careshed/cli/main.py adds them)."""
    g = p.add_argument_group("run")
    g.add_argument("--quiet", action="store_true", help="print no progress bar")
    g.add_argument("--max-memory", metavar="SIZE",
                   help="the most memory the run may use, e.g. 8G or 500M; a run estimated above it (or above the "
                        "available memory) is refused before it starts, saying what to change")
    g.add_argument("--debug", action="store_true",
                   help="on an unexpected error show Python's traceback (for a bug report)")


#: Python keywords of careshed's API whose command-line option has another name: keyword -> candidate option
#: destinations (the first one a subcommand has is its flag). Options named like the keyword need no entry.
KEYWORD_OPTIONS = {
    "layer": ("stations_layer", "facilities_layer", "layer"),
    "facility_id": ("station_id", "facility_id"),
    "name_field": ("station_name", "facility_name"),
    "cell_size_m": ("cell_size",),
    "thresholds_min": ("minutes",),
    "unplaced": ("skip_unplaced",),
    "folder": ("out",),
    "turnout_seconds": ("turnout_seconds", "turnout_field"),
    "vehicles": ("vehicles_field",),
    "background_speed_kmh": ("background_speed",),
    "visits_per_month": ("visits",),
    "time_limit_s": ("time_limit",),
    "solver": ("solver", "circuit_solver"),
}


def cli_speaker(parser: argparse.ArgumentParser):
    """A careshed.errors speaker naming `parser`'s options: ``keyword("crs", "EPSG:4326")`` -> ``--crs EPSG:4326``,
    ``keyword("unplaced", "skip")`` -> ``--skip-unplaced``. Keywords the subcommand has no option for fall back to
    the Python spelling (careshed.errors.keyword)."""
    flags = {}
    for action in parser._actions:
        longs = [o for o in action.option_strings if o.startswith("--")]
        if longs:
            flags[action.dest] = (longs[0], action.nargs == 0)
        elif not action.option_strings and action.dest not in ("help", argparse.SUPPRESS):
            flags[action.dest] = (action.metavar or action.dest.upper(), None)   # a positional: named by metavar

    def speak(name: str, value):
        dest = next((d for d in KEYWORD_OPTIONS.get(name, (name,)) if d in flags), None)
        if dest is None:
            return None
        flag, is_switch = flags[dest]
        if is_switch is None or is_switch or value is NO_VALUE:   # positional, --skip-unplaced, or just the name
            return flag
        if isinstance(value, dict):
            return " ".join(f"{flag} {shlex.quote(f'{k}={v}')}" for k, v in value.items())
        return f"{flag} {shlex.quote(str(value))}"
    return speak


def check_outputs(args) -> None:
    """Before any work: --out must be a folder careshed can write, --prefix a plain name."""
    if getattr(args, "prefix", None) is not None:
        check_file_name(args.prefix)
    if getattr(args, "out", None):
        check_output_folder(args.out)


def os_error_text(exc: OSError) -> str:
    """An OSError as one line naming the file: "out/reach.csv: permission denied"."""
    what = exc.strerror or str(exc) or type(exc).__name__
    names = [n for n in (exc.filename, exc.filename2) if n]
    where = " -> ".join(os.fspath(n) for n in names)
    if isinstance(exc, PermissionError):
        hint = "; choose a folder you may write to (--out) or fix its permissions"
    elif isinstance(exc, (FileExistsError, NotADirectoryError)):
        hint = "; a file stands where a folder is needed: choose another --out"
    else:
        hint = ""
    return f"{where}: {what.lower() if what[:1].isupper() and what[1:2].islower() else what}{hint}" if where \
        else f"{what}{hint}"


# ---- options shared by the grid analyses (reach, catchments, access): one adder per option group ----------

def add_csv_point_arguments(g, one: str) -> None:
    """--x/--y/--crs: the coordinate fields and CRS of a point CSV (``one``: 'facility', 'station')."""
    g.add_argument("--x", metavar="FIELD", help=f"longitude/easting field of a {one} CSV")
    g.add_argument("--y", metavar="FIELD", help=f"latitude/northing field of a {one} CSV")
    g.add_argument("--crs", metavar="CRS", help=f"CRS of a {one} CSV, e.g. EPSG:4326")


def add_zones_and_people_arguments(p: argparse.ArgumentParser, points: str, points_help: str, *,
                                    class_share: bool = False) -> None:
    """ZONES and the points positional (``points``: 'stations', 'facilities'), then the zone / people options."""
    p.add_argument("zones", metavar="ZONES", help="zone polygons (GeoPackage, Shapefile, GeoJSON, 'PG:...'), any CRS")
    p.add_argument(points, metavar=points.upper(),
                   help=f"{points_help} (any OGR source, or a CSV with --x/--y/--crs), any CRS")
    g = p.add_argument_group("zones and people")
    add_zone_arguments(g)
    g.add_argument("--population", metavar="FIELD",
                   help="zone field with residents per zone (spread over the zone's cells; with "
                        "--population-raster the raster gives the spreading weights)")
    g.add_argument("--population-raster", metavar="RASTER",
                   help="people per cell (WorldPop, GHS-POP; any CRS): totals preserved, nodata ignored")
    if class_share:
        g.add_argument("--class-share", action="append", metavar="CLASS=FIELD",
                       help="share (0..1) of each zone's people in cells of CLASS, from a zone field (repeatable)")
    g.add_argument("--counting", choices=("centre", "fraction"), default="centre",
                   help="cells count in the zone covering their centre (default) or by exact area fractions")


def add_zone_arguments(g) -> None:
    """--zone-id, --zones-layer, --keep: how every subcommand names its zones."""
    g.add_argument("--zone-id", required=True, metavar="FIELD", help="field with a unique id per zone")
    g.add_argument("--zones-layer", metavar="NAME", help="layer of ZONES (when it has several)")
    g.add_argument("--keep", action="append", metavar="FIELD", default=[],
                   help="zone field copied to the outputs (repeatable), e.g. --keep name")


def add_point_arguments(g, many_upper: str, name_use: str = "", *, former: tuple = ()) -> None:
    """--facility-id, --facility-name, --facilities-layer and the CSV coordinates of the facilities (stations,
    hospitals); ``former``: earlier spellings still accepted (e.g. ("station", "stations") for --station-id)."""
    old = dict(zip(("one", "many"), former))
    g.add_argument("--facility-id", *([f"--{old['one']}-id"] if old else []), dest="facility_id", metavar="FIELD",
                   help="facility id field (default: id/name field or row number)")
    g.add_argument("--facility-name", *([f"--{old['one']}-name"] if old else []), dest="facility_name",
                   metavar="FIELD", help=f"facility name field{name_use}")
    g.add_argument("--facilities-layer", *([f"--{old['many']}-layer"] if old else []), dest="facilities_layer",
                   metavar="NAME", help=f"layer of {many_upper}")
    add_csv_point_arguments(g, "facility")


def add_snap_arguments(g, many: str) -> None:
    g.add_argument("--snap-max-m", type=float, metavar="M",
                   help=f"move {many} off impassable cells / into the grid by up to M metres "
                        "(default max(500 m, 2 cells))")
    g.add_argument("--skip-unplaced", action="store_true",
                   help=f"leave out (with a warning) {many} that cannot be placed, instead of stopping")


def add_travel_arguments(p: argparse.ArgumentParser, *, fractions: bool = False) -> None:
    """The travel model: --friction, --speed-raster, or land cover (+ cover fractions) / roads / background."""
    g = p.add_argument_group("travel model (one of --friction, --speed-raster, or land cover/roads/background)")
    g.add_argument("--friction", metavar="RASTER", help="friction raster (see --friction-unit)")
    g.add_argument("--friction-unit", default="s/m",
                   help="unit of --friction: s/m (default), min/m (Malaria Atlas Project), s/km, min/km, h/km")
    g.add_argument("--speed-raster", metavar="RASTER", help="speed raster in km/h")
    g.add_argument("--landcover", metavar="RASTER", help="land-cover class raster, with --landcover-speed")
    g.add_argument("--landcover-speed", action="append", metavar="CODE=KMH", help="speed of a land-cover class")
    if fractions:
        g.add_argument("--landcover-fraction", action="append", metavar="RASTER=KMH",
                       help="cover-fraction raster (percent) and its speed (repeatable); with --other-speed")
        g.add_argument("--other-speed", type=float, metavar="KMH", help="speed where no listed cover dominates")
    g.add_argument("--roads", action="append", metavar="FILE", help="road lines (OSM .pbf or any OGR source)")
    g.add_argument("--road-profile", default="car",
                   help="car (default), ambulance, walking, or CLASS=KMH,CLASS=KMH (e.g. trunk=60,primary=50)")
    g.add_argument("--background-speed", type=float, metavar="KMH", help="speed every cell has at least")
    g.add_argument("--barriers", action="append", metavar="FILE", help="impassable polygons/lines or raster mask")
    g.add_argument("--land", metavar="FILE",
                   help="land mask (polygons, or a raster: non-zero = land): every cell it does not touch, the sea, "
                        "is impassable whatever --background-speed or --roads say")
    t = p.add_argument_group("walking on terrain (docs/travel-modes.md)")
    t.add_argument("--dem", action="append", metavar="FILE_OR_DIR",
                   help="elevation model: a raster (GeoTIFF, SRTM .hgt/.hgt.zip, VRT), a folder of tiles, or repeat "
                        "for several tiles; uphill then costs more than downhill")
    t.add_argument("--terrain-model", choices=("tobler", "rwalk"),
                   help="slope model: tobler (Tobler's hiking function, default) or rwalk (GRASS r.walk)")
    t.add_argument("--rwalk", action="append", metavar="NAME=VALUE",
                   help="r.walk coefficient (a, b, c, d, slope_factor, lambda; repeatable), with --terrain-model rwalk")
    t.add_argument("--walk-direction", choices=("toward", "away"),
                   help="toward (default): times of trips to the facilities; away: from them")
    w = p.add_argument_group("walk then ride (docs/travel-modes.md): the travel options above give the walking surface")
    w.add_argument("--ride", action="append", metavar="MODE=FILE",
                   help="a ride network: road=FILE (OSM .pbf/.osm or road lines) or ferry=FILE (ferry route lines "
                        "with a 'route' field, e.g. OSM route=ferry); repeatable")
    w.add_argument("--ride-profile", default="car",
                   help="road speeds of --ride road=FILE: car (default), ambulance, walking, or class=kmh,...")
    w.add_argument("--board-minutes", action="append", metavar="MODE=MIN",
                   help="boarding penalty of a mode (waiting, finding a motorbike), e.g. road=5; repeatable")
    w.add_argument("--alight-minutes", action="append", metavar="MODE=MIN", help="alighting penalty of a mode")
    w.add_argument("--ferry-speed", type=float, metavar="KMH", help="speed of the boats (with --ride ferry=FILE)")
    w.add_argument("--ferry-wait-minutes", type=float, default=0.0, metavar="MIN",
                   help="wait for the boat, once per crossing (default 0)")
    w.add_argument("--max-walk-minutes", type=float, metavar="MIN",
                   help="longest walking leg of a trip that rides (to the road, between rides, from the road to the "
                        "facility; inclusive); trips that walk all the way are not capped (default: no cap)")
    h = p.add_argument_group("time of day (docs/travel-modes.md)")
    h.add_argument("--hour-factors", metavar="CSV",
                   help="road speed factors by hour: a CSV with columns hour,class,factor (class * = every other "
                        "class); with --roads")


def add_grid_arguments(p: argparse.ArgumentParser) -> None:
    """The grid group (cell size, metric CRS, margin): one default cell size for every grid subcommand."""
    g = p.add_argument_group("grid")
    g.add_argument("--cell-size", type=float, default=DEFAULT_CELL_SIZE_M, metavar="M",
                   help=f"cell size in metres (default {DEFAULT_CELL_SIZE_M:g})")
    g.add_argument("--metric-crs", metavar="CRS",
                   help="CRS of the analysis (default: the zones' own if projected, else their UTM zone)")
    g.add_argument("--margin-m", type=float, default=0.0, metavar="M",
                   help="ground around the zones' extent that travel may cross (default 0)")


def add_output_arguments(g, *, prefix: str, label: str | None = None, label_help: str = "") -> None:
    """--label (grid subcommands), --modelled, --note, --region-label, --out, --prefix, --no-map, --qgis-project,
    --excel: the same names, syntax and defaults in every analysis subcommand."""
    if label is not None:
        g.add_argument("--label", default=label, help=label_help)
    g.add_argument("--modelled", action="append", metavar="[NAME=]TEXT",
                   help="mark an input as modelled, saying how (repeatable): TEXT, or NAME=TEXT for one input "
                        "(e.g. beds=...); every output then says MODELLED")
    g.add_argument("--note", action="append", metavar="TEXT", help="note written with the results (repeatable)")
    g.add_argument("--region-label", default="region", help="label of the whole-region row (default region)")
    g.add_argument("--out", metavar="DIR", help="write the outputs listed below into DIR (all of them or none)")
    g.add_argument("--prefix", default=prefix, help=f"output file name prefix (default {prefix})")
    g.add_argument("--no-map", action="store_true", help="do not draw the PNG map")
    g.add_argument("--qgis-project", action="store_true",
                   help="also write PREFIX.qgz, a QGIS project that opens the GeoPackage's layers and the rasters, "
                        "styled, by relative paths (with --out; docs/qgis.md)")
    g.add_argument("--excel", action="store_true", help=EXCEL_HELP)


def add_grid_and_label_arguments(p: argparse.ArgumentParser, *, label: str, label_help: str, prefix: str) -> None:
    """The grid group and the labels-and-output group of the grid subcommands (reach, catchments, access)."""
    add_grid_arguments(p)
    add_output_arguments(p.add_argument_group("labels and output"), prefix=prefix, label=label, label_help=label_help)


def modelled_option(items) -> dict | None:
    """``{input: how}`` from repeated ``--modelled [NAME=]TEXT``; a bare TEXT is about "input". NAME must be a plain
    name (letters, digits, _), so a text that merely contains "=" stays a text."""
    out: dict = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        key, value = (name, text.strip()) if sep and name.isidentifier() and text.strip() else ("input", item.strip())
        out[key] = f"{out[key]}; {value}" if key in out else value
    return out or None


def per_option(items, option: str = "--per"):
    """``--per [NAME=]N`` (repeatable): a number for every resource, or ``{name: N}``; None when not given."""
    named: dict = {}
    bare = None
    for item in items or []:
        name, sep, value = item.rpartition("=")
        try:
            number = float(value)
        except ValueError:
            raise UsageError(f"{option} {item!r}: expected N or NAME=N, e.g. {option} 1000 or "
                             f"{option} ambulances=30000") from None
        if sep:
            named[name] = number
        else:
            bare = number
    if bare is not None and named:
        raise UsageError(f"{option}: give one number for every resource or NAME=N per resource, not both")
    return named or bare


def per_of(items, name: str, default: float = 1000.0, option: str = "--per") -> float:
    """The ``--per [NAME=]N`` of the one supply `name` (access, access-table): N, or NAME=N naming it."""
    per = per_option(items, option)
    if isinstance(per, dict):
        if set(per) != {name}:
            raise UsageError(f"{option}: the supply is {name!r}; give {option} N or {option} {name}=N")
        per = per[name]
    return default if per is None else per


def study_keywords(args) -> dict:
    """careshed.Study keywords of the zone / people / travel model / grid / label options (the adders above)."""
    fractions = getattr(args, "landcover_fraction", None)  # only `careshed reach` has cover fractions
    travel_given = [args.friction is not None, args.speed_raster is not None,
                    any(v is not None for v in (args.landcover, fractions, args.roads, args.background_speed))]
    if sum(travel_given) != 1:
        raise UsageError("give one travel model: --friction RASTER, --speed-raster RASTER, or land cover (--landcover"
                         ") / --roads / --background-speed")
    study = dict(zone_id=args.zone_id, population=args.population, population_raster=args.population_raster,
                 cell_size_m=args.cell_size, metric_crs=args.metric_crs, margin_m=args.margin_m, counting=args.counting,
                 keep=args.keep or None, region_label=args.region_label, zones_layer=args.zones_layer,
                 modelled=modelled_option(args.modelled), notes=args.note)
    cuts = {"barriers": list(args.barriers or []) or None, "land": args.land}   # apply to any travel model
    cuts.update(terrain_keywords(args))
    cuts.update(ride_keywords(args))
    if getattr(args, "hour_factors", None):
        if not args.roads:
            raise UsageError("--hour-factors (road speed factors by hour) needs --roads")
        cuts["hours"] = args.hour_factors
    if args.friction and any(cuts.values()):
        study["travel"] = {"friction_raster": args.friction, "friction_unit": args.friction_unit, **cuts}
    elif args.speed_raster and any(cuts.values()):
        study["travel"] = {"speed_raster": args.speed_raster, **cuts}
    elif args.friction:
        study["friction"] = args.friction
        study["friction_unit"] = args.friction_unit
    elif args.speed_raster:
        study["speed_raster"] = args.speed_raster
    else:
        travel: dict = {}
        if args.landcover:
            if not args.landcover_speed:
                raise UsageError("--landcover needs --landcover-speed CODE=KMH (repeatable), e.g. --landcover-speed "
                                 "10=4")
            travel["landcover"] = args.landcover
            travel["landcover_speeds"] = {int(float(k)): v for k, v in
                                          key_values(args.landcover_speed, "--landcover-speed", numeric=True).items()}
        if fractions:
            travel["landcover_fractions"] = key_values(fractions, "--landcover-fraction", numeric=True)
            travel["other_speed_kmh"] = args.other_speed
        if args.roads:
            travel["roads"] = list(args.roads)
            travel["road_profile"] = profile(args.road_profile)
        if args.background_speed is not None:
            travel["background_speed_kmh"] = args.background_speed
        study["travel"] = {**travel, **cuts}
    return study


def ride_keywords(args) -> dict:
    """travel={"modes": ...} of Study (walk then ride) from --ride / --ride-profile / --board-minutes /
    --alight-minutes / --ferry-speed / --ferry-wait-minutes."""
    rides = key_values(getattr(args, "ride", None) or [], "--ride", numeric=False)
    board = key_values(getattr(args, "board_minutes", None) or [], "--board-minutes", numeric=True)
    alight = key_values(getattr(args, "alight_minutes", None) or [], "--alight-minutes", numeric=True)
    max_walk = getattr(args, "max_walk_minutes", None)
    if not rides:
        if board or alight or getattr(args, "ferry_speed", None) is not None or max_walk is not None:
            raise UsageError("--board-minutes, --alight-minutes, --ferry-speed and --max-walk-minutes need "
                             "--ride MODE=FILE")
        return {}
    for option, given in (("--board-minutes", board), ("--alight-minutes", alight)):
        extra = sorted(set(given) - set(rides))
        if extra:
            raise UsageError(f"{option} {extra[0]}=...: no --ride {extra[0]}=FILE was given")
    modes: dict = {}
    for mode, path in rides.items():
        entry: dict = {"network": path, "board_minutes": board.get(mode, 0.0),
                       "alight_minutes": alight.get(mode, 0.0)}
        if mode == "road":
            entry["profile"] = profile(args.ride_profile)
        elif mode == "ferry":
            entry["speed_kmh"] = args.ferry_speed
            entry["wait_minutes"] = args.ferry_wait_minutes
        modes[mode] = entry
    return {"modes": modes} if max_walk is None else {"modes": modes, "max_walk_minutes": max_walk}


def terrain_keywords(args) -> dict:
    """The walking-on-terrain keys of Study(travel=...) from --dem / --terrain-model / --rwalk / --walk-direction."""
    if not args.dem:
        given = [o for o, v in (("--terrain-model", args.terrain_model), ("--rwalk", args.rwalk),
                                ("--walk-direction", args.walk_direction)) if v]
        if given:
            raise UsageError(f"{', '.join(given)} {'need' if len(given) > 1 else 'needs'} --dem FILE (the elevation "
                             "model)")
        return {}
    out: dict = {"dem": args.dem[0] if len(args.dem) == 1 else list(args.dem)}
    if args.terrain_model:
        out["terrain_model"] = args.terrain_model
    if args.rwalk:
        if args.terrain_model != "rwalk":
            raise UsageError("--rwalk needs --terrain-model rwalk")
        out["rwalk"] = key_values(args.rwalk, "--rwalk", numeric=True)
    if args.walk_direction:
        out["terrain_direction"] = args.walk_direction
    return out


def placement_keywords(args, *, id_keyword: str, point_id, point_name, layer) -> dict:
    """Keywords placing the stations / facilities on the grid (Study.reach, study_catchments, study_access)."""
    return {id_keyword: point_id, "name_field": point_name, "layer": layer, "x": args.x, "y": args.y,
            "crs": args.crs, "snap_max_m": args.snap_max_m, "unplaced": "skip" if args.skip_unplaced else "error",
            "label": args.label}


# ---- careshed catchments / careshed access (shared: zones, people, travel model, grid, facilities) -----

def add_study_arguments(p: argparse.ArgumentParser, what: str, prefix: str) -> None:
    """ZONES FACILITIES and the zone / people / travel model / grid / facility options of a careshed.Study."""
    add_zones_and_people_arguments(p, "facilities", f"{what} as points")
    g = p.add_argument_group(f"{what}")
    add_point_arguments(g, "FACILITIES", " (map labels)")
    add_snap_arguments(g, "facilities")
    add_travel_arguments(p)
    add_grid_and_label_arguments(p, label="facilities", label_help="what the facilities are, e.g. hospitals (titles, "
                                 "notes)", prefix=prefix)


def add_catchment_arguments(g) -> None:
    """--resource and --max-minutes of the catchments (careshed catchments, careshed report on your own inputs)."""
    g.add_argument("--resource", action="append", metavar="NAME[=FIELD]",
                   help="facility resource to count per 1000 residents of the catchment (repeatable): 'beds' reads "
                        "field beds, 'beds=BEDS_2020' reads field BEDS_2020")
    g.add_argument("--max-minutes", type=float, metavar="MIN",
                   help="catchments reach this far (inclusive); farther cells belong to no catchment "
                        "(default: no limit; required with --capacity)")


def study_and_facility_arguments(args) -> tuple[dict, dict]:
    """(careshed.Study keywords, facility placement keywords) from the shared options."""
    if args.population is None and args.population_raster is None:
        raise UsageError("give the people: --population FIELD (residents per zone) and/or --population-raster "
                         "RASTER (people per cell)")
    return study_keywords(args), placement_keywords(args, id_keyword="facility_id", point_id=args.facility_id,
                                                      point_name=args.facility_name, layer=args.facilities_layer)


def add_network_arguments(p: argparse.ArgumentParser) -> None:
    """--network and its options: drive on a road graph built from OSM (docs/network.md)."""
    g = p.add_argument_group("drive on a road graph (docs/network.md): the travel options above then only say "
                             "which cells are passable")
    g.add_argument("--network", metavar="FILE", help="OSM extract (.osm.pbf / .osm): facilities and cells snap to "
                   "its nearest nodes and the time between them is the road graph's (one-way streets, turn "
                   "restrictions)")
    g.add_argument("--network-profile", default="car",
                   help="road speeds: car (default), ambulance, walking, or CLASS=KMH,CLASS=KMH")
    g.add_argument("--osm-reader", choices=("osmium", "gdal"),
                   help="osmium (libosmium, default: ways meet at shared nodes, turn restrictions and ferries) or "
                        "gdal (GDAL's OSM driver: vertices matched by coordinates, roads only)")
    g.add_argument("--offroad-speed", type=float, default=5.0, metavar="KMH",
                   help="speed of the straight leg between a cell or facility and its nearest node (default 5)")
    g.add_argument("--max-snap-m", type=float, metavar="M",
                   help="cells farther from every node are unreachable, facilities farther are refused (default: none)")


def network_keywords(args, *, hours: bool = False) -> dict:
    """Analysis keywords of :func:`add_network_arguments` (``network``, the road graph built here,
    ``offroad_speed_kmh``, ``max_snap_distance_m``), or {} without --network. With `hours` (reach), --hour-factors
    then gives the graph's factors (``hour_factors``; taken out of the travel model's options)."""
    if not args.network:
        given = [f for f, v in (("--osm-reader", args.osm_reader), ("--max-snap-m", args.max_snap_m)) if v is not None]
        if given:
            raise UsageError(f"{' and '.join(given)} {'go' if len(given) > 1 else 'goes'} with --network FILE (a road "
                             "graph from OSM)")
        return {}
    if getattr(args, "ride", None) or getattr(args, "dem", None):
        raise UsageError("--network drives on a road graph: it cannot be combined with --ride or --dem")
    graph = RoadGraph.from_osm(args.network, profile(args.network_profile), reader=args.osm_reader)
    kw = {"network": graph, "offroad_speed_kmh": args.offroad_speed, "max_snap_distance_m": args.max_snap_m}
    if hours and args.hour_factors:
        kw["hour_factors"], args.hour_factors = args.hour_factors, None
    return kw
