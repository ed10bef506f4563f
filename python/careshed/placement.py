"""Facilities (stations, hospitals) read and placed on a study's grid — the same rules for every analysis.

A facility point goes to the grid cell under it when that cell is passable; otherwise to the passable cell whose
centre is nearest, within ``snap_max_m`` (default max(500 m, 2 cells)), and the move is reported. A facility that
cannot be placed stops the run (``unplaced="error"``) or is left out with an :class:`UnplacedFacilitiesWarning`
(``unplaced="skip"``). Every analysis on a :class:`careshed.Study` places its facilities here.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .arrays.geometry import assign_points_to_zones, transform_xy
from .arrays.travel_time import nearest_travel_time
from .constants import ID_FIELDS, NAME_FIELDS
from .errors import CRSError, InputError, UsageError, keyword
from .io.fields import column, numeric_column, unique_ids
from .io.raster import Grid
from .io.vector import describe_source, load, points_xy

__all__ = ["UnplacedFacilitiesWarning", "UnplacedStationsWarning", "Points", "read_points", "snap_distance",
           "place_points", "place_facilities", "facility_values", "point_columns", "UnreachablePeopleWarning",
           "check_reachable_people"]


class UnplacedFacilitiesWarning(UserWarning):
    """Some facilities (stations) lie outside the grid or on impassable cells beyond the snapping distance and were
    left out (only with ``unplaced="skip"``; the default refuses them with an InputError)."""


class UnreachablePeopleWarning(UserWarning):
    """Some people cannot reach any facility: they stand on impassable cells, or on passable ground (a piece of the
    road network, an island) that no path joins to a facility. The message says how many and which case."""


#: The former name (careshed <= 0.1), kept so ``except``/``filterwarnings`` on it still work.
UnplacedStationsWarning = UnplacedFacilitiesWarning


@dataclass
class Points:
    """Facilities read from the caller's layer: ids, names, coordinates in the grid CRS, per-facility delays."""

    frame: Any
    ids: list
    names: list | None
    x: np.ndarray          # in the grid CRS
    y: np.ndarray
    turnout_s: np.ndarray
    vehicles: np.ndarray | None
    source: str
    notes: list = field(default_factory=list)
    #: a hint for errors when the points miss the grid but would hit it with x and y swapped (lon/lat columns)
    swapped_hint: str = ""


def read_points(stations, grid: Grid, *, facility_id, name_field, turnout_seconds, vehicles, layer, x, y,
                   crs) -> Points:
    frame = load(stations, what="stations", layer=layer, crs=crs, x=x, y=y, table_ok=False)
    src = describe_source(frame)
    n = len(frame)
    if n == 0:
        raise InputError(f"{src}: no stations")
    geom_name = getattr(frame, "_geometry_column_name", None)
    if not geom_name or geom_name not in frame.columns:
        raise InputError(f"{src}: the stations have no point geometry; give a point layer, or a CSV with "
                         f"{keyword('x')}/{keyword('y')} (lon/lat fields) and {keyword('crs')}")
    if frame.crs is None:
        raise CRSError(f"{src}: the stations have no CRS; give {keyword('crs', 'EPSG:4326')} (or the right one)")
    if facility_id is None:
        facility_id = next((f for f in ID_FIELDS if f in frame.columns), None)
    if facility_id is not None:
        ids = list(unique_ids(src, facility_id, column(frame, facility_id, "facility id").tolist(), "station"))
    else:
        ids = [str(i + 1) for i in range(n)]
    names = None
    if name_field is not None:
        names = [None if v is None else str(v) for v in column(frame, name_field, "station name").tolist()]
    else:
        cand = next((f for f in NAME_FIELDS if f in frame.columns), None)
        if cand is not None:
            names = [None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
                     for v in frame[cand].tolist()]
    px, py_, kind = points_xy(frame.geometry)
    notes = []
    if (kind == 1).any():
        i = int(np.flatnonzero(kind == 1)[0])
        raise InputError(f"{src}: station {ids[i]!r} (row {i + 1}) has no geometry; give every station a point")
    if (kind == 2).any():
        idx = np.flatnonzero(kind == 2)
        for i in idx:
            pt = frame.geometry.iloc[int(i)].representative_point()
            px[i], py_[i] = pt.x, pt.y
        notes.append(f"{len(idx)} station(s) given as areas are placed at a point inside them "
                     f"(representative point): {', '.join(ids[int(i)] for i in idx[:10])}")
    gx, gy = transform_xy(px, py_, frame.crs.to_wkt(), grid.crs)
    swapped_hint = ""
    if frame.crs.is_geographic and not _on_grid(grid, gx, gy).any() and \
            (np.abs(py_) <= 180).all() and (np.abs(px) <= 90).all():
        sx, sy = transform_xy(py_, px, frame.crs.to_wkt(), grid.crs)
        if _on_grid(grid, sx, sy).any():
            swapped_hint = (f"; with x and y swapped they would fall on the grid: the longitude/latitude fields look "
                            f"swapped (check {keyword('x')} is the longitude and {keyword('y')} the latitude)")
    if isinstance(turnout_seconds, str):
        turn, _ = numeric_column(frame, turnout_seconds, "turnout seconds", ids=ids, allow_null=True)
    else:
        t = 0.0 if turnout_seconds is None else float(turnout_seconds)
        if not math.isfinite(t) or t < 0:
            raise UsageError(f"{keyword('turnout_seconds', turnout_seconds)}: must be a number of seconds >= 0")
        turn = np.full(n, t)
    veh = None
    if isinstance(vehicles, str):
        veh, _ = numeric_column(frame, vehicles, "vehicles", ids=ids, allow_null=True)
    elif vehicles is not None:
        v = float(vehicles)
        if not math.isfinite(v) or v < 0:
            raise UsageError(f"{keyword('vehicles', vehicles)}: must be a number >= 0")
        veh = np.full(n, v)
    return Points(frame, ids, names, gx, gy, turn, veh, src, notes, swapped_hint)


def _on_grid(grid: Grid, x, y) -> np.ndarray:
    x0, dx, _, y0, _, dy = grid.transform
    x1, y1 = x0 + dx * grid.width, y0 + dy * grid.height
    with np.errstate(invalid="ignore"):
        return (x >= min(x0, x1)) & (x <= max(x0, x1)) & (y >= min(y0, y1)) & (y <= max(y0, y1))


def place_cells(st: Points, grid: Grid, passable: np.ndarray, snap_max_m: float):
    """(row, col, snapped distance m, status) per station. A station on a passable cell stays there; else it
    moves to the passable cell whose centre is nearest its point, within snap_max_m (ties: lowest row-major
    cell). Status: "on grid", "snapped", "outside grid", "impassable"."""
    rows, cols = grid.shape
    dx, dy = grid.cell_size
    r0, c0 = grid.rowcol(st.x, st.y)
    n = len(st.ids)
    out_r = np.full(n, -1, dtype=np.int64)
    out_c = np.full(n, -1, dtype=np.int64)
    moved = np.full(n, np.nan)
    status = []
    reach_r = int(math.ceil(snap_max_m / dy)) + 1
    reach_c = int(math.ceil(snap_max_m / dx)) + 1
    for i in range(n):
        r, c = int(r0[i]), int(c0[i])
        inside = 0 <= r < rows and 0 <= c < cols
        if inside and passable[r, c]:
            out_r[i], out_c[i], moved[i] = r, c, 0.0
            status.append("on grid")
            continue
        ra, rb = max(r - reach_r, 0), min(r + reach_r + 1, rows)
        ca, cb = max(c - reach_c, 0), min(c + reach_c + 1, cols)
        if ra < rb and ca < cb:
            win = passable[ra:rb, ca:cb]
            rr, cc = np.nonzero(win)
            if rr.size:
                cx, cy = grid.xy(rr + ra, cc + ca)
                d = np.hypot(cx - st.x[i], cy - st.y[i])
                ok = d <= snap_max_m
                if ok.any():
                    j = np.flatnonzero(ok)[np.argmin(d[ok])]   # nonzero is row-major: first min = lowest cell
                    out_r[i], out_c[i], moved[i] = rr[j] + ra, cc[j] + ca, float(d[j])
                    status.append("snapped")
                    continue
        status.append("impassable" if inside else "outside grid")
    return out_r, out_c, moved, status


def snap_distance(grid: Grid, snap_max_m, unplaced) -> float:
    """Check ``unplaced`` ('error' or 'skip'); the snapping distance in metres (default max(500 m, 2 cells))."""
    if unplaced not in ("error", "skip"):
        raise UsageError(f"unplaced: {unplaced!r}; use 'error' (refuse) or 'skip' (leave out with a warning)")
    dx, dy = grid.cell_size
    snap = max(500.0, 2.0 * max(dx, dy)) if snap_max_m is None else float(snap_max_m)
    if not math.isfinite(snap) or snap < 0:
        raise UsageError(f"{keyword('snap_max_m', snap_max_m)}: must be a distance in metres >= 0")
    return snap


def place_points(st: Points, grid: Grid, passable: np.ndarray, snap: float, unplaced: str, *, what: str, one: str,
               stacklevel: int):
    """:func:`place_cells` with the rules for points that cannot be placed: they stop the run (unplaced='error') or are
    left out with an :class:`UnplacedFacilitiesWarning` and a note (unplaced='skip'); at least one must be placed.
    ``what`` names the points in counts ("station(s)"), ``one`` in "no <one> could be placed"; ``stacklevel`` is
    the warning's, counted from here. Returns (row, col, moved m, status, used point indices, notes: the
    reader's notes then the placement notes)."""
    rr, cc, moved, status = place_cells(st, grid, passable, snap)
    bad = [i for i, s in enumerate(status) if s not in ("on grid", "snapped")]
    notes = list(st.notes)
    if bad:
        detail = ", ".join(f"{st.ids[i]!r} ({status[i]})" for i in bad[:10])
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        msg = (f"{st.source}: {len(bad)} {what} are outside the grid or on impassable cells with no passable "
               f"cell within {snap:g} m: {detail}{more}")
        msg += st.swapped_hint
        if unplaced == "error":
            raise InputError(msg + f". Move them, raise {keyword('snap_max_m')}, or give {keyword('unplaced', 'skip')} "
                             "to leave them out")
        warnings.warn(msg + "; they are left out", UnplacedFacilitiesWarning, stacklevel=stacklevel)
        notes.append(msg + "; left out")
    snapped = [i for i, s in enumerate(status) if s == "snapped"]
    if snapped:
        notes.append(f"{len(snapped)} {what} moved to the nearest passable cell (within {snap:g} m): "
                     + ", ".join(f"{st.ids[i]!r} {moved[i]:.0f} m" for i in snapped[:10])
                     + (" ..." if len(snapped) > 10 else ""))
    bad_set = set(bad)
    used = np.array([i for i in range(len(st.ids)) if i not in bad_set], dtype=np.int64)
    if used.size == 0:
        raise InputError(f"{st.source}: no {one} could be placed on the grid")
    return rr, cc, moved, status, used, notes


def place_facilities(study, facilities, *, facility_id, name_field, layer, x, y, crs, snap_max_m, unplaced,
                     what, stacklevel=4):
    """Read and place facilities on the study's grid (Study.reach's rules). Returns (st, used, rr, cc, moved,
    status, zone index per facility, notes)."""
    grid = study.grid
    snap = snap_distance(grid, snap_max_m, unplaced)
    st = read_points(facilities, grid, facility_id=facility_id, name_field=name_field, turnout_seconds=None,
                        vehicles=None, layer=layer, x=x, y=y, crs=crs)
    rr, cc, moved, status, used, notes = place_points(st, grid, np.isfinite(study.friction.seconds_per_metre), snap,
                                                    unplaced, what=what, one=what, stacklevel=stacklevel)
    st_zone = assign_points_to_zones(study.zones.geometry, st.x, st.y)
    return st, used, rr, cc, moved, status, st_zone, notes


def facility_values(st, spec, what: str) -> np.ndarray:
    """One float per facility: a field name of the facility layer, one number, or a sequence."""
    if isinstance(spec, str):
        v, _ = numeric_column(st.frame, spec, what, ids=st.ids)
        return np.asarray(v, dtype=np.float64)
    arr = np.asarray(spec, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(len(st.ids), float(arr))
    if arr.shape != (len(st.ids),):
        raise InputError(f"{what}: expected a field name, one number or one value per facility ({len(st.ids)}); got "
                         f"{arr.shape[0]} values")
    bad = np.flatnonzero(~(np.isfinite(arr) & (arr >= 0)))
    if bad.size:
        raise InputError(f"{what}: facility {st.ids[int(bad[0])]!r} has {arr[bad[0]]}; give finite numbers >= 0")
    return arr


def point_columns(st, study, st_zone, rr, cc, moved, status) -> dict:
    """The leading columns of a station / facility table: name (if any), zone id (None outside every zone),
    x, y, row, col, placement status and snapped distance in metres."""
    cols: dict[str, Any] = {}
    if st.names is not None:
        cols["name"] = st.names
    cols["zone"] = np.array([study.ids[z] if z >= 0 else None for z in st_zone], dtype=object)  # ids stay ids
    cols["x"] = st.x
    cols["y"] = st.y
    cols["row"] = rr
    cols["col"] = cc
    cols["status"] = status
    cols["snapped_m"] = moved
    return cols


def check_reachable_people(seconds, population, friction, sources, cell_size, neighbours, *, max_seconds=None,
                           what: str = "station", stacklevel: int = 3, search=None,
                           also_cut_off_by: str | None = None) -> str | None:
    """Says who cannot reach any facility, and why (issue 8: a road network cut off from the people must not pass
    silently). Returns None when every populated cell is reached. Otherwise the explanation: people on impassable
    cells (no travel layer gives them a speed), people on passable ground joined to no facility by any path (a
    separate piece of the road network or of land: found by a second search without the cut-off on the same
    connectivity), and people beyond the cut-off. Raises InputError when nobody at all is reached (a run of only
    unreachable people is a problem in the data); warns (UnreachablePeopleWarning) and returns the text otherwise.

    `search`: the run's own search without the cut-off and without start offsets, as a callable returning the
    seconds per cell — needed when the run does not walk on `friction` alone (walk then ride: people reachable
    only by riding are not cut off); default: the walking search on `friction` (8/16 `neighbours`).
    `also_cut_off_by`: another reason the run's search leaves passable people without a path, said with the
    separate pieces (e.g. "a walking leg longer than the maximum of 30 min").
    """
    pop = np.where(np.isfinite(population) & (population > 0), population, 0.0)
    unreached = (pop > 0) & ~np.isfinite(seconds)
    if not unreached.any():
        return None
    passable = np.isfinite(friction)
    impassable = unreached & ~passable
    stranded = unreached & passable
    beyond = np.zeros_like(stranded)
    if max_seconds is not None and stranded.any():
        # Which of them only lie beyond the cut-off: the same search without it (and without offsets).
        if search is None:
            connected, _ = nearest_travel_time(friction, sources, cell_size, np.zeros(len(sources)), None, neighbours)
        else:
            connected = search()
        beyond = stranded & np.isfinite(connected)
        stranded &= ~beyond
    people, total = float(pop[unreached].sum()), float(pop.sum())

    def part(mask, text):
        return f"{float(pop[mask].sum()):,.0f} people in {int(mask.sum()):,} cells {text}" if mask.any() else None

    parts = [p for p in (
        part(impassable, "stand on impassable cells (no travel layer gives them a speed: with roads only, every cell "
                         "off the roads is impassable: give a background speed such as "
                         f"{keyword('background_speed_kmh', 5)} for walking off the roads, or check the barriers "
                         "and the land mask)"),
        part(stranded, f"are on passable ground that no path joins to any {what} (a separate piece of the road "
                       f"network or of land" + (f", or {also_cut_off_by}" if also_cut_off_by else "") +
                       f": connect it to the {what}s' network, or add a {what} there)"),
        part(beyond, f"are beyond the cut-off of {max_seconds / 60.0:g} min" if max_seconds is not None else ""),
    ) if p]
    if people >= total:
        raise InputError(f"nobody can reach any {what}: all {total:,.0f} people ({int(unreached.sum()):,} populated "
                         f"cells) are unreachable: " + "; ".join(parts))
    text = (f"{people:,.0f} of {total:,.0f} people ({people / total:.1%}) cannot reach any {what}: "
            + "; ".join(parts))
    warnings.warn(text, UnreachablePeopleWarning, stacklevel=stacklevel)
    return text
