"""Time of day: road speed factors by hour (a city at 8:00 is not the city at 3:00).

An hour's factors say how much faster or slower each road class runs than its profile speed (or its
``maxspeed``): ``{hour: {class: factor}}``, ``"*"`` standing for every class not listed, classes absent keeping
factor 1. They are given as a dict or as a CSV file with the columns ``hour,class,factor`` (one row per hour and
class; ``#`` lines are comments). :func:`hour_factors` checks them; the friction surface of an hour is the one
built with ``road_speed_factor=factors[hour]`` (:func:`careshed.arrays.friction_surface`), so an hour's run IS a
run with scaled speeds (which is what the tests check).
"""
from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping

from ..errors import InputError

__all__ = ["hour_factors", "describe_factors"]


def _hour(value, where: str) -> int:
    try:
        h = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{where}: hour {value!r} is not a number; hours are 0..23") from None
    if not (h.is_integer() and 0 <= h <= 23):
        raise InputError(f"{where}: hour {value!r} is not a whole hour between 0 and 23")
    return int(h)


def _factor(value, where: str) -> float:
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
            out[h][cls] = _factor(row[2], where)
        if not out:
            raise InputError(f"hours: {path} holds no hour")
    elif isinstance(spec, Mapping):
        if not spec:
            raise InputError("hours: give at least one hour, e.g. {8: {'primary': 0.5, '*': 0.8}}")
        for hour, factors in spec.items():
            h = _hour(hour, "hours")
            if not isinstance(factors, Mapping):
                raise InputError(f"hours: the factors of hour {h} must be a dict {{class: factor}}; got {factors!r}")
            out[h] = {str(c): _factor(v, f"hours: hour {h} class {c!r}") for c, v in factors.items()}
    else:
        raise InputError(f"hours: give {{hour: {{class: factor}}}} or a CSV file (hour,class,factor); got {spec!r}")
    return dict(sorted(out.items()))


def describe_factors(factors: Mapping) -> str:
    """'primary x0.5, * x0.8' (or 'no change')."""
    return ", ".join(f"{c} x{f:g}" for c, f in factors.items()) or "no change"
