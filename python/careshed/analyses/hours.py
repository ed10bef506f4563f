"""Reach by hour of the day: coverage at chosen hours and the worst hour per zone, in one call.

``study.reach_by_hour(stations, hours=[8, 17], ...)`` (:meth:`careshed.Study.reach_by_hour`, implemented by
:func:`run`) runs :meth:`careshed.Study.reach` once per hour, each with the road speed factors of that hour from
the Study's ``travel={"roads": ..., "hours": {hour: {class: factor}}}`` (docs/travel-modes.md) — or, on a road graph
(``network=RoadGraph``, docs/network.md), the graph at the hour's factors of ``hour_factors=`` — and gathers them:

* ``table``: one row per zone (the region last), columns ``covered_share_h<H>`` per hour, ``worst_hour`` (the
  hour of the lowest covered share; ties to the earliest hour), ``worst_covered_share``, ``best_covered_share``;
* ``by_hour``: ``{hour: Reach}``, every hour's full result;
* ``worst_seconds``: per cell, the slowest response over the hours (float32, inf unreachable at some hour).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..arrays.time_of_day import hour_factors
from ..errors import InputError, UsageError
from ..prepared import PreparedStudy
from ..results import Result, coverage_layer_style, minutes_raster_style, notes_frame, zones_layer
from . import reach as reach_analysis

__all__ = ["ReachByHour", "run"]


class ReachByHour(Result):
    """The result of :meth:`Study.reach_by_hour`: ``table`` (zones x hours, worst hour), ``by_hour`` ({hour:
    :class:`careshed.Reach`}), ``worst_seconds`` (per cell, the slowest response over the hours), ``hours``,
    ``notes``, ``modelled``, ``grid``, ``study``."""

    default_prefix = "reach_by_hour"

    def summary(self) -> str:
        region = self.table.iloc[-1]
        return (f"reach by hour ({', '.join(f'{h}:00' for h in self.hours)}): region covered share "
                f"{region['best_covered_share']:.1%} at best, {region['worst_covered_share']:.1%} at "
                f"{int(region['worst_hour'])}:00")

    def plot(self, path=None, **kwargs):
        """The map of the region's worst hour (:meth:`careshed.Reach.plot`)."""
        return self.by_hour[int(self.table.iloc[-1]["worst_hour"])].plot(path, **kwargs)

    def _layers(self) -> dict:
        return {"zones": zones_layer(self.study, self.table), "notes": notes_frame(self.notes)}

    def _layer_styles(self, layers: dict) -> dict:
        """zones: the covered share at each zone's worst hour against the target."""
        return {"zones": coverage_layer_style("worst_covered_share", name="covered share, worst hour")}

    def _raster_styles(self) -> dict:
        """worst_minutes: the travel-time classes of a reach (the thresholds, then 30/60/... minutes)."""
        minutes = np.where(np.isfinite(self.worst_seconds), self.worst_seconds / 60.0, np.nan)
        return {"worst_minutes": minutes_raster_style(minutes, self.by_hour[self.hours[0]].thresholds_min.values())}

    def _raster_layers(self) -> dict:
        minutes = np.where(np.isfinite(self.worst_seconds), self.worst_seconds / 60.0, np.nan).astype(np.float32)
        return {"worst_minutes": (minutes, float("nan"), {"UNITS": "minutes (slowest response over the hours)"})}


def run(study: PreparedStudy, stations, *, hours=None, **reach_keywords) -> ReachByHour:
    """Reach from `stations` at each of `hours` (default: every hour the Study's travel model has factors for),
    and the worst hour per zone. Other keywords are those of :meth:`careshed.Study.reach` — with ``network=`` (a
    :class:`careshed.RoadGraph`) on the road graph, each hour's graph at the hour's class factors from
    ``hour_factors=`` (or the Study's ``travel={"hours": ...}``)."""
    factors = study.hours
    if reach_keywords.get("network") is not None and reach_keywords.get("hour_factors") is not None:
        factors = hour_factors(reach_keywords["hour_factors"])
        reach_keywords["hour_factors"] = factors  # read once
    if factors is None:
        raise UsageError("reach_by_hour needs road speed factors by hour: give the Study travel={'roads': ..., "
                         "'hours': {8: {'primary': 0.5, '*': 0.8}, ...}}, or network= with hour_factors=")
    if "hour" in reach_keywords:
        raise UsageError("reach_by_hour: give hours=[...] (several), not hour=")
    chosen = list(factors) if hours is None else [hours] if isinstance(hours, (int, np.integer)) else list(hours)
    if not chosen:
        raise InputError("hours: give at least one hour")
    if len(set(chosen)) != len(chosen):
        raise InputError(f"hours: {chosen} lists an hour twice")
    by_hour = {int(h): reach_analysis.run(study, stations, hour=h, **reach_keywords) for h in chosen}
    hs = list(by_hour)
    shares = pd.DataFrame({f"covered_share_h{h}": by_hour[h].table["covered_share"] for h in hs})
    values = shares.to_numpy()
    worst = values.argmin(axis=1)  # first minimum: ties to the earliest hour given
    table = shares.copy()
    table["worst_hour"] = [hs[i] for i in worst]
    table["worst_covered_share"] = values.min(axis=1)
    table["best_covered_share"] = values.max(axis=1)
    out = ReachByHour.__new__(ReachByHour)
    out.study, out.grid, out.hours, out.by_hour, out.table = study, study.grid, hs, by_hour, table
    first = by_hour[hs[0]]
    out.modelled = first.modelled
    out.notes = [n for n in first.notes if not n.startswith("time of day:")] + [
        n for h in hs for n in by_hour[h].notes if n.startswith("time of day:")]
    out.worst_seconds = np.maximum.reduce([by_hour[h].seconds for h in hs]).astype(np.float32)
    table.attrs["notes"] = out.notes
    return out
