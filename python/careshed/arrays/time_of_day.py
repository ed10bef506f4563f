"""Time of day: road speed factors by hour (a city at 8:00 is not the city at 3:00).

An hour's factors say how much faster or slower each road class runs than its profile speed (or its
``maxspeed``): ``{hour: {class: factor}}``, ``"*"`` standing for every class not listed, classes absent keeping
factor 1. They are given as a dict or as a CSV file with the columns ``hour,class,factor`` (one row per hour and
class; ``#`` lines are comments). :func:`hour_factors` checks them; the friction surface of an hour is the one
built with ``road_speed_factor=factors[hour]`` (:func:`careshed.arrays.friction_surface`), so an hour's run IS a
run with scaled speeds (which is what the tests check).

On the road-graph engine (:class:`careshed.RoadGraph`): :meth:`careshed.RoadGraph.with_speed_factors` gives the graph at
an hour's class factors, times per-line factors (e.g. a field of the road layer, :func:`line_factors_from_field`);
:func:`road_travel_time_by_hour` runs :meth:`careshed.RoadGraph.travel_time` at each hour and gives the slowest
hour per point (the graph engine's reach by hour). The oracle is the same: a graph built with the scaled speeds.
"""
from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..io.vector import read_vector

__all__ = ["hour_factors", "describe_factors", "checked_factor", "line_factors_from_field",
           "road_travel_time_by_hour", "RoadTimesByHour"]


def _hour(value, where: str) -> int:
    try:
        h = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{where}: hour {value!r} is not a number; hours are 0..23") from None
    if not (h.is_integer() and 0 <= h <= 23):
        raise InputError(f"{where}: hour {value!r} is not a whole hour between 0 and 23")
    return int(h)


def checked_factor(value, where: str) -> float:
    """`value` as a speed factor (finite, > 0); InputError starting with `where` otherwise."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{where}: factor {value!r} is not a number") from None
    if not (math.isfinite(f) and f > 0):
        raise InputError(f"{where}: factor {value!r} must be a finite number > 0 (it multiplies the road speed)")
    return f


def hour_factors(spec) -> dict[int, dict[str, float]]:
    """``{hour: {class: factor}}`` (hours ascending) from a dict of the same shape or a CSV path; InputError naming
    the hour, class, file and row otherwise."""
    out: dict[int, dict[str, float]] = {}
    if isinstance(spec, (str, os.PathLike)):
        path = os.fspath(spec)
        try:
            with open(path, newline="", encoding="utf-8") as fh:
                rows = [r for r in csv.reader(fh) if r and not r[0].lstrip().startswith("#")]
        except OSError as e:
            raise InputError(f"hours: cannot read {path}: {e.strerror or e}") from None
        if not rows or [c.strip().lower() for c in rows[0]] != ["hour", "class", "factor"]:
            raise InputError(f"hours: {path} must start with the header hour,class,factor")
        for i, row in enumerate(rows[1:], start=2):
            where = f"hours: {path} row {i}"
            if len(row) != 3:
                raise InputError(f"{where}: expected 3 values (hour,class,factor), got {len(row)}")
            h, cls = _hour(row[0], where), row[1].strip()
            if not cls:
                raise InputError(f"{where}: empty class (use * for every class not listed)")
            if cls in out.setdefault(h, {}):
                raise InputError(f"{where}: class {cls!r} at hour {h} is given twice")
            out[h][cls] = checked_factor(row[2], where)
        if not out:
            raise InputError(f"hours: {path} holds no hour")
    elif isinstance(spec, Mapping):
        if not spec:
            raise InputError("hours: give at least one hour, e.g. {8: {'primary': 0.5, '*': 0.8}}")
        for hour, factors in spec.items():
            h = _hour(hour, "hours")
            if not isinstance(factors, Mapping):
                raise InputError(f"hours: the factors of hour {h} must be a dict {{class: factor}}; got {factors!r}")
            out[h] = {str(c): checked_factor(v, f"hours: hour {h} class {c!r}") for c, v in factors.items()}
    else:
        raise InputError(f"hours: give {{hour: {{class: factor}}}} or a CSV file (hour,class,factor); got {spec!r}")
    return dict(sorted(out.items()))


def describe_factors(factors: Mapping) -> str:
    """'primary x0.5, * x0.8' (or 'no change')."""
    return ", ".join(f"{c} x{f:g}" for c, f in factors.items()) or "no change"


def line_factors_from_field(source, field: str, *, layer=None) -> dict[int, float]:
    """``{feature id: factor}`` from a numeric `field` of a line layer (e.g. ``f08``, the speed factor of each road at
    8:00): the ids :meth:`careshed.RoadGraph.from_lines` gives the edges of the same layer (``edges["line_id"]``).
    Empty values give no entry (factor 1); others must be finite and > 0 (InputError naming the feature)."""
    frame = read_vector(source, layer, fields=[field])
    out = {}
    for fid, value in zip(frame.attrs["fid"], frame[field].tolist()):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        out[int(fid)] = checked_factor(value, f"{source} field {field!r} feature {fid}")
    return out


@dataclass
class RoadTimesByHour:
    """:func:`road_travel_time_by_hour`: ``by_hour`` {hour: :class:`careshed.arrays.network.RoadTravelTime`};
    ``worst_seconds`` per point (per node without points) the slowest over the hours (inf where unreachable at some
    hour); ``worst_hour`` the hour of it (ties to the earliest hour; -1 where unreachable at every hour)."""
    hours: list
    by_hour: dict
    worst_seconds: np.ndarray
    worst_hour: np.ndarray


def road_travel_time_by_hour(graph, facility_xy, points_xy=None, *, hours, line_factors=None,
                             **travel_time_keywords) -> RoadTimesByHour:
    """:meth:`careshed.RoadGraph.travel_time` at each hour of `hours` (``{hour: {class: factor}}`` or a CSV, as
    :func:`hour_factors`), the graph's speeds times the hour's class factors and, for hours in `line_factors`
    (``{hour: {line id: factor}}``, e.g. ``{8: line_factors_from_field("roads.gpkg", "f08")}``), its lines' factors.
    `graph` is a :class:`careshed.RoadGraph`. Other keywords go to travel_time (max_seconds, reverse,
    start_offsets_seconds, ...)."""
    spec = hour_factors(hours)
    per_line = dict(line_factors or {})
    for h in per_line:
        if h not in spec:
            raise InputError(f"line_factors: hour {h} has no factors in hours ({', '.join(map(str, spec))}); add "
                             f"it to hours (e.g. {{{h}: {{}}}} for the line factors alone)")
    by_hour = {h: graph.with_speed_factors(f, line_factors=per_line.get(h)).travel_time(
        facility_xy, points_xy, **travel_time_keywords) for h, f in spec.items()}
    hs = list(by_hour)
    secs = np.stack([by_hour[h].seconds if points_xy is not None else by_hour[h].node_seconds for h in hs])
    worst = secs.max(axis=0)
    finite_any = np.isfinite(secs).any(axis=0)
    worst_hour = np.where(finite_any, np.array(hs)[secs.argmax(axis=0)], -1).astype(np.int16)
    return RoadTimesByHour(hs, by_hour, worst, worst_hour)
