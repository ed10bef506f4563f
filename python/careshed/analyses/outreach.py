"""Mobile outreach on a study (the "walking hospital"): where monthly service points go, and each team's circuit.

1. **Gap**: residents within the standard (per class, inclusive) of a fixed facility are served already; the rest
   are the gap.
2. **Service points**: the site-optimisation MCLP (:func:`careshed.arrays.locate.mclp`, exact with CBC) chooses
   ``points`` candidate points (villages, township centres) covering the most people of the gap within the same
   standard, from one bounded search per candidate.
3. **Circuits**: point-to-point travel times between the teams' bases and the chosen points from the engine (one
   search per node over the study's friction surface, :func:`careshed.arrays.outreach.travel_matrix_grid`), then
   :func:`careshed.arrays.outreach.plan_circuits`: each team's month of day routes from its base and back within
   ``hours_per_day`` (travel + ``service_hours`` per visit), every point visited ``visits_per_month`` times; exact
   (MIP, CBC) on seed-sized plans, savings + local search with a proven lower bound and its gap beyond.

Outputs: the schedule per team and day, route lines, people reached per month, and the effective access (fixed or
monthly mobile service within the standard) per zone and as a raster. Entry point: ``study.outreach(...)``
(:meth:`careshed.Study.outreach`, implemented by :func:`run`). See docs/outreach.md.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from ..arrays import locate
from ..arrays.outreach import plan_circuits, travel_matrix_grid
from ..arrays.travel_time import nearest_travel_time, travel_time_grid_reach_lists
from ..errors import InputError, UsageError, keyword
from ..io.fields import as_list
from ..mapping import draw_polygons, frame_zones, new_figure
from ..placement import place_facilities, point_columns
from ..prepared import PreparedStudy, check_thresholds, thresholds_text
from ..io.qgis_styles import LayerStyle, StyleClass, category_raster_style, line_style
from ..results import Result, coverage_layer_style, headline_prefix, modelled_notes, notes_frame, zones_layer

__all__ = ["Outreach", "run", "ACCESS_CLASSES", "needs_closed"]

#: Values of the ``effective_access`` raster.
ACCESS_CLASSES = {0: "no service within the standard", 1: "fixed facility", 2: "monthly service point only"}

TEAM_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666",
                "#1f78b4", "#b2182b")


class Outreach(Result):
    """The result of :meth:`Study.outreach`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per zone and a last row for the region: ``population``, ``fixed`` (people within the standard of a
        fixed facility), ``gap`` (the rest), ``reached`` (people of the gap within the standard of a chosen service
        point: reached every month), ``effective`` (fixed + reached), ``share_fixed``, ``share_effective``.
    points : pandas.DataFrame
        Every candidate (index = point id): name, zone, x, y, row, col, ``chosen``, ``team`` (-1 if not chosen),
        ``visits`` a month, ``people_reached`` (people of the gap it is the nearest chosen point for, within the
        standard), ``person_visits`` (people_reached x visits).
    teams : pandas.DataFrame
        One row per team (index = team id): base name, x, y, ``days_available``, ``days_used``, ``points``,
        ``travel_hours``, ``service_hours``.
    schedule : pandas.DataFrame
        One row per stop: team, ``day`` (the team's working day, 1-based), ``stop`` (1-based), point, name,
        ``arrive_minutes`` / ``leave_minutes`` after leaving the base, and one ``return`` row per day.
    routes : pandas.DataFrame
        One row per team-day: team, day, ``points`` (ids in visiting order), travel / service / duration minutes.
    diagnostics : dict
        Selection (MCLP) and circuit (solver, objective, bound, gap, status, ...) figures.
    notes, modelled, timings.
    """

    default_prefix = "outreach"

    def summary(self) -> str:
        r, region = self.diagnostics, self.table.iloc[-1]
        return (f"{headline_prefix(self.modelled)}outreach: {r['points_chosen']} service points, {r['teams']} teams, "
                f"{r['team_days']} team-days a month; reached {region['reached']:,.0f} of {region['gap']:,.0f} "
                f"people beyond fixed care; effective access {region['share_effective']:.1%} (fixed "
                f"{region['share_fixed']:.1%}); travel {r['travel_hours']:,.1f} h, bound {r['bound_hours']:,.1f} h, "
                f"gap {r['gap']:.2%} ({r['solver']}, {r['status']})")

    def _point_frame(self, frame):
        import geopandas as gpd
        from shapely.geometry import Point

        f = frame.reset_index()
        for c in f.columns:
            if f[c].dtype == object:
                f[c] = f[c].map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
        return gpd.GeoDataFrame(f, geometry=[Point(x, y) for x, y in zip(f["x"], f["y"])], crs=self.grid.crs)

    def route_lines(self):
        """GeoDataFrame of LineStrings, one per team-day, base -> points -> base in visiting order (the drawn
        segments join the stops; their travel times are the engine's, along the friction surface)."""
        import geopandas as gpd
        from shapely.geometry import LineString

        geoms, rows = [], []
        for _, r in self.routes.iterrows():
            b = self.teams.loc[r["team"]]
            xy = [(b["x"], b["y"])] + [(self.points.loc[p, "x"], self.points.loc[p, "y"]) for p in r["points"]]
            xy.append((b["x"], b["y"]))
            geoms.append(LineString(xy))
            row = r.to_dict()
            row["points"] = " > ".join(str(p) for p in r["points"])
            rows.append(row)
        return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=self.grid.crs)

    def _layers(self) -> dict:
        """GeoPackage layers: ``routes`` (lines), ``points`` (every candidate), ``chosen``, ``bases``, ``zones``
        (polygons + the zone table), ``schedule``, ``report``, ``notes``."""
        pts = self._point_frame(self.points)
        report = pd.DataFrame({"item": list(self.diagnostics), "value": [str(v) for v in self.diagnostics.values()]})
        return {"routes": self.route_lines(), "points": pts, "chosen": pts[pts["chosen"]].copy(),
                "bases": self._point_frame(self.teams), "zones": zones_layer(self.study, self.table),
                "schedule": self.schedule, "report": report, "notes": notes_frame(self.notes)}

    def _raster_layers(self) -> dict:
        return {"effective_access": (self.effective_access, 255, {"classes": str(ACCESS_CLASSES)})}

    def _layer_styles(self, layers: dict) -> dict:
        """zones: the effective share (fixed + reached) against the target; routes: one colour per team (the map's);
        candidate points, chosen service points and bases as points."""
        teams = list(dict.fromkeys(layers["routes"]["team"].tolist()))
        return {"zones": coverage_layer_style("share_effective", what="with effective access",
                                              name="effective access share"),
                "routes": line_style("team", teams, [f"team {t}" for t in teams], name="outreach circuits",
                                     colours=[TEAM_COLOURS[k % len(TEAM_COLOURS)] for k in range(len(teams))]),
                "points": LayerStyle("candidate points", "point", "single",
                                     (StyleClass("candidate point", "#bdbdbd", size_mm=1.8),)),
                "chosen": LayerStyle("service points", "point", "single",
                                     (StyleClass("service point", "#D55E00", marker="star", size_mm=4.0),)),
                "bases": LayerStyle("team bases", "point", "single",
                                    (StyleClass("team base", "#000000", marker="square", size_mm=3.2),))}

    def _raster_styles(self) -> dict:
        """effective_access: none (orange), fixed facility (dark purple), monthly service point only (light purple)."""
        return {"effective_access": category_raster_style(ACCESS_CLASSES, name="effective access",
                                                          colours=("#e08214", "#542788", "#998ec3"))}

    def _extra_tables(self) -> dict:
        return {"schedule": (self.schedule, self.notes, False), "routes": (self.routes, self.notes, False),
                "points": (self.points, self.notes), "teams": (self.teams, self.notes)}

    def plot(self, path=None, *, title=None, dpi=120):
        """Map: effective access (fixed / mobile only / none), zones with their effective share, team circuits
        (one colour per team), bases and service points. Returns the Figure; with `path` a PNG."""
        from matplotlib.colors import ListedColormap

        fig = new_figure(8.5, 8.6, dpi)
        ax = fig.add_axes([0.03, 0.14, 0.94, 0.72])
        g = self.grid
        x0, px, _, y0, _, py = g.transform
        h, w = g.shape
        acc = np.ma.masked_equal(self.effective_access, 255)
        ax.imshow(acc, extent=(x0, x0 + w * px, y0 + h * py, y0), cmap=ListedColormap(["#f4a582", "#92c5de",
                                                                                          "#4393c3"]),
                  vmin=0, vmax=2, interpolation="nearest", zorder=1)
        zones = self.study.zones
        draw_polygons(ax, list(zones.geometry), fill=False, edgecolor="#111111", linewidth=1.0, zorder=3)
        for i, geom in enumerate(zones.geometry):
            pt = geom.representative_point()
            ax.annotate(f"{self.study.ids[i]}\n{self.table.iloc[i]['share_effective']:.0%}", (pt.x, pt.y),
                        ha="center", va="center", fontsize=8,
                        bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.75), zorder=6)
        lines = self.route_lines()
        for _, r in lines.iterrows():
            xs, ys = r.geometry.xy
            ax.plot(xs, ys, color=TEAM_COLOURS[list(self.teams.index).index(r["team"]) % len(TEAM_COLOURS)],
                    linewidth=1.2, alpha=0.8, zorder=4)
        ax.scatter(self.teams["x"], self.teams["y"], marker="s", s=60, c="black", zorder=7)
        ch = self.points[self.points["chosen"]]
        ax.scatter(ch["x"], ch["y"], marker="o", s=30, c="white", edgecolors="black", zorder=8)
        frame_zones(ax, zones)
        sub = ("orange: no care within the standard; light blue: a fixed facility; blue: a monthly service point "
               "only; squares: team bases; circles: service points")
        return self.finish_map(fig, title or self.summary().split(";")[0], sub, ".", path)


def _positive(value, name, *, integer=False):
    v = float(value)
    if not (math.isfinite(v) and v > 0) or (integer and v != int(v)):
        raise UsageError(f"{keyword(name, value)}: must be a {'whole ' if integer else ''}number > 0")
    return int(v) if integer else v


def run(study: PreparedStudy, candidates, *, facilities, bases, points=18, thresholds_min=None, working_days=13,
        hours_per_day=8.0, service_hours=2.0, visits_per_month=1, day_cost_minutes=0.0, solver="auto",
        time_limit_s=None, facility_id=None, name_field=None, layer=None, x=None, y=None, crs=None,
        snap_max_m=None, unplaced="error", neighbours=8, label="service points", modelled=None,
        notes=None) -> Outreach:
    """Plan mobile outreach (:meth:`careshed.Study.outreach`): service points for the people fixed care misses,
    and each team's monthly circuit.

    Parameters
    ----------
    candidates : points (path, GeoDataFrame, CSV with `x`/`y` + `crs`)
        Candidate service points (villages, township centres).
    facilities : points
        Fixed facilities; residents within the standard of one are served already.
    bases : points
        One team per point, based there.
    points : int
        Service points to choose (at most; a point adding nobody is not chosen).
    thresholds_min : dict or number
        The standard in minutes per class (inclusive), for fixed facilities and service points alike; default the
        study's.
    working_days, hours_per_day : per team (one number for all, or one per base): days a month on the road and the
        longest working day (travel + service).
    service_hours : hours on site per visit. visits_per_month : visits each chosen point gets a month.
    day_cost_minutes : objective cost of each team-day used, on top of travel (0: least travel).
    solver, time_limit_s : "auto" (exact when the route enumeration fits), "exact" (CBC) or "heuristic"; the
        wall-clock limit of CBC / the improvement phase.
    facility_id, name_field, layer, x, y, crs, snap_max_m, unplaced : how the three point layers are read and
        placed (as :meth:`Study.reach`).
    """
    t_all = time.perf_counter()
    timings = {}
    if thresholds_min is None:
        thresholds_min = study.thresholds_min
    if thresholds_min is None:
        raise UsageError(f"{keyword('thresholds_min')}: give the standard in minutes (one number, or per class)")
    thresholds = check_thresholds(thresholds_min, study.class_names)
    n_points = _positive(points, "points", integer=True)
    hours = _positive(service_hours, "service_hours") if service_hours != 0 else 0.0
    visits = _positive(visits_per_month, "visits_per_month", integer=True)
    day_cost = float(day_cost_minutes)
    if not (math.isfinite(day_cost) and day_cost >= 0):
        raise UsageError(f"{keyword('day_cost_minutes', day_cost_minutes)}: must be a number of minutes >= 0")
    if solver not in ("auto", "exact", "heuristic"):
        raise UsageError(f"{keyword('solver', solver)}: is not 'auto', 'exact' or 'heuristic'")
    study.require_isotropic_friction("outreach")
    grid = study.grid
    read = dict(facility_id=facility_id, name_field=name_field, layer=layer, x=x, y=y, crs=crs,
                snap_max_m=snap_max_m, unplaced=unplaced)
    run_notes = list(modelled_notes(modelled)) + [str(n) for n in as_list(notes)]

    def placed(pts, what):
        st, used, rr, cc, moved, status, st_zone, pnotes = place_facilities(study, pts, what=what, stacklevel=6,
                                                                           **read)
        run_notes.extend(pnotes)
        frame = pd.DataFrame(point_columns(st, study, st_zone, rr, cc, moved, status),
                             index=pd.Index([str(i) for i in st.ids], name="id")).iloc[used]
        if frame.empty:
            raise InputError(f"{what}: no point lies on the study's grid")
        return frame

    t = time.perf_counter()
    cand = placed(candidates, "candidate service point(s)")
    fixed = placed(facilities, "fixed facility(ies)")
    base = placed(bases, "team base(s)")
    n_teams = len(base)
    days = np.broadcast_to(np.asarray(working_days, dtype=np.float64), (n_teams,))
    if not np.all((days >= 0) & (days == np.round(days))):
        raise UsageError(f"{keyword('working_days', working_days)}: must be whole numbers of days >= 0 (one, or one "
                         f"per base)")
    day_h = np.broadcast_to(np.asarray(hours_per_day, dtype=np.float64), (n_teams,))
    if not np.all(np.isfinite(day_h) & (day_h > 0) & (day_h <= 24)):
        raise UsageError(f"{keyword('hours_per_day', hours_per_day)}: must be hours in (0, 24] (one, or one per "
                         f"base)")
    timings["points"] = time.perf_counter() - t

    # -- 1. the gap: people beyond the standard of every fixed facility -------------------------------------------
    t = time.perf_counter()
    cells, people, zone = study.populated_cells()
    if cells.size == 0:
        raise InputError("the study has no populated cell inside a zone: nobody to plan outreach for")
    standard = study.class_standard_seconds(thresholds, cells)
    radius = float(standard.max())
    fsrc = np.ascontiguousarray(fixed[["row", "col"]].to_numpy(), dtype=np.int64)
    fsec, _ = nearest_travel_time(study.friction.seconds_per_metre, fsrc, grid.cell_size, np.zeros(len(fixed)),
                                  radius, neighbours)
    served_fixed = fsec.ravel()[cells].astype(np.float64) <= standard
    timings["gap"] = time.perf_counter() - t

    # -- 2. service points: MCLP on the gap --------------------------------------------------------------------
    t = time.perf_counter()
    csrc = np.ascontiguousarray(cand[["row", "col"]].to_numpy(), dtype=np.int64)
    offsets, rcells, rsec = travel_time_grid_reach_lists(study.friction.seconds_per_metre, csrc, max_seconds=radius,
                                                         cell_size=grid.cell_size, neighbours=int(neighbours))
    h, w = grid.shape
    # Demand of the MCLP = the gap's cells only (people already served add nothing to any objective).
    gap_idx = np.flatnonzero(~served_fixed)
    cell_demand = np.full(h * w, -1, np.int32)
    cell_demand[cells[gap_idx]] = np.arange(gap_idx.size, dtype=np.int32)
    costs = locate.site_costs_from_reach_lists(offsets, rcells, rsec, cell_demand, gap_idx.size,
                                               max_cost=standard[gap_idx])
    p = min(n_points, len(cand))
    sel = locate.mclp(costs, people[gap_idx], p, standard[gap_idx]) if gap_idx.size else None
    off = np.asarray(costs.offsets)
    # A site the solver opened that covers nobody of the gap (p larger than useful) is not a service point.
    chosen = np.array([j for j in (sel.sites if sel else []) if off[j + 1] > off[j]], dtype=np.int64)
    reach_point = np.full(cells.size, -1, np.int64)  # nearest chosen point within the standard (gap cells only)
    if sel is not None:
        reach_point[gap_idx] = sel.assignment
    reached = reach_point >= 0
    timings["selection"] = time.perf_counter() - t
    if chosen.size == 0:
        raise InputError("no candidate service point reaches anybody beyond the fixed facilities' standard: nothing "
                         "to plan (everybody is served already, or the candidates are too far from the people who "
                         "are not)")

    # -- 3. circuits -----------------------------------------------------------------------------------------------
    t = time.perf_counter()
    nodes = np.vstack([base[["row", "col"]].to_numpy(), cand[["row", "col"]].to_numpy()[chosen]])
    matrix = travel_matrix_grid(study.friction.seconds_per_metre, nodes, cell_size=grid.cell_size,
                                max_seconds=float(day_h.max()) * 3600.0, neighbours=int(neighbours))
    timings["travel matrix"] = time.perf_counter() - t
    # A chosen point no team can serve, said in the interface's words (the core would name only its index).
    trips = matrix[:n_teams, n_teams:] + matrix[n_teams:, :n_teams].T + hours * 3600.0
    can = (trips <= (day_h * 3600.0)[:, None]) & (days[:, None] >= visits)
    for k in np.flatnonzero(~can.any(axis=0)):
        pid = cand.index[chosen[k]]
        best = float(np.min(trips[:, k]))
        why = (f"the shortest round trip from a base with {hours:g} h of service takes {best / 3600:.2f} h"
               if math.isfinite(best) else "no base reaches it within a working day")
        raise InputError(f"service point {pid}: no team can serve it ({why}; {visits} visit(s) a month need as many "
                         f"working days); lengthen {keyword('hours_per_day')}, shorten {keyword('service_hours')}, "
                         f"raise {keyword('working_days')}, lower {keyword('visits_per_month')} or add a base nearer")
    t = time.perf_counter()
    try:
        circ = plan_circuits(matrix, np.arange(n_teams, n_teams + chosen.size), np.arange(n_teams),
                             days.astype(int), day_h * 3600.0, service_seconds=hours * 3600.0, visits=visits,
                             day_cost_seconds=day_cost * 60.0, solver=solver, time_limit_s=time_limit_s)
    except InputError as e:
        if "no schedule" not in str(e):
            raise
        raise InputError(f"outreach: the teams cannot visit the {chosen.size} service points {visits} time(s) a month "
                         f"within their working days and hours ({e}); raise {keyword('working_days')} or "
                         f"{keyword('hours_per_day')}, add bases, lower {keyword('visits_per_month')} or choose "
                         f"fewer {keyword('points')}") from None
    timings["circuits"] = time.perf_counter() - t

    # -- tables --------------------------------------------------------------------------------------------------
    point_ids = list(cand.index)
    chosen_ids = [point_ids[j] for j in chosen]
    team_ids = list(base.index)
    pts = cand.copy()
    pts["chosen"] = False
    pts["team"] = None
    pts["visits"] = 0
    pts["people_reached"] = 0.0
    reached_by = np.bincount(reach_point[reached], weights=people[reached], minlength=len(cand))
    for k, j in enumerate(chosen):
        pts.iloc[j, pts.columns.get_loc("chosen")] = True
        pts.iloc[j, pts.columns.get_loc("team")] = team_ids[int(circ.point_team[k])]
        pts.iloc[j, pts.columns.get_loc("visits")] = visits
    pts["people_reached"] = reached_by
    pts["person_visits"] = pts["people_reached"] * pts["visits"]

    sched, route_rows = [], []
    for r, (k, day, stops) in enumerate(circ.routes):
        clock, seq = 0.0, []
        prev = k
        for s, i in enumerate(stops):
            node = n_teams + i
            clock += matrix[prev, node]
            arrive = clock
            clock += hours * 3600.0
            sched.append({"team": team_ids[k], "day": day + 1, "stop": s + 1, "point": chosen_ids[i],
                          "name": cand["name"].iloc[chosen[i]] if "name" in cand.columns else None,
                          "arrive_minutes": arrive / 60.0, "leave_minutes": clock / 60.0})
            prev = node
            seq.append(chosen_ids[i])
        clock += matrix[prev, k]
        sched.append({"team": team_ids[k], "day": day + 1, "stop": len(stops) + 1, "point": "return",
                      "name": base["name"].iloc[k] if "name" in base.columns else None,
                      "arrive_minutes": clock / 60.0, "leave_minutes": np.nan})
        route_rows.append({"team": team_ids[k], "day": day + 1, "points": seq,
                           "travel_minutes": circ.route_travel_seconds[r] / 60.0,
                           "service_minutes": circ.route_service_seconds[r] / 60.0,
                           "duration_minutes": circ.route_duration_seconds[r] / 60.0})
    schedule = pd.DataFrame(sched, columns=["team", "day", "stop", "point", "name", "arrive_minutes",
                                            "leave_minutes"])
    routes = pd.DataFrame(route_rows, columns=["team", "day", "points", "travel_minutes", "service_minutes",
                                               "duration_minutes"])
    teams = base.copy()
    teams.index.name = "team"
    teams["days_available"] = days.astype(int)
    used = routes.groupby("team").size() if len(routes) else pd.Series(dtype=int)
    teams["days_used"] = [int(used.get(tid, 0)) for tid in team_ids]
    teams["points"] = [int(np.sum(circ.point_team == k)) for k in range(n_teams)]
    teams["travel_hours"] = [float(routes.loc[routes["team"] == tid, "travel_minutes"].sum()) / 60 for tid in team_ids]
    teams["service_hours"] = [float(routes.loc[routes["team"] == tid, "service_minutes"].sum()) / 60
                              for tid in team_ids]

    n_z = len(study.ids)
    pop_z = np.bincount(zone, weights=people, minlength=n_z)
    fixed_z = np.bincount(zone, weights=np.where(served_fixed, people, 0.0), minlength=n_z)
    reach_z = np.bincount(zone, weights=np.where(reached, people, 0.0), minlength=n_z)
    table = pd.DataFrame(index=pd.Index(list(study.ids) + [study.region_label], name=study.zone_id))
    for k in study.keep:
        table[k] = list(study.frame[k].tolist()) + [None]
    table["population"] = np.append(pop_z, pop_z.sum())
    table["fixed"] = np.append(fixed_z, fixed_z.sum())
    table["gap"] = table["population"] - table["fixed"]
    table["reached"] = np.append(reach_z, reach_z.sum())
    table["effective"] = table["fixed"] + table["reached"]
    with np.errstate(invalid="ignore", divide="ignore"):
        table["share_fixed"] = table["fixed"] / table["population"]
        table["share_effective"] = table["effective"] / table["population"]

    access = np.full(h * w, 255, np.uint8)
    access[cells] = np.where(served_fixed, 1, np.where(reached, 2, 0))

    result = Outreach.of(study=study, grid=grid, label=label, table=table, points=pts, teams=teams, schedule=schedule,
                         routes=routes, effective_access=access.reshape(h, w), circuits=circ, selection=sel,
                         travel_matrix=matrix, modelled=study.modelled or bool(modelled))
    result.diagnostics = {
        "points_chosen": int(chosen.size), "candidates": len(cand), "fixed_facilities": len(fixed),
        "teams": n_teams, "team_days": int(circ.team_days), "visits_per_month": visits,
        "people_reached_per_month": float(reach_z.sum()),
        "person_visits_per_month": float(pts["person_visits"].sum()),
        "selection_objective": sel.objective, "selection_bound": sel.bound, "selection_gap": sel.gap,
        "solver": circ.solver, "status": circ.status, "objective_hours": circ.objective / 3600.0,
        "travel_hours": circ.travel_seconds / 3600.0, "bound_hours": circ.bound / 3600.0, "gap": circ.gap,
        "bound_source": circ.bound_source, "proven_optimal": circ.proven_optimal,
        "routes_enumerated": circ.routes_enumerated, "seconds": circ.seconds_elapsed}
    result.notes = list(study.notes) + run_notes + [
        f"standard: travel <= the threshold of the cell's class ({thresholds_text(thresholds)}; inclusive), to a "
        f"fixed facility or to a monthly service point",
        f"service points chosen by MCLP on the people beyond every fixed facility's standard: {chosen.size} of "
        f"{len(cand)} candidates (at most {p}); objective {sel.objective:,.0f} people, bound {sel.bound:,.0f}, "
        f"gap {sel.gap:.3%}",
        f"circuits ({circ.solver}, {circ.status}): {circ.team_days} team-days, travel {circ.travel_seconds / 3600:,.2f}"
        f" h, proven lower bound {circ.bound / 3600:,.2f} h ({circ.bound_source}), gap {circ.gap:.3%}; days of "
        f"{', '.join(f'{v:g}' for v in sorted(set(day_h)))} h, {hours:g} h per visit, {visits} visit(s) a month",
        "route lines join the stops in visiting order; their travel times are the engine's along the friction "
        "surface, the drawn segments are straight",
        "people are counted per populated cell; a cell split by a zone boundary counts in the zone holding most of it",
    ]
    timings["total"] = time.perf_counter() - t_all
    result.timings = timings
    return result


def needs_closed(before: Outreach, after: Outreach) -> pd.DataFrame:
    """What a change of fixed facilities (e.g. the plan's construction projects) does to the circuits' work, per zone
    and for the region: the gap (people beyond every fixed facility's standard), the service points chosen in the
    zone and the people they reach, before and after; on the region row also the team-days and travel hours of the
    month. Both plans must be on the same study; give them the same candidates, teams and terms, or the difference
    is not the facilities'."""
    if before.study is not after.study:
        raise InputError("needs_closed: compare two outreach plans of the same study")
    b, a = before.table, after.table
    out = pd.DataFrame(index=b.index)
    for k in before.study.keep:
        out[k] = b[k]
    out["gap_before"], out["gap_after"] = b["gap"], a["gap"]
    out["gap_closed"] = b["gap"] - a["gap"]

    def points_by_zone(plan):
        chosen = plan.points[plan.points["chosen"]]
        counts = chosen.groupby("zone").size() if len(chosen) else pd.Series(dtype=int)
        per_zone = [int(counts.get(z, 0)) for z in b.index[:-1]]
        return per_zone + [int(len(chosen))]

    out["points_before"], out["points_after"] = points_by_zone(before), points_by_zone(after)
    out["reached_before"], out["reached_after"] = b["reached"], a["reached"]
    out["share_effective_before"], out["share_effective_after"] = b["share_effective"], a["share_effective"]
    region = b.index[-1]
    for name, plan in (("before", before), ("after", after)):
        out[f"team_days_{name}"] = np.nan
        out.loc[region, f"team_days_{name}"] = plan.diagnostics["team_days"]
        out[f"travel_hours_{name}"] = np.nan
        out.loc[region, f"travel_hours_{name}"] = plan.diagnostics["travel_hours"]
    out.attrs["notes"] = list(after.notes)
    return out

