"""The ambulance's round trip: time to definitive care, per cell and per zone.

The "golden hour" of an emergency is not the response alone. For every cell careshed adds the two legs of the
ambulance's trip (docs/travel-modes.md):

    response  = dispatch (every station) + turnout (per station) + travel station -> patient
    transport = travel patient -> nearest suitable hospital (level >= min_level when levels are given)
    total     = response + transport

from TWO searches over the whole grid, whatever the number of stations and hospitals: one from all the stations
(times away from them) and one from all the suitable hospitals on the reversed direction (times toward them).
On the isotropic friction grid both directions cost the same; walking on terrain (``travel={"dem": ...}``) or
future directed modes cost each leg in its own direction. A person is covered when their cell's total is at most
``threshold_minutes`` (inclusive; the default 60 is the "definitive care within an hour" standard).

Entry point: ``study.round_trip(stations, hospitals, ...)`` (:meth:`careshed.Study.round_trip`, implemented by
:func:`run`). Returns a :class:`RoundTrip`.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..arrays.coverage import coverage_by_zone
from ..arrays.zonal import zonal_sum
from ..errors import InputError, UsageError
from ..io.fields import as_list
from ..mapping import (SEQUENTIAL_CMAP, ColourScale, add_colourbar, draw_polygons, frame_zones, legend_beside, map_axes,
                       new_figure, place_labels, place_name)
from ..placement import facility_values, place_points, read_points, snap_distance
from ..prepared import PreparedStudy
from ..io.qgis_styles import category_raster_style
from ..results import (Result, coverage_layer_style, facility_layer_style, headline_prefix, minutes_raster_style,
                       modelled_notes, notes_frame, points_frame, zones_layer)

__all__ = ["RoundTrip", "run"]


class RoundTrip(Result):
    """The result of :meth:`Study.round_trip`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per zone (then "outside every zone" when people live on the grid outside every zone, then the
        region): ``population``, ``covered`` (total <= threshold), ``covered_share``, ``uncovered``,
        ``unreachable`` (no station or no suitable hospital reaches the cell), ``mean_total_minutes``,
        ``p90_total_minutes``, ``mean_response_minutes``, ``mean_transport_minutes`` (population-weighted, people
        reached on both legs).
    response_seconds, transport_seconds, total_seconds : float32 arrays of ``grid.shape`` (inf unreachable).
    nearest_station, nearest_hospital : int32 arrays (index into ``stations`` / ``hospitals``; -1 none).
    stations, hospitals : pandas.DataFrame of the points given (id, name, x, y, row, col, status; hospitals also
        ``level`` and ``suitable``).
    threshold_minutes, dispatch_minutes, notes, modelled, grid, study.
    """

    default_prefix = "round_trip"

    def summary(self) -> str:
        region = self.table.iloc[-1]
        return (f"round trip (response + transport to a suitable hospital) within {self.threshold_minutes:g} min: "
                f"{region['covered_share']:.1%} of {region['population']:,.0f} people")

    def _layers(self) -> dict:
        return {"zones": zones_layer(self.study, self.table),
                "stations": points_frame(self.stations, self.grid.crs),
                "hospitals": points_frame(self.hospitals, self.grid.crs),
                "notes": notes_frame(self.notes)}

    def _layer_styles(self, layers: dict) -> dict:
        """zones: the share of people within the threshold (response + transport) against the target; stations and
        hospitals as facilities (hospitals by level when they have one)."""
        return {"zones": coverage_layer_style("covered_share", what="reaching definitive care in time",
                                              name="round trip covered share"),
                "stations": facility_layer_style(layers["stations"], name="ambulance stations"),
                "hospitals": facility_layer_style(layers["hospitals"], name="hospitals")}

    def _raster_styles(self) -> dict:
        """The three minutes rasters in the same classes (the threshold, then 30/60/... minutes up to the longest
        total), so a colour means the same minutes on each; nearest_hospital one colour per hospital."""
        total = np.where(np.isfinite(self.total_seconds), self.total_seconds / 60.0, np.nan)
        minutes = minutes_raster_style(total, [self.threshold_minutes])
        names = self.hospitals["name"].astype(str).tolist() if "name" in self.hospitals else \
            [str(i) for i in self.hospitals.index]
        return {"total_minutes": minutes, "response_minutes": minutes, "transport_minutes": minutes,
                "nearest_hospital": category_raster_style(dict(enumerate(names)), name="nearest hospital")}

    def _raster_layers(self) -> dict:
        def minutes(s):
            return np.where(np.isfinite(s), s / 60.0, np.nan).astype(np.float32)
        return {"total_minutes": (minutes(self.total_seconds), float("nan"), {"UNITS": "minutes"}),
                "response_minutes": (minutes(self.response_seconds), float("nan"), {"UNITS": "minutes"}),
                "transport_minutes": (minutes(self.transport_seconds), float("nan"), {"UNITS": "minutes"}),
                "nearest_hospital": (self.nearest_hospital, -1, {})}

    def plot(self, path=None, *, title=None, dpi=120, max_labels=25):
        """A map of the total minutes (response + transport) per populated cell (cividis from 0 to twice the
        threshold, the threshold marked on the colour bar beside the map; beyond: the end colour, said in the
        legend), zones, stations (triangles) and hospitals (crosses; not definitive care: grey), the hospitals
        labelled without overlap. The title names the place. Returns the matplotlib Figure; with `path`, also a
        PNG (or PDF) written atomically."""
        from matplotlib import colormaps
        from matplotlib.colors import Normalize
        from matplotlib.lines import Line2D

        grid = self.grid
        fig = new_figure(dpi=dpi)
        ax = map_axes(fig)
        x0, y0, x1, y1 = grid.bounds
        minutes = np.where(np.isfinite(self.total_seconds), self.total_seconds / 60.0, np.nan)
        minutes = np.where(np.nan_to_num(self.study.population) > 0, minutes, np.nan)
        cmap = colormaps[SEQUENTIAL_CMAP].copy()
        cmap.set_bad((1, 1, 1, 0))
        finite = minutes[np.isfinite(minutes)]
        hi = 2.0 * self.threshold_minutes
        scale = ColourScale(Normalize(vmin=0.0, vmax=hi), cmap, 0.0, hi,
                            float(finite.min()) if finite.size else 0.0, float(finite.max()) if finite.size else 0.0)
        ax.imshow(np.ma.masked_invalid(minutes), cmap=cmap, norm=scale.norm, extent=(x0, x1, y0, y1),
                  origin="upper", interpolation="nearest", zorder=1)
        draw_polygons(ax, list(self.study.zones.geometry), fill=False, edgecolor="#222222", linewidth=0.9, zorder=3)
        st, ho = self.stations, self.hospitals
        ok = ho["suitable"].to_numpy(dtype=bool)
        ax.scatter(st["x"], st["y"], marker="^", s=60, c="black", edgecolors="white", linewidths=0.7, zorder=6)
        ax.scatter(ho["x"][ok], ho["y"][ok], marker="P", s=80, c="#e66101", edgecolors="black", linewidths=0.7,
                   zorder=7)
        handles = [Line2D([], [], marker="^", color="black", markeredgecolor="white", linestyle="none",
                          label=f"ambulance stations ({len(st)})"),
                   Line2D([], [], marker="P", color="#e66101", markeredgecolor="black", linestyle="none",
                          markersize=9, label=f"hospitals giving definitive care ({int(ok.sum())})")]
        if (~ok).any():
            ax.scatter(ho["x"][~ok], ho["y"][~ok], marker="P", s=50, c="#bbbbbb", edgecolors="black",
                       linewidths=0.6, zorder=6)
            handles.append(Line2D([], [], marker="P", color="#bbbbbb", markeredgecolor="black", linestyle="none",
                                  label=f"other hospitals (below the definitive-care level) ({int((~ok).sum())})"))
        handles.append(Line2D([], [], color="#222222", label="zones"))
        frame_zones(ax, self.study.zones)
        items = [(ho["x"].iloc[i], ho["y"].iloc[i],
                  str(ho["name"].iloc[i]) if isinstance(ho["name"].iloc[i], str) and ho["name"].iloc[i]
                  else str(ho.index[i]), 1 if ok[i] else 0) for i in range(len(ho))]
        labels = place_labels(ax, items, max_labels=max_labels, zorder=9)
        legend_beside(fig, handles)
        add_colourbar(fig, scale, "minutes to definitive care (response + transport; populated cells)", unit="min",
                      marks={self.threshold_minutes: f"{self.threshold_minutes:g}"})
        region = self.table.iloc[-1]
        place = place_name(self.study)
        return self.finish_map(fig, title or f"{headline_prefix(self.modelled)}{place}: definitive care within "
                               f"{self.threshold_minutes:g} minutes of an emergency call",
                               f"response + transport: {region['covered_share']:.0%} of {region['population']:,.0f} "
                               "people covered", ".", path, extra_notes=[labels.note("hospitals")])

def _read(study, points, *, facility_id, name_field, layer, x, y, crs, turnout_seconds, snap, unplaced, what):
    st = read_points(points, study.grid, facility_id=facility_id, name_field=name_field,
                     turnout_seconds=turnout_seconds, vehicles=None, layer=layer, x=x, y=y, crs=crs)
    rr, cc, _moved, status, used, notes = place_points(st, study.grid, np.isfinite(study.friction.seconds_per_metre),
                                                       snap, unplaced, what=f"{what}(s)", one=what, stacklevel=5)
    frame = pd.DataFrame({"name": st.names if st.names is not None else [None] * len(st.ids), "x": st.x, "y": st.y,
                          "row": rr, "col": cc, "status": status}, index=pd.Index(st.ids, name=what))
    return st, rr, cc, used, frame, notes


def run(study: PreparedStudy, stations, hospitals, *, threshold_minutes=60.0, dispatch_minutes=0.0,
        turnout_seconds=None, level=None, min_level=None, facility_id=None, name_field=None, layer=None,
        hospital_id=None, hospital_name=None, hospital_layer=None, x=None, y=None, crs=None, snap_max_m=None,
        unplaced="error", neighbours=8, hour=None, curve_max_minutes=120, modelled=None,
        notes=None) -> RoundTrip:
    """Response + transport to definitive care per cell, and who gets there within `threshold_minutes`.

    Parameters
    ----------
    stations, hospitals : points (path, GeoDataFrame, CSV with `x`/`y` + `crs`), read and placed like
        :meth:`careshed.Study.reach`'s stations.
    threshold_minutes : covered when response + transport <= this (inclusive; default 60).
    dispatch_minutes : call-to-departure delay of every station; turnout_seconds: per station (field, number
        or values) on top.
    level, min_level : the hospitals' level (field name, number or values) and the lowest level that is
        definitive care; hospitals below it are not destinations. Both or neither.
    facility_id, name_field, layer : the stations' id field, name field and layer (as :meth:`careshed.Study.reach`);
    hospital_id, hospital_name, hospital_layer : the same for the hospitals; x, y, crs : CSV columns of either.
    neighbours, hour, snap_max_m, unplaced, modelled, notes : as :meth:`careshed.Study.reach`.
    """
    threshold = float(threshold_minutes)
    if not (math.isfinite(threshold) and threshold > 0):
        raise UsageError(f"threshold_minutes: {threshold_minutes!r} must be a positive number of minutes")
    dispatch = float(dispatch_minutes)
    if not (math.isfinite(dispatch) and dispatch >= 0):
        raise UsageError(f"dispatch_minutes: {dispatch_minutes!r} must be a number of minutes >= 0")
    if (level is None) != (min_level is None):
        raise UsageError("give level= (the hospitals' level field) and min_level= (the lowest level that is "
                         "definitive care) together, or neither")
    snap = snap_distance(study.grid, snap_max_m, unplaced)
    st, s_rr, s_cc, s_used, s_frame, s_notes = _read(
        study, stations, facility_id=facility_id, name_field=name_field, layer=layer, x=x, y=y, crs=crs,
        turnout_seconds=turnout_seconds, snap=snap, unplaced=unplaced, what="station")
    ho, h_rr, h_cc, h_used, h_frame, h_notes = _read(
        study, hospitals, facility_id=hospital_id, name_field=hospital_name, layer=hospital_layer, x=x, y=y, crs=crs,
        turnout_seconds=None, snap=snap, unplaced=unplaced, what="hospital")
    suitable = np.zeros(len(ho.ids), dtype=bool)
    suitable[h_used] = True
    run_notes = modelled_notes(modelled) + s_notes + h_notes
    if level is not None:
        levels = facility_values(ho, level, "level")
        h_frame["level"] = levels
        suitable &= levels >= float(min_level)
        run_notes.append(f"definitive care: hospitals of level >= {min_level:g} ({int(suitable.sum())} of "
                         f"{len(ho.ids)})")
    h_frame["suitable"] = suitable
    dest = np.flatnonzero(suitable)
    if dest.size == 0:
        raise InputError(f"{ho.source}: no hospital is a destination (placed on the grid and of level >= {min_level})")

    # Two fields: from all the stations (away from them), to all the suitable hospitals (toward them).
    src = np.ascontiguousarray(np.column_stack([s_rr[s_used], s_cc[s_used]]), dtype=np.int64)
    offsets = dispatch * 60.0 + st.turnout_s[s_used]
    response, near_s = study.nearest_travel_time(src, offsets, None, int(neighbours), hour=hour, direction="away")
    dst = np.ascontiguousarray(np.column_stack([h_rr[dest], h_cc[dest]]), dtype=np.int64)
    transport, near_h = study.nearest_travel_time(dst, np.zeros(dest.size), None, int(neighbours), hour=hour,
                                                  direction="toward")
    total = (response.astype(np.float64) + transport.astype(np.float64)).astype(np.float32)
    nearest_station = np.where(near_s >= 0, s_used.astype(np.int32)[np.maximum(near_s, 0)], -1).astype(np.int32)
    nearest_hospital = np.where(near_h >= 0, dest.astype(np.int32)[np.maximum(near_h, 0)], -1).astype(np.int32)
    both = np.isfinite(total)
    nearest_total = np.where(both, nearest_hospital, -1).astype(np.int32)

    zones, zone_ids = study.zones_counting_everybody()
    cov = coverage_by_zone(total, nearest_total, study.population, zones, threshold, None, int(curve_max_minutes),
                           zone_ids=zone_ids, class_names=["all"], station_ids=list(ho.ids), n_stations=len(ho.ids),
                           region_label=study.region_label)
    z = cov.zones
    index = pd.Index(list(zone_ids) + [study.region_label], name=study.zone_id)
    cols: dict[str, Any] = {}
    for k in study.keep:
        cols[k] = list(study.frame[k].tolist()) + [None] * (len(index) - len(study.ids))
    for col in ("population", "covered", "covered_share", "uncovered", "unreachable"):
        cols[col] = z[col].to_numpy()
    cols["mean_total_minutes"] = z["mean_response_min"].to_numpy()
    cols["p90_total_minutes"] = z["p90_response_min"].to_numpy()
    people = np.where(both, np.nan_to_num(study.population), 0.0)
    reached = zonal_sum(people, zones)
    for name, leg in (("mean_response_minutes", response), ("mean_transport_minutes", transport)):
        per_zone = zonal_sum(people * (np.where(both, leg, 0.0) / 60.0), zones)
        with np.errstate(invalid="ignore", divide="ignore"):
            cols[name] = np.append(per_zone / reached, per_zone.sum() / reached.sum())
    table = pd.DataFrame(cols, index=index)

    out = RoundTrip.__new__(RoundTrip)
    out.study, out.grid = study, study.grid
    out.threshold_minutes, out.dispatch_minutes = threshold, dispatch
    out.response_seconds, out.transport_seconds, out.total_seconds = response, transport, total
    out.nearest_station, out.nearest_hospital = nearest_station, nearest_hospital
    s_frame["offset_minutes"] = dispatch + st.turnout_s / 60.0
    out.stations, out.hospitals, out.table = s_frame, h_frame, table
    out.modelled = study.modelled or bool(modelled)
    out.notes = list(study.notes) + run_notes + [
        f"round trip = dispatch {dispatch:g} min + station turnout + travel station -> patient (one search from "
        f"all {s_used.size} stations) + travel patient -> nearest suitable hospital (one search toward all "
        f"{dest.size} hospitals); covered = total <= {threshold:g} min (inclusive)"] + [str(n) for n in as_list(notes)]
    table.attrs["notes"] = out.notes
    return out
