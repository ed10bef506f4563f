"""Facility levels and referral on a :class:`careshed.Study` — the county medical community as a network.

``study.referral(facilities, level_field=..., levels=[...], ...)`` (implemented by :func:`run`): facilities carry a
level (village clinic → township health centre → county hospital → city tertiary hospital, any order the user
gives). On the study's grid and travel model (:func:`careshed.arrays.referral.referral_grid`, one multi-source
search per level):

* per cell: minutes to the nearest facility of every level, and the two-leg referral time home → first contact
  (nearest facility of the first-contact level) → that facility's referral target;
* per facility: its referral target — the nearest facility of the next level by travel time, or the one named in
  ``assigned_field`` — with minutes and route km, and whether that exceeds the level's referral standard (e.g.
  township centres more than 30 minutes from their county hospital);
* per zone: residents within each level's standard (the "15-minute medical service circle" to a township centre,
  the one-hour circle to a tertiary hospital), population-weighted mean minutes per level and of the two legs,
  and the gaps: people whose first contact is beyond its standard, facilities beyond their referral standard.

Returns a :class:`Referral` (tables, GeoPackage layers with one referral line per facility along its least-time
route, rasters, map). :func:`gaps_closed` compares two runs (e.g. the plan's construction projects added).
"""
from __future__ import annotations

import math
import time
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..arrays.geometry import assign_points_to_zones
from ..arrays.referral import ReferralFields, referral_grid, referral_road_graph, two_leg_seconds
from ..arrays.zonal import zonal_sum
from ..errors import InputError, UsageError, keyword
from ..io.fields import as_list, column, id_key, level_slug
from ..mapping import (SEQUENTIAL_CMAP, ColourScale, add_colourbar, draw_polygons, frame_zones, legend_beside,
                       map_axes, new_figure, place_labels, place_name)
from ..placement import place_facilities, point_columns, read_points
from ..prepared import PreparedStudy
from ..io.qgis_styles import LayerStyle, StyleClass, line_style, outline_style
from ..results import (Result, coverage_layer_style, facility_layer_style, headline_prefix, minutes_raster_style,
                       modelled_notes, notes_frame, points_frame, zones_layer)

__all__ = ["Referral", "run", "gaps_closed", "level_slug"]


def _minutes_per_level(spec, levels: list, what: str) -> dict:
    """{level name: minutes} from a dict (level names as keys) or one number for every level; checked."""
    if spec is None:
        return {}
    if isinstance(spec, (int, float, np.integer, np.floating)) and not isinstance(spec, bool):
        spec = {lv: spec for lv in levels}
    if not isinstance(spec, Mapping):
        raise UsageError(f"{keyword(what)}: expected {{level name: minutes}} or one number, got {spec!r}")
    out = {}
    for k, v in spec.items():
        if str(k) not in levels:
            raise UsageError(f"{keyword(what)}: {k!r} is not one of the levels ({', '.join(levels)})")
        try:
            m = float(v)
        except (TypeError, ValueError):
            raise UsageError(f"{keyword(what)}: the minutes of level {k!r} must be a number, got {v!r}") from None
        if not (math.isfinite(m) and m > 0):
            raise UsageError(f"{keyword(what)}: the minutes of level {k!r} must be a positive number, got {v!r}")
        out[str(k)] = m
    return out


def _levels_of(frame, level_field: str, levels, source: str) -> tuple[np.ndarray, list]:
    """(level index per facility, level names lowest first) from the field and the given order. Without `levels`
    the field must be numeric: its distinct values in ascending order are the levels."""
    values = column(frame, level_field, "facility level")
    if levels is None:
        num = pd.to_numeric(values, errors="coerce")
        if num.isna().any():
            i = int(np.flatnonzero(num.isna().to_numpy())[0])
            raise InputError(f"{source}: the level field {level_field!r} holds {values.iloc[i]!r} (row {i + 1}); "
                             f"give the level names in order, lowest first ({keyword('levels')}) or an ordered "
                             "numeric field")
        order = sorted(set(num.tolist()))
        names = [id_key(v) for v in order]
        codes = np.array([order.index(v) for v in num.tolist()], dtype=np.int32)
        return codes, names
    names = [str(v) for v in levels]
    if not names or len(set(names)) != len(names):
        raise UsageError(f"{keyword('levels')}: give every level name once, lowest first, e.g. village clinic, "
                         "township health centre, county hospital, city tertiary hospital")
    index = {n: k for k, n in enumerate(names)}
    codes = np.empty(len(values), dtype=np.int32)
    for i, v in enumerate(values.tolist()):
        k = index.get(str(v).strip() if v is not None else None)
        if k is None:
            raise InputError(f"{source}: row {i + 1} has level {v!r} in field {level_field!r}, which is not one of "
                             f"the levels ({', '.join(names)}); correct the row or add the level to {keyword('levels')}")
        codes[i] = k
    return codes, names


def _assignments(frame, field: str, ids: list, source: str) -> np.ndarray:
    """Facility index of each facility's assigned target (-1: nearest of the next level) from a field holding the
    target's facility id (empty = nearest)."""
    key_to_index = {id_key(v): i for i, v in enumerate(ids)}
    out = np.full(len(ids), -1, dtype=np.int32)
    for i, v in enumerate(column(frame, field, "assigned referral target").tolist()):
        k = id_key(v)
        if k is None:
            continue
        j = key_to_index.get(k)
        if j is None:
            raise InputError(f"{source}: facility {ids[i]!r} (row {i + 1}) is assigned to {v!r} in field {field!r}, "
                             "which is no facility id of this layer; give a facility id, or leave it empty for the "
                             f"nearest facility of the next level ({keyword('assigned_field')})")
        if j == i:
            raise InputError(f"{source}: facility {ids[i]!r} (row {i + 1}) is assigned to itself in field {field!r}")
        out[i] = j
    return out


class Referral(Result):
    """The result of :meth:`careshed.Study.referral`.

    Attributes
    ----------
    table : DataFrame, one row per facility (index = facility id): name, level, zone, x/y (grid CRS), row/col,
        status, snapped_m, ``target`` (facility id of its referral target, None when none), ``target_name``,
        ``target_level``, ``referral_minutes`` and ``referral_km`` (along the least-time route; inf when none),
        ``assigned`` (the target came from the assignment field), ``referral_standard_minutes`` and
        ``referral_gap`` (True when the referral takes longer than the standard, or there is no target while the
        level has one).
    zone_table : DataFrame, one row per zone and a region row: ``population``; per level L ``mean_minutes_L``
        (population-weighted, over people who reach one), ``unreached_L`` (people with no facility of L in reach)
        and with a standard ``within_L`` / ``share_within_L``; ``mean_two_leg_minutes`` (home → first contact →
        its target, over people with both legs), ``first_contact_gap`` (people beyond the first contact level's
        standard, or with none in reach), ``facilities`` and ``referral_gaps`` (facilities of the zone with a
        referral gap).
    levels : level names, lowest first; first_contact : the first-contact level; standards_minutes,
        referral_standards_minutes : {level: minutes}.
    village_table : with ``villages=``, one row per village (index = village id): name, zone, x/y, row/col,
        ``minutes_<level>`` per level, ``first_contact`` (facility id of its nearest first-contact facility),
        ``first_contact_minutes``, ``two_leg_minutes`` and ``beyond_standard`` (first contact beyond its standard,
        none in reach, or the village off the grid / on an impassable cell); else None.
    seconds, nearest : (L, H, W) per level (float32 seconds, inf unreachable; int32 index into ``table``, -1 none);
        two_leg_seconds : (H, W) float64; routes : per facility the route's cell ids (node ids of the road graph
        with ``network=``; empty when none), as coordinates: :meth:`route_coordinates`.
    """

    default_prefix = "referral"
    zone_table = None  # set by run()

    def summary(self) -> str:
        region = self.zone_table.iloc[-1]
        parts = []
        for lv, m in self.standards_minutes.items():
            parts.append(f"{region[f'share_within_{level_slug(lv)}']:.1%} within {m:g} min of a {lv}")
        gaps = int(self.table["referral_gap"].sum())
        return (f"{headline_prefix(self.modelled)}Referral among {len(self.table)} {self.label} in "
                f"{len(self.levels)} levels: " + ("; ".join(parts) + "; " if parts else "")
                + f"two-leg referral {region['mean_two_leg_minutes']:.1f} min on average; "
                f"{region['first_contact_gap']:,.0f} people beyond the {self.first_contact} standard"
                + (f" ({len(self.village_gaps)} of {len(self.village_table)} villages)" if self.village_table is not None
                   else "") + f"; {gaps} facilities beyond their referral standard")

    @property
    def gaps(self) -> pd.DataFrame:
        """The facilities with a referral gap (rows of :attr:`table`)."""
        return self.table[self.table["referral_gap"]]

    @property
    def village_gaps(self) -> pd.DataFrame | None:
        """The villages whose first contact is beyond its standard (rows of :attr:`village_table`; None without
        ``villages=``)."""
        if self.village_table is None:
            return None
        return self.village_table[self.village_table["beyond_standard"]]

    def _html_table(self) -> pd.DataFrame:
        return self.table.drop(columns=["x", "y", "row", "col"])

    def route_coordinates(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """The least-time referral route of facility ``i`` (position in :attr:`table`) as x, y in the grid's CRS:
        cell centres on a grid study, the road graph's nodes with ``network=`` (empty arrays when none)."""
        xy = getattr(self, "route_xy", None)
        if xy is not None:
            pts = xy[i]
            return pts[:, 0], pts[:, 1]
        route = self.routes[i]
        if route is None or len(route) == 0:
            return np.empty(0), np.empty(0)
        r, c = np.divmod(np.asarray(route, dtype=np.int64), self.grid.shape[1])
        x, y = self.grid.xy(r, c)
        return np.atleast_1d(x), np.atleast_1d(y)

    def _lines(self):
        """Per facility with a target: its least-time route as a line (cell centres), attributes from the table."""
        import geopandas as gpd
        from shapely.geometry import LineString

        t = self.table
        rows, geoms = [], []
        for i, fid in enumerate(t.index):
            x, y = self.route_coordinates(i)
            if x.size == 0:
                continue
            if x.size == 1:   # facility and target in one cell (or at one node)
                x, y = np.repeat(x, 2), np.repeat(y, 2)
            geoms.append(LineString(np.column_stack([x, y])))
            rows.append(i)
        sub = t.iloc[rows].reset_index()
        keep = [c for c in sub.columns if c not in ("x", "y", "row", "col", "status", "snapped_m")]
        frame = sub[keep].copy()
        for c in frame.columns:
            if frame[c].dtype == object:
                frame[c] = frame[c].map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v))
                                        else str(v))
        frame["note"] = "least-time route on the study's travel model" + (" — MODELLED inputs" if self.modelled
                                                                           else "")
        return gpd.GeoDataFrame(frame, geometry=geoms, crs=self.grid.crs)

    def _layers(self) -> dict:
        """GeoPackage layers: ``facilities`` (points + the table), ``referral_lines`` (one line per facility with a
        target, along its least-time route), ``zones`` (polygons + the zone table), ``region``, ``notes``."""
        region = self.zone_table.iloc[len(self.study.ids):].reset_index()
        region[region.columns[0]] = region[region.columns[0]].astype(str)
        return {"facilities": points_frame(self.table, self.grid.crs), "referral_lines": self._lines(),
                "zones": zones_layer(self.study, self.zone_table), "region": region, "notes": notes_frame(self.notes),
                **({"villages": points_frame(self.village_table, self.grid.crs)} if self.village_table is not None
                   else {})}

    def _layer_styles(self, layers: dict) -> dict:
        """facilities by level; referral lines within / beyond the referral standard; zones: the share within the
        first-contact standard against the target (outlines when that level has no standard)."""
        styles = {"facilities": facility_layer_style(layers["facilities"]),
                  "referral_lines": line_style("referral_gap", [0, 1], ["within the referral standard",
                                                                        "beyond the standard, or no target"],
                                               name="referral routes", colours=["#0072B2", "#D55E00"],
                                               description="careshed: least-time referral routes, vermillion "
                                                           "where the referral standard is exceeded"),
                  "zones": outline_style(name="zones")}
        share = f"share_within_{level_slug(self.first_contact)}"
        if share in layers["zones"].columns:
            styles["zones"] = coverage_layer_style(share, what=f"within the {self.first_contact} standard")
        if "villages" in layers:
            styles["villages"] = LayerStyle(
                "villages", "point", "categorized",
                (StyleClass(f"beyond the {self.first_contact} standard", "#D55E00", value=1, marker="triangle",
                            size_mm=2.6),
                 StyleClass("within it", "#56B4E9", value=0, size_mm=1.8)), "beyond_standard",
                description=f"careshed: villages by their first contact's time against the {self.first_contact} "
                            "standard (vermillion triangles beyond it)")
        return styles

    def _raster_styles(self) -> dict:
        """The travel-time rasters in minutes: per level in classes up to its standard, two-leg up to the sums."""
        out = {}
        for k, lv in enumerate(self.levels):
            std = [self.standards_minutes[lv]] if lv in self.standards_minutes else []
            out[f"minutes_{level_slug(lv)}"] = minutes_raster_style(self.seconds[k] / np.float32(60.0), std + [15.0])
        two = np.where(np.isfinite(self.two_leg_seconds), self.two_leg_seconds / 60.0, np.nan)
        out["two_leg_minutes"] = minutes_raster_style(two, list(self.referral_standards_minutes.values()) + [30.0])
        return out

    def _raster_layers(self) -> dict:
        """``minutes_<level>`` per level (NaN unreachable), ``two_leg_minutes`` and ``first_contact_gap`` (1 where
        people live beyond the first-contact standard or with none in reach, 0 elsewhere, nodata 255 where nobody
        lives)."""
        out = {}
        for k, lv in enumerate(self.levels):
            s = self.seconds[k]
            out[f"minutes_{level_slug(lv)}"] = (
                np.where(np.isfinite(s), s / np.float32(60.0), np.float32(np.nan)).astype(np.float32), None,
                {"UNITS": f"minutes to the nearest {lv}"})
        t2 = self.two_leg_seconds
        out["two_leg_minutes"] = (np.where(np.isfinite(t2), t2 / 60.0, np.nan).astype(np.float32), None,
                                  {"UNITS": f"minutes home -> nearest {self.first_contact} -> its referral target"})
        gap = np.where(self._populated, self._gap_cells.astype(np.uint8), np.uint8(255)).astype(np.uint8)
        out["first_contact_gap"] = (gap, 255, {"VALUES": f"1 = people beyond the {self.first_contact} standard "
                                                         "(or none in reach), 0 = within, 255 = nobody lives here"})
        return out

    def _extra_tables(self) -> dict:
        tables = {"zones": (self.zone_table, self.notes), "gaps": (self.gaps, self.notes)}
        if self.village_table is not None:
            tables["villages"] = (self.village_table, self.notes)
        return tables

    def plot(self, path=None, *, title=None, dpi=120, max_labels=25):
        """Map: the two-leg referral time per cell (cividis in classes of 15-180 minutes; the colour bar beside the
        map, saying "more than 180" with an arrow end when the data go beyond), zone outlines, facilities by level
        (higher levels labelled first, without overlap; the legend beside the map counts each level) and their
        referral routes (orange where the referral standard is exceeded). MODELLED in the title when an input is;
        the title names the place."""
        from matplotlib import colormaps
        from matplotlib.colors import BoundaryNorm
        from matplotlib.lines import Line2D

        fig = new_figure(dpi=dpi)
        ax = map_axes(fig)
        grid = self.grid
        x0, y0, x1, y1 = grid.bounds
        m = np.where(np.isfinite(self.two_leg_seconds), self.two_leg_seconds / 60.0, np.nan)
        m = np.where(self._populated, m, np.nan)
        bounds = [0, 15, 30, 45, 60, 90, 120, 180]
        cmap = colormaps[SEQUENTIAL_CMAP].resampled(len(bounds))
        cmap.set_bad((1, 1, 1, 0))
        finite = m[np.isfinite(m)]
        scale = ColourScale(BoundaryNorm(bounds, cmap.N, extend="max"), cmap, bounds[0], bounds[-1],
                            float(finite.min()) if finite.size else 0.0, float(finite.max()) if finite.size else 0.0)
        ax.imshow(np.ma.masked_invalid(m), cmap=cmap, norm=scale.norm, extent=(x0, x1, y0, y1), origin="upper",
                  interpolation="nearest", zorder=1)
        draw_polygons(ax, list(self.study.zones.geometry), fill=False, edgecolor="#111111", linewidth=1.0, zorder=3)
        t = self.table
        gap_colour, ok_colour = "#e66101", "#111111"
        for i in range(len(t)):
            x, y = self.route_coordinates(i)
            if x.size < 2:
                continue
            ax.plot(x, y, color="white", linewidth=2.4, zorder=4)            # halo: the route reads on any colour
            gap = bool(t["referral_gap"].iloc[i])
            ax.plot(x, y, color=gap_colour if gap else ok_colour, linewidth=1.3 if gap else 1.0,
                    linestyle="-" if gap else "--", zorder=5)
        markers = ["o", "s", "^", "*", "D", "P", "X", "v"]
        sizes = [14, 26, 55, 120, 60, 60, 60, 60]
        placed = t["status"].isin(["on grid", "snapped"]).to_numpy()
        levels = t["level"].to_numpy()
        handles = []
        for k, lv in enumerate(self.levels):
            sel = placed & (levels == lv)
            ax.scatter(t["x"].to_numpy()[sel], t["y"].to_numpy()[sel], marker=markers[k % 8], s=sizes[k % 8],
                       c="white", edgecolors="#222222", linewidths=0.8, zorder=6 + k)
            handles.append(Line2D([], [], marker=markers[k % 8], markersize=math.sqrt(sizes[k % 8]), color="white",
                                  markeredgecolor="#222222", linestyle="none", label=f"{lv} ({int(sel.sum())})"))
        n_gap = int(t["referral_gap"].sum())
        handles += [Line2D([], [], color=ok_colour, linestyle="--", label="referral route within its standard"),
                    Line2D([], [], color=gap_colour, linewidth=1.3, label=f"referral route beyond its standard "
                                                                           f"({n_gap})"),
                    Line2D([], [], color="#111111", label="zones")]
        frame_zones(ax, self.study.zones)
        names = t["name"] if "name" in t.columns else pd.Series([None] * len(t), index=t.index)
        rank = {lv: k for k, lv in enumerate(self.levels)}
        items = [(t["x"].iloc[i], t["y"].iloc[i],
                  str(names.iloc[i]) if isinstance(names.iloc[i], str) and names.iloc[i] else str(t.index[i]),
                  rank.get(levels[i], 0)) for i in range(len(t)) if placed[i]]
        labels = place_labels(ax, items, max_labels=max_labels, zorder=9)
        legend_beside(fig, handles, title="facilities by level")
        add_colourbar(fig, scale, f"two-leg referral time (minutes): home → nearest {self.first_contact} → its "
                      "referral target", unit="min")
        region = self.zone_table.iloc[-1]
        place = place_name(self.study)
        sub = f"mean two-leg referral {region['mean_two_leg_minutes']:.1f} min; {n_gap} referral routes beyond " \
              "their standard (orange)"
        return self.finish_map(fig, title or f"{headline_prefix(self.modelled)}{place}: referral between "
                               f"{len(self.levels)} levels of {self.label}", sub,
                               "; routes are least-time routes on the travel model.", path,
                               extra_notes=[labels.note(self.label)])

def run(study: PreparedStudy, facilities, *, level_field, levels=None, assigned_field=None, standards_minutes=None,
        referral_standards_minutes=None, first_contact=None, max_minutes=None, facility_id=None, name_field=None,
        layer=None, x=None, y=None, crs=None, snap_max_m=None, unplaced="error", neighbours=8,
        label="facilities", modelled=None, notes=None, villages=None, village_id=None, village_name=None,
        villages_layer=None, network=None, offroad_speed_kmh=5.0, max_snap_distance_m=None) -> Referral:
    """Facility levels and referral on a study's grid, people and travel model.

    Parameters
    ----------
    study : careshed.Study.
    facilities : points (path, GeoDataFrame, or CSV with `x`/`y` + `crs`) with a level field; placed like
        Study.reach's stations (snapped off impassable cells within `snap_max_m`).
    level_field : field with each facility's level. levels : the level names lowest first (e.g. ``["township
        health centre", "county hospital", "city tertiary hospital"]``); a level no facility has is allowed (its
        times are unreachable). Without `levels` the field must be numeric: its values in ascending order.
    assigned_field : optional field holding the facility id of each facility's assigned referral target (empty:
        the nearest facility of the next level by travel time).
    standards_minutes : ``{level: minutes}`` (or one number): the access standard of each level, e.g.
        ``{"township health centre": 15, "city tertiary hospital": 60}``; inclusive.
    referral_standards_minutes : ``{level: minutes}`` (or one number): the longest acceptable referral from a
        facility of that level to its target, e.g. ``{"township health centre": 30}``.
    first_contact : the level people go to first (default the lowest level).
    max_minutes : cut-off of every search (default none); farther is unreachable.
    facility_id, name_field, layer, x, y, crs, snap_max_m, unplaced, neighbours, label, modelled, notes : as
        :meth:`careshed.Study.catchments`.
    villages : optional points (path or GeoDataFrame; a CSV with the same `x`/`y`/`crs` as the facilities) —
        villages to list with their first-contact minutes and whether they are beyond the standard; village_id,
        village_name, villages_layer : how to read them. A village is read at the grid cell under it (not snapped:
        one off the grid or on an impassable cell is reported as beyond the standard).
    network : optional :class:`careshed.RoadGraph` — travel on the road graph instead of the study's friction
        surface: every facility is taken to the graph node nearest to it (``network_snap_m`` in the table) and the
        searches run on the graph (:func:`careshed.arrays.referral.referral_road_graph`: times TO the facility,
        so one-way streets and turn restrictions count the way patients drive; referral targets, minutes and km along the graph between
        the facilities' nodes; routes along the graph's nodes). Every passable cell of the grid reaches the graph
        at the node nearest to its centre, walking the straight line at ``offroad_speed_kmh`` (added to its time;
        cells farther than ``max_snap_distance_m`` from every node are unreachable). The people, zones and
        standards are the study's as on the grid. Graph coordinates: the graph's CRS (lon/lat for OSM extracts),
        or the grid's CRS when the graph has none.
    offroad_speed_kmh, max_snap_distance_m : with ``network``, the off-road leg of every cell (and the farthest a
        facility may be from the graph: farther is an InputError naming it).
    """
    if network is None:
        study.require_isotropic_friction("referral")
    t0 = time.perf_counter()
    st, used, rr, cc, moved, status, st_zone, place_notes = place_facilities(
        study, facilities, facility_id=facility_id, name_field=name_field, layer=layer, x=x, y=y, crs=crs,
        snap_max_m=snap_max_m, unplaced=unplaced, what=label)
    n = len(st.ids)
    codes, names = _levels_of(st.frame, level_field, levels, st.source)
    standards = _minutes_per_level(standards_minutes, names, "standards_minutes")
    ref_standards = _minutes_per_level(referral_standards_minutes, names, "referral_standards_minutes")
    first = names[0] if first_contact is None else str(first_contact)
    if first not in names:
        raise UsageError(f"{keyword('first_contact')}: {first_contact!r} is not one of the levels ({', '.join(names)})")
    assigned = _assignments(st.frame, assigned_field, st.ids, st.source) if assigned_field else None
    if max_minutes is not None:
        max_minutes = float(max_minutes)
        if not (math.isfinite(max_minutes) and max_minutes > 0):
            raise UsageError(f"{keyword('max_minutes')}: {max_minutes!r} must be a positive number of minutes")

    # -- the searches: on the placed facilities; indices mapped back to the whole layer ----------------------
    sub_of = np.full(n, -1, dtype=np.int64)
    sub_of[used] = np.arange(used.size)
    sub_assigned = None
    if assigned is not None:
        a = assigned[used]
        sub_assigned = np.where(a >= 0, sub_of[np.maximum(a, 0)], -1).astype(np.int32)
    max_seconds = None if max_minutes is None else max_minutes * 60.0
    route_xy = network_snap = None
    if network is None:
        ref = referral_grid(study.friction.seconds_per_metre, np.column_stack([rr[used], cc[used]]), codes[used],
                            level_order=names, cell_size=study.grid.cell_size, assigned=sub_assigned,
                            max_seconds=max_seconds, neighbours=int(neighbours), keep_routes=True)
    else:
        ref, route_xy_sub, snap_sub = _referral_on_network(study, network, st, used, codes[used], names, sub_assigned,
                                                           max_seconds, offroad_speed_kmh, max_snap_distance_m)
        route_xy = [np.empty((0, 2))] * n
        network_snap = np.full(n, np.nan)
        for k, i in enumerate(used):
            route_xy[int(i)] = route_xy_sub[k]
            network_snap[int(i)] = snap_sub[k]
    to_full = used.astype(np.int32)
    nearest = np.where(ref.nearest >= 0, to_full[np.maximum(ref.nearest, 0)], -1).astype(np.int32)
    target = np.full(n, -1, dtype=np.int64)
    target[used] = np.where(ref.target >= 0, to_full[np.maximum(ref.target, 0)], -1)
    ref_s = np.full(n, np.inf)
    ref_s[used] = ref.target_seconds
    ref_m = np.full(n, np.inf)
    ref_m[used] = ref.target_metres
    routes: list[Any] = [np.empty(0, dtype=np.int64)] * n
    for k, i in enumerate(used):
        routes[int(i)] = ref.routes[k]
    two_leg_sub = two_leg_seconds(ref, first)

    # -- facility table ----------------------------------------------------------------------------------------
    ids = pd.Index(st.ids, name="facility")
    cols = point_columns(st, study, st_zone, rr, cc, moved, status)
    level_names = np.array(names, dtype=object)
    cols = {**({"name": cols.pop("name")} if "name" in cols else {}), "level": level_names[codes], **cols}
    has_t = target >= 0
    cols["target"] = np.array([st.ids[j] if j >= 0 else None for j in target], dtype=object)
    if st.names is not None:
        cols["target_name"] = np.array([st.names[j] if j >= 0 else None for j in target], dtype=object)
    cols["target_level"] = np.array([names[codes[j]] if j >= 0 else None for j in target], dtype=object)
    cols["referral_minutes"] = ref_s / 60.0
    cols["referral_km"] = ref_m / 1000.0
    cols["assigned"] = assigned >= 0 if assigned is not None else np.zeros(n, dtype=bool)
    std = np.array([ref_standards.get(names[c], np.nan) for c in codes])
    cols["referral_standard_minutes"] = std
    top = codes == len(names) - 1
    expects = np.isfinite(std) & (~top | cols["assigned"])
    cols["referral_gap"] = expects & (~has_t | (cols["referral_minutes"] > std))
    if network_snap is not None:
        cols["network_snap_m"] = network_snap
    table = pd.DataFrame(cols, index=ids)

    # -- per zone ---------------------------------------------------------------------------------------------
    pop = np.nan_to_num(np.asarray(study.population, dtype=np.float64))
    zones, zone_ids = study.zones_counting_everybody()
    nz = len(zone_ids)

    def zsum(values) -> np.ndarray:
        s = np.asarray(zonal_sum(np.ascontiguousarray(values, dtype=np.float64), zones), dtype=np.float64)[:nz]
        return np.append(s, s.sum())

    zcols: dict[str, Any] = {k: list(study.frame[k].tolist()) + [None] * (nz - len(study.ids) + 1) for k in study.keep}
    zpop = zsum(pop)
    zcols["population"] = zpop

    def share(part, whole):
        return np.where(whole > 0, part / np.maximum(whole, 1e-300), np.nan)

    for k, lv in enumerate(names):
        s = ref.seconds[k].astype(np.float64)
        fin = np.isfinite(s)
        reached = zsum(np.where(fin, pop, 0.0))
        zcols[f"mean_minutes_{level_slug(lv)}"] = share(zsum(pop * np.where(fin, s, 0.0) / 60.0), reached)
        zcols[f"unreached_{level_slug(lv)}"] = zpop - reached
        if lv in standards:
            within = zsum(np.where(s <= standards[lv] * 60.0, pop, 0.0))
            zcols[f"within_{level_slug(lv)}"] = within
            zcols[f"share_within_{level_slug(lv)}"] = share(within, zpop)
    fin2 = np.isfinite(two_leg_sub)
    zcols["mean_two_leg_minutes"] = share(zsum(pop * np.where(fin2, two_leg_sub, 0.0) / 60.0),
                                          zsum(np.where(fin2, pop, 0.0)))
    k1 = names.index(first)
    s1 = ref.seconds[k1].astype(np.float64)
    gap_cells = ~np.isfinite(s1) | (s1 > standards.get(first, np.inf) * 60.0)
    zcols["first_contact_gap"] = zsum(np.where(gap_cells, pop, 0.0))
    zone_pos = {zid: z for z, zid in enumerate(zone_ids)}
    fz = np.array([zone_pos.get(v, -1) if v is not None else -1 for v in table["zone"]], dtype=np.int64)
    zcols["facilities"] = np.append(np.bincount(fz[fz >= 0], minlength=nz)[:nz], n)
    gz = fz[table["referral_gap"].to_numpy() & (fz >= 0)]
    zcols["referral_gaps"] = np.append(np.bincount(gz, minlength=nz)[:nz], int(table["referral_gap"].sum()))
    zone_table = pd.DataFrame(zcols, index=pd.Index(zone_ids + [study.region_label], name=study.zone_id))

    # -- villages -----------------------------------------------------------------------------------------------
    village_table = None
    if villages is not None:
        village_table = _village_table(study, villages, village_id, village_name, villages_layer, x, y, crs, ref,
                                       names, first, standards.get(first), nearest, two_leg_sub, st.ids)

    # -- notes and result ---------------------------------------------------------------------------------------
    out = Referral.__new__(Referral)
    out.study, out.grid, out.label = study, study.grid, label
    out.levels, out.first_contact = names, first
    out.standards_minutes, out.referral_standards_minutes = standards, ref_standards
    out.max_minutes = max_minutes
    out.seconds, out.nearest = ref.seconds, nearest
    out.two_leg_seconds = two_leg_sub
    out.routes = routes
    out.route_xy = route_xy
    out.network = network
    out._populated = pop > 0
    out._gap_cells = gap_cells
    out.modelled = study.modelled or bool(modelled)
    lim = f"within {max_minutes:g} min" if max_minutes is not None else "with no time limit"
    model = "the study's travel model" if network is None else (
        f"the road graph ({network.n_nodes:,} nodes, {network.n_edges:,} directed edges; times to the facility, "
        f"facilities at their nearest node, every cell walking to its nearest node at {float(offroad_speed_kmh):g} "
        "km/h" + (f" within {float(max_snap_distance_m):g} m" if max_snap_distance_m is not None else "") + ")")
    out.notes = list(study.notes) + modelled_notes(modelled) + place_notes + [str(v) for v in as_list(notes)] + [
        f"levels, lowest first: {' -> '.join(names)}; first contact: {first}",
        f"times by travel on {model} ({lim}), one multi-source search per level; a facility's "
        "referral target is the nearest facility of the next level by travel time from it"
        + (f" unless {assigned_field!r} assigns one" if assigned_field else "")
        + "; ties to the lowest facility index; referral_km along the least-time route",
        "standards (inclusive): " + (", ".join(f"{k} {v:g} min" for k, v in standards.items()) or "none given")
        + "; referral standards: " + (", ".join(f"{k} {v:g} min" for k, v in ref_standards.items()) or "none given"),
        "two-leg referral time = home -> nearest " + first + " -> that facility's referral target; means are "
        "population-weighted over the people with both legs in reach"]
    table.attrs["notes"] = out.notes
    zone_table.attrs["notes"] = out.notes
    out.table = table
    out.zone_table = zone_table
    out.village_table = village_table
    if village_table is not None:
        village_table.attrs["notes"] = out.notes
    out.timings = {"total": time.perf_counter() - t0}
    return out


def _graph_transformers(study, network):
    """(grid -> graph, graph -> grid) coordinate transforms; the graph's CRS is lon/lat when geographic, its WKT when
    given, else the grid's (no transform)."""
    from pyproj import CRS, Transformer

    if network.geographic:
        target = CRS.from_epsg(4326)
    elif network.crs_wkt:
        target = CRS.from_wkt(network.crs_wkt)
    else:
        return (lambda x, y: (np.asarray(x, float), np.asarray(y, float)),) * 2
    grid_crs = CRS.from_user_input(study.grid.crs)
    fwd = Transformer.from_crs(grid_crs, target, always_xy=True)
    back = Transformer.from_crs(target, grid_crs, always_xy=True)
    return (lambda x, y: fwd.transform(np.asarray(x, float), np.asarray(y, float)),
            lambda x, y: back.transform(np.asarray(x, float), np.asarray(y, float)))


def _referral_on_network(study, network, st, used, codes, names, assigned, max_seconds, offroad_speed_kmh,
                         max_snap_distance_m):
    """Referral on a road graph, read back onto the study's grid: (ReferralFields with (L, H, W) fields like
    referral_grid's, routes as (m, 2) grid-CRS coordinates per facility, facility snap metres)."""
    to_graph, to_grid = _graph_transformers(study, network)
    fx, fy = to_graph(np.asarray(st.x, float)[used], np.asarray(st.y, float)[used])
    fsnap = network.snap(np.column_stack([fx, fy]), max_distance_m=max_snap_distance_m,
                         offroad_speed_kmh=offroad_speed_kmh)
    off = np.flatnonzero(fsnap.node < 0)
    if off.size:
        fid = st.ids[int(used[off[0]])]
        raise InputError(f"{st.source}: facility {fid!r} is farther than {max_snap_distance_m:g} m "
                         f"({keyword('max_snap_distance_m')}) from every node of the road graph; raise the limit, or "
                         "leave the facility out")
    g = referral_road_graph(network, fsnap.node.astype(np.int64), codes, level_order=names, assigned=assigned,
                            max_seconds=max_seconds, keep_routes=True)  # honours the turn restrictions
    # Every passable cell: its nearest node, walked at the off-road speed, then the node's time.
    grid = study.grid
    h, w = grid.shape
    L = len(names)
    cells = np.flatnonzero(np.isfinite(np.asarray(study.friction.seconds_per_metre)).ravel())
    r, c = np.divmod(cells, w)
    cx, cy = grid.xy(r, c)
    csnap = network.snap(np.column_stack(to_graph(cx, cy)), max_distance_m=max_snap_distance_m,
                         offroad_speed_kmh=offroad_speed_kmh)
    ok = csnap.node >= 0
    node = np.where(ok, csnap.node, 0)
    seconds = np.full((L, h * w), np.inf, dtype=np.float32)
    nearest = np.full((L, h * w), -1, dtype=np.int32)
    for k in range(L):
        s = np.where(ok, g.seconds[k][node] + csnap.access_seconds, np.inf)
        near = np.where(ok & np.isfinite(s), g.nearest[k][node], -1)
        if max_seconds is not None:
            near = np.where(s <= max_seconds, near, -1)
            s = np.where(s <= max_seconds, s, np.inf)
        seconds[k, cells] = s
        nearest[k, cells] = near
    node_xy = network.node_xy
    routes_xy = []
    for route in g.routes:
        if route is None or len(route) == 0:
            routes_xy.append(np.empty((0, 2)))
            continue
        x, y = to_grid(node_xy[route, 0], node_xy[route, 1])
        routes_xy.append(np.column_stack([np.atleast_1d(x), np.atleast_1d(y)]))
    fields = ReferralFields(levels=g.levels, level=g.level, seconds=seconds.reshape(L, h, w),
                            nearest=nearest.reshape(L, h, w), target=g.target, target_seconds=g.target_seconds,
                            target_metres=g.target_metres, assigned=g.assigned, routes=g.routes)
    return fields, routes_xy, fsnap.distance_m


def _village_table(study, villages, village_id, village_name, layer, x, y, crs, ref, names, first, standard,
                   nearest, two_leg, facility_ids) -> pd.DataFrame:
    """One row per village: minutes to every level at the cell under it, its first contact, the two legs, the gap."""
    pts = read_points(villages, study.grid, facility_id=village_id, name_field=village_name, turnout_seconds=None,
                      vehicles=None, layer=layer, x=x, y=y, crs=crs)
    grid = study.grid
    r, c = grid.rowcol(pts.x, pts.y)
    on = (r >= 0) & (r < grid.shape[0]) & (c >= 0) & (c < grid.shape[1])
    rr, cc = np.where(on, r, 0), np.where(on, c, 0)
    cols: dict[str, Any] = {}
    if pts.names is not None:
        cols["name"] = pts.names
    zone = assign_points_to_zones(study.zones.geometry, pts.x, pts.y)
    cols["zone"] = np.array([study.ids[z] if z >= 0 else None for z in zone], dtype=object)
    cols["x"], cols["y"], cols["row"], cols["col"] = pts.x, pts.y, np.where(on, r, -1), np.where(on, c, -1)
    for k, lv in enumerate(names):
        s = np.asarray(ref.seconds[k])[rr, cc].astype(np.float64)
        cols[f"minutes_{level_slug(lv)}"] = np.where(on, s / 60.0, np.inf)
    k1 = names.index(first)
    near = np.where(on, nearest[k1][rr, cc], -1)
    cols["first_contact"] = np.array([facility_ids[j] if j >= 0 else None for j in near], dtype=object)
    cols["first_contact_minutes"] = cols[f"minutes_{level_slug(first)}"]
    cols["two_leg_minutes"] = np.where(on, two_leg[rr, cc] / 60.0, np.inf)
    fc = cols["first_contact_minutes"]
    cols["beyond_standard"] = ~np.isfinite(fc) | (fc > (np.inf if standard is None else standard))
    return pd.DataFrame(cols, index=pd.Index(pts.ids, name="village"))


def gaps_closed(before: Referral, after: Referral) -> pd.DataFrame:
    """What a change of facilities (e.g. the plan's construction projects) does to the gaps, per zone and for the
    region: people beyond the first-contact standard, facilities beyond their referral standard, the share within
    each level's standard and the mean two-leg minutes, before and after. Both runs must be on the same study."""
    if before.study is not after.study:
        raise InputError("gaps_closed: compare two referral results of the same study")
    b, a = before.zone_table, after.zone_table
    out = pd.DataFrame(index=b.index)
    out["first_contact_gap_before"] = b["first_contact_gap"]
    out["first_contact_gap_after"] = a["first_contact_gap"]
    out["people_gap_closed"] = b["first_contact_gap"] - a["first_contact_gap"]
    out["referral_gaps_before"] = b["referral_gaps"]
    out["referral_gaps_after"] = a["referral_gaps"]
    for c in b.columns:
        if c.startswith("share_within_") and c in a.columns:
            out[f"{c}_before"] = b[c]
            out[f"{c}_after"] = a[c]
    out["mean_two_leg_minutes_before"] = b["mean_two_leg_minutes"]
    out["mean_two_leg_minutes_after"] = a["mean_two_leg_minutes"]
    out.attrs["notes"] = list(after.notes)
    return out
