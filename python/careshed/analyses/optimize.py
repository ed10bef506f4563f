"""Site optimisation on a study: where the next stations go, what each one buys, and how good the answer is.

Demand = the study's populated cells (people per cell, each with its class's response standard, e.g. 11 min urban /
15 min rural); candidates = points from any layer (township centres, plan projects) and/or a regular lattice of
passable cells; existing facilities are kept open. Response time = ``dispatch_minutes`` + travel over the study's
friction surface, from one bounded search per candidate (the engine's reach lists: sparse, never a dense matrix).
The model is solved by :mod:`careshed.arrays.locate` (exact with CBC, or greedy + swap with an LP bound); the result
says what it covers per zone before and after, the marginal gain of each added site, and the bound and gap.

Entry point: ``study.optimize(...)`` (:meth:`careshed.Study.optimize`, implemented by :func:`run`). See
docs/optimize.md.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from ..arrays import locate
from ..constants import RESIDENTS_PER_VEHICLE
from ..errors import InputError, UsageError
from ..io.fields import as_list
from ..placement import place_facilities, point_columns
from ..prepared import PreparedStudy, check_thresholds, thresholds_text
from ..mapping import (draw_polygons, frame_zones, legend_beside, map_axes, new_figure, place_labels, place_name,
                       scenario_maps, zone_names)
from ..io.qgis_styles import category_style, chosen_sites_style
from ..results import (Result, coverage_layer_style, headline_prefix, modelled_notes, notes_frame, save_map,
                       zones_layer)

__all__ = ["Optimized", "run", "MODELS"]

#: Models of the planner face (careshed.arrays.locate has lscp_b too).
MODELS = ("lscp", "mclp", "backup", "mexclp", "p-median", "p-center")


class Optimized(Result):
    """The result of :meth:`Study.optimize`.

    Attributes
    ----------
    sites : pandas.DataFrame
        One row per candidate (index = site id): source ("existing" / "candidate" / "lattice"), name, zone, x, y,
        row, col, status, snapped_m, ``open`` (bool), ``fixed`` (existing), ``added_rank`` (1 = the added site
        that adds most, given the existing ones; NaN if not added), ``marginal_gain`` (people it adds in that
        order; MEXCLP: expected people), ``vehicles`` (MEXCLP).
    table : pandas.DataFrame
        One row per zone and a last row for the region: ``population`` (people in populated cells, counted in the
        zone holding most of the cell), ``covered_before`` (existing sites only), ``covered_after``,
        ``share_before``, ``share_after``, ``gained``.
    curve : pandas.DataFrame
        The marginal-gain curve of the answer: ``rank``, ``site``, ``gain``, ``covered`` (cumulative, people).
    diagnostics : dict
        model, solver, objective, bound, gap, proven_optimal, status, bound_source, seconds, p, candidates,
        demand cells, coverage pairs.
    covered_cells_before, covered_cells_after : numpy.ndarray of bool, the grid's shape
        Populated cells covered (response within the cell's class threshold) by the existing sites and by the
        answer (:meth:`plot_change` draws them and their difference).
    notes, modelled, timings.

    The common face of every result (:class:`careshed.results.Result`): ``.zones``, ``.summary()``, ``.to_csv()``,
    ``.to_geopackage()``, ``.plot()``, ``.save(folder)`` (every output or none).
    """

    default_prefix = "optimize"

    def summary(self) -> str:
        r = self.diagnostics
        head = headline_prefix(self.modelled)
        kept = int((self.sites["open"] & self.sites["fixed"]).sum())
        added = int(self.sites["open"].sum()) - kept
        region = self.table.iloc[-1]
        if "vehicles" in self.sites.columns:  # MEXCLP counts vehicles, several per site
            v = self.sites["vehicles"]
            before = int(self.diagnostics.get("existing_vehicles", 0))
            what = (f"{int(v.sum()) - before} new {self.label} ({added} new sites; {before} existing at {kept} kept "
                    f"sites)")
        else:
            what = f"{added} new {self.label} ({kept} existing kept)"
        return (f"{head}{r['model']}: {what}: "
                f"covered {region['covered_before']:,.0f} -> {region['covered_after']:,.0f} of "
                f"{region['population']:,.0f} people; objective {r['objective']:,.6g}, bound {r['bound']:,.6g}, "
                f"gap {r['gap']:.3%} ({r['solver']}, {r['status']})")

    def site_points(self):
        """The candidates as a GeoDataFrame of points in the grid CRS with the ``sites`` columns."""
        import geopandas as gpd
        from shapely.geometry import Point

        f = self.sites.reset_index()
        for c in ("name", "zone", "source", "status"):
            if c in f.columns:
                f[c] = f[c].map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
        return gpd.GeoDataFrame(f, geometry=[Point(x, y) for x, y in zip(f["x"], f["y"])], crs=self.grid.crs)

    def _layers(self) -> dict:
        """GeoPackage layers: ``sites`` (every candidate, open or not), ``chosen`` (open sites), ``zones``
        (polygons + the zone table), ``curve``, ``report`` and ``notes``."""
        pts = self.site_points()
        report = pd.DataFrame({"item": list(self.diagnostics), "value": [str(v) for v in self.diagnostics.values()]})
        return {"sites": pts, "chosen": pts[pts["open"]].copy(), "zones": zones_layer(self.study, self.table),
                "curve": self.curve, "report": report, "notes": notes_frame(self.notes)}

    def _layer_styles(self, layers: dict) -> dict:
        """chosen: added / kept sites; sites: open or not; zones: covered share after, against the target."""
        return {"chosen": chosen_sites_style("fixed"),
                "sites": category_style("open", [1, 0], ["open", "not chosen"], geometry="point", name="candidates",
                                        colours=["#0072B2", "#bdbdbd"]),
                "zones": coverage_layer_style("share_after", what="covered after the choice")}

    def _extra_tables(self) -> dict:
        """PREFIX_sites.csv, PREFIX_curve.csv and PREFIX_report.csv (the solver report: one row, index the model)."""
        report = pd.DataFrame([self.diagnostics]).set_index("model")
        return {"sites": (self.sites, self.notes), "curve": (self.curve, self.notes, False),
                "report": (report, self.notes)}

    def plot(self, path=None, *, title=None, dpi=120):
        """Map: zones labelled with their covered share before -> after, kept sites (black) and added sites
        (orange, labelled with their rank; labels placed without overlap), the legend beside the map; MODELLED in
        the title when an input is. Returns the Figure; with `path` a PNG (PDF for ``.pdf``). The cells newly
        covered: :meth:`plot_change`."""
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        fig = new_figure(dpi=dpi)
        ax = map_axes(fig)
        zones = self.study.zones
        draw_polygons(ax, list(zones.geometry), fill=False, edgecolor="#111111", linewidth=1.0, zorder=3)
        s = self.sites
        kept, added = s["open"] & s["fixed"], s["open"] & ~s["fixed"]
        ax.scatter(s.loc[kept, "x"], s.loc[kept, "y"], marker="^", s=60, c="black", zorder=7)
        ax.scatter(s.loc[added, "x"], s.loc[added, "y"], marker="P", s=80, c="#e66101", edgecolors="black",
                   zorder=8)
        frame_zones(ax, zones)
        names = zone_names(self.study)
        zl = place_labels(ax, [(g.representative_point().x, g.representative_point().y,
                                f"{names[i]}\n{self.table.iloc[i]['share_before']:.0%} -> "
                                f"{self.table.iloc[i]['share_after']:.0%}", self.table.iloc[i]["population"])
                               for i, g in enumerate(zones.geometry)], kind="area", fontsize=8, zorder=9)
        ranked = s[added & np.isfinite(s["added_rank"])]
        rl = place_labels(ax, [(r["x"], r["y"], f"{int(r['added_rank'])}", -r["added_rank"])
                               for _, r in ranked.iterrows()], fontsize=8, box=False, avoid=zl.boxes)
        legend_beside(fig, [Line2D([], [], marker="^", color="black", linestyle="none", label="existing (kept)"),
                            Line2D([], [], marker="P", color="#e66101", markeredgecolor="black", linestyle="none",
                                   label="added (number: rank by marginal gain)"),
                            Patch(facecolor="none", edgecolor="#111111", label="zones: covered share before -> "
                                                                               "after")])
        title = title or (f"{headline_prefix(self.modelled)}{place_name(self.study)}: "
                          f"{self.diagnostics['model'].upper()} — {int(added.sum())} added {self.label}, "
                          f"{int(kept.sum())} existing kept")
        return self.finish_map(fig, title, None, ".", path, extra_notes=[zl.note("zones"), rl.note("added sites")])

    def plot_change(self, path=None, *, title=None, dpi=120):
        """Before / after / difference maps: the populated cells covered by the existing sites, by the answer, and
        the cells newly covered (:func:`careshed.mapping.scenario_maps`). Returns the Figure; with `path` a PNG
        (PDF for ``.pdf``)."""
        s = self.sites
        kept, added = s["open"] & s["fixed"], s["open"] & ~s["fixed"]
        ranked = s[added].sort_values("added_rank")
        fig = scenario_maps(
            self.study.zones, self.grid, self.covered_cells_before, self.covered_cells_after, self.study.population,
            title=title or f"{headline_prefix(self.modelled)}{place_name(self.study)}: {self.diagnostics['model'].upper()} — "
            f"coverage with the existing {self.label} and with the {len(ranked)} chosen",
            names=("existing sites", "with the chosen sites"),
            kept_points=(s.loc[kept, "x"].to_numpy(), s.loc[kept, "y"].to_numpy()),
            added_points=(ranked["x"].to_numpy(), ranked["y"].to_numpy()),
            added_labels=[f"{int(r)}" if np.isfinite(r) else "" for r in ranked["added_rank"]],
            notes=[n for n in self.notes if n.startswith("MODELLED")], dpi=dpi)
        if path is not None:
            save_map(fig, path)
        return fig


def _lattice(study: PreparedStudy, spacing_m: float):
    """Passable cells inside the zones on a regular lattice of `spacing_m` (cell centres): (rows, cols)."""
    dx, dy = study.grid.cell_size
    if not (math.isfinite(spacing_m) and spacing_m >= max(dx, dy)):
        raise UsageError(f"candidate_spacing_m: {spacing_m!r} must be a distance >= one cell ({max(dx, dy):g} m)")
    sr, sc = max(1, int(round(spacing_m / dy))), max(1, int(round(spacing_m / dx)))
    h, w = study.grid.shape
    rr, cc = np.meshgrid(np.arange(sr // 2, h, sr), np.arange(sc // 2, w, sc), indexing="ij")
    rr, cc = rr.ravel(), cc.ravel()
    ok = np.isfinite(study.friction.seconds_per_metre[rr, cc]) & (study.zone_raster.zone[rr, cc] != -1)
    return rr[ok], cc[ok]



def _site_capacity(capacity, parts, n_sites: int, model: str):
    """Capacity per site (order: the parts' frames) from a field of the point layers, a number or an array."""
    if capacity is None:
        return None
    if model not in ("mclp", "p-median"):
        raise UsageError(f"capacity: only mclp and p-median take site capacities, not {model}")
    if not isinstance(capacity, str):
        caps = np.broadcast_to(np.asarray(capacity, dtype=np.float64), (n_sites,)).copy()
        bad = np.flatnonzero(~(caps >= 0))
        if bad.size:
            raise UsageError(f"capacity: site {int(bad[0])} has {caps[bad[0]]!r}; capacities must be >= 0 (inf: none)")
        return caps
    vals = []
    for frame, st, used in parts:
        if st is None:
            raise UsageError(f"capacity: lattice candidates have no field {capacity!r}; give the capacity as a number")
        if capacity not in st.frame.columns:
            raise UsageError(f"capacity: the {frame['source'].iloc[0]} sites have no field {capacity!r} "
                             f"(fields: {', '.join(map(str, st.frame.columns))})")
        v = pd.to_numeric(st.frame[capacity], errors="coerce").to_numpy(np.float64)[used]
        bad = np.flatnonzero(~(v >= 0))
        if bad.size:
            raise InputError(f"capacity: field {capacity!r} of site {frame.index[bad[0]]!r} is "
                             f"{st.frame[capacity].to_numpy()[used][bad[0]]!r}; give a number >= 0")
        vals.append(v)
    return np.concatenate(vals)


def _existing_values(value, parts, n_sites: int, what: str):
    """Per site (order: the parts' frames): `value` (a number, or a field of the existing layer) at the existing
    sites, 0 elsewhere; None when `value` is None."""
    if value is None:
        return None
    out = np.zeros(n_sites)
    at = 0
    for frame, st, used in parts:
        if frame["source"].iloc[0] == "existing":
            if isinstance(value, str):
                if value not in st.frame.columns:
                    raise UsageError(f"{what}: the existing sites have no field {value!r} "
                                     f"(fields: {', '.join(map(str, st.frame.columns))})")
                v = pd.to_numeric(st.frame[value], errors="coerce").to_numpy(np.float64)[used]
            else:
                v = np.full(len(frame), float(value))
            bad = np.flatnonzero(~(v >= 0) | ~np.isfinite(v))
            if bad.size:
                raise InputError(f"{what}: existing site {frame.index[bad[0]]!r} has {v[bad[0]]!r}; give a number "
                                 f">= 0")
            out[at:at + len(frame)] = v
        at += len(frame)
    return out


def curve_objective(objective, gains):
    """The objective after each site of the marginal-gain curve: the answer's objective less the gains of the sites
    added after it. Counted back from the answer, so a gain the solver process could not measure (NaN, see
    SiteSolution.status) leaves only the rows before it unknown, not the whole column."""
    gains = np.asarray(gains, dtype=np.float64)
    later = np.zeros(gains.size)
    if gains.size > 1:
        later[:-1] = np.cumsum(gains[::-1])[::-1][1:]
    return float(objective) - later


def run(study: PreparedStudy, candidates=None, *, model="mclp", p=None, existing=None, thresholds_min=None,
        dispatch_minutes=0.0, candidate_spacing_m=None, site_cost=None, budget=None, zone_min_share=None,
        capacity=None, patients_per_bed=None, single_source=False, may_close=None, closing_cost=None,
        backup_weight=1.0, busy_fraction=0.0, vehicles_per_site=1, existing_vehicles=None,
        residents_per_vehicle=RESIDENTS_PER_VEHICLE,
        max_minutes=None, solver="exact", time_limit_s=None, gap_target=0.0, facility_id=None, name_field=None,
        layer=None, x=None, y=None, crs=None, snap_max_m=None, unplaced="error", neighbours=8, label="sites",
        modelled=None, notes=None) -> Optimized:
    """Choose sites (:meth:`careshed.Study.optimize`): which candidates to open so the study's people are best served.

    Parameters
    ----------
    candidates : points (path, GeoDataFrame, CSV with `x`/`y` + `crs`), optional
        Candidate sites (e.g. township centres, the plan's projects). With `candidate_spacing_m`, a lattice of
        passable cells is added; at least one of the two is needed.
    model : "lscp", "mclp", "backup", "mexclp", "p-median" or "p-center"
        See docs/optimize.md. Covering models use the class thresholds; p-median / p-center minimise travel.
    p : int, optional
        Open sites in total, existing ones included (MEXCLP: vehicles). Default for MCLP / backup / MEXCLP / the
        p-models: the plan's one per `residents_per_vehicle` residents (ceil(population / 30,000)).
    existing : points, optional
        Facilities already there: always open, counted in `p` (read like `candidates`).
    may_close : int, optional
        At most this many `existing` facilities may close (not MEXCLP). With `p` = the number of existing
        facilities this is the "relocate" scenario: move up to `may_close` of them to better candidates. Open
        existing sites count in `p`; `sites["closed"]` marks the ones the answer closes.
    thresholds_min : dict or number
        Response standard per class in minutes (inclusive); default the study's.
    dispatch_minutes : float
        Added to every response time (e.g. 3).
    site_cost, budget : optional
        Cost per candidate (a field of `candidates`, one number, or one value per candidate site in the order
        existing, candidates, lattice) and the budget on the total cost of open sites (existing included).
    zone_min_share : float or dict {zone id: share}, optional
        Every zone's covered share must reach it (e.g. 0.9, the "15-minute medical service circle").
    capacity : field name, number or one value per site, optional
        MCLP / p-median only: the people each site can serve when open (e.g. beds x patients per bed, or an
        ambulance's yearly workload in residents); a field is read from `existing` and `candidates` (lattice
        candidates have no fields: give a number then). Demand may be split between sites; MCLP then counts the
        people SERVED within the standard (also in the table's covered_after), p-median must serve everyone.
        Multiplied by `patients_per_bed` when given (capacity = beds x people served per bed).
    single_source : bool
        With `capacity`: each populated cell is served wholly by one site (a village goes to one health post)
        instead of being split between sites.
    closing_cost : number or field name of `existing`, optional
        With `may_close` and a `budget` (or LSCP): what closing each existing facility spends (severance, moving
        equipment), from the same budget as the site costs. See docs/optimize.md, "Closing costs".
    existing_vehicles : number or field name of `existing`, optional
        MEXCLP: vehicles already at each existing station (default 1); they stay and count in `p`.
    backup_weight, busy_fraction, vehicles_per_site : model options (backup; MEXCLP's q and vehicles per station).
    max_minutes : float, optional
        Search radius of the per-candidate searches (default: the largest threshold). For p-median / p-center, people
        farther than this from every candidate are left out (and counted in the notes).
    solver, time_limit_s, gap_target : "exact" (CBC) or "heuristic" (greedy + swap, LP bound); limits.
    facility_id, name_field, layer, x, y, crs, snap_max_m, unplaced : how points are read and placed (as
        :meth:`Study.reach`); `existing` is read with the same options.
    """
    study.require_symmetric_travel("optimize")
    t_all = time.perf_counter()
    timings = {}
    model = str(model).replace("_", "-")
    if model not in MODELS:
        raise UsageError(f"model: {model!r} is not one of {', '.join(MODELS)}")
    if candidates is None and candidate_spacing_m is None:
        raise UsageError("give candidates (a point layer) and/or candidate_spacing_m (a lattice of passable cells)")
    if thresholds_min is None:
        thresholds_min = study.thresholds_min
    if thresholds_min is None:
        raise UsageError("thresholds_min: give the response standard in minutes (one number, or per class)")
    thresholds = check_thresholds(thresholds_min, study.class_names)
    dispatch = float(dispatch_minutes)
    if not math.isfinite(dispatch) or dispatch < 0:
        raise UsageError(f"dispatch_minutes: {dispatch_minutes!r} must be a number of minutes >= 0")

    # -- sites: existing (fixed), points, lattice ---------------------------------------------------------------
    t = time.perf_counter()
    grid = study.grid
    parts, run_notes = [], list(modelled_notes(modelled)) + [str(n) for n in as_list(notes)]
    read = dict(facility_id=facility_id, name_field=name_field, layer=layer, x=x, y=y, crs=crs,
                snap_max_m=snap_max_m, unplaced=unplaced)
    for source, pts in (("existing", existing), ("candidate", candidates)):
        if pts is None:
            continue
        st, used, rr, cc, moved, status, st_zone, pnotes = place_facilities(study, pts, what=f"{source} site(s)",
                                                                           stacklevel=5, **read)
        run_notes += pnotes
        cols = point_columns(st, study, st_zone, rr, cc, moved, status)
        frame = pd.DataFrame(cols, index=[f"{source}:{i}" for i in st.ids]).iloc[used]
        frame.insert(0, "source", source)
        parts.append((frame, st, used))
    if candidate_spacing_m is not None:
        lr, lc = _lattice(study, float(candidate_spacing_m))
        x0, px, _, y0, _, py = grid.transform
        frame = pd.DataFrame({"source": "lattice", "name": None, "zone": None, "x": x0 + (lc + 0.5) * px,
                              "y": y0 + (lr + 0.5) * py, "row": lr, "col": lc, "status": "on grid", "snapped_m": 0.0},
                             index=[f"lattice:{k}" for k in range(lr.size)])
        parts.append((frame, None, None))
        run_notes.append(f"{lr.size} lattice candidates: passable cells in the zones every {candidate_spacing_m:g} m")
    sites = pd.concat([f for f, _, _ in parts])
    sites.index.name = "site"
    n_sites = len(sites)
    fixed = np.flatnonzero((sites["source"] == "existing").to_numpy())
    costs_per_site = None
    if site_cost is not None:
        if isinstance(site_cost, str):
            vals = []
            for frame, st, used in parts:
                if st is None or frame["source"].iloc[0] == "existing":
                    vals.append(np.zeros(len(frame)))
                else:
                    vals.append(np.asarray(st.frame[site_cost], dtype=np.float64)[used])
            costs_per_site = np.concatenate(vals)
        else:
            costs_per_site = np.broadcast_to(np.asarray(site_cost, dtype=np.float64), (n_sites,)).copy()
    caps = _site_capacity(capacity, parts, n_sites, model)
    if single_source and caps is None:
        raise UsageError("single_source: give capacity too (without capacities every cell already goes wholly to "
                         "its nearest site)")
    closing = _existing_values(closing_cost, parts, n_sites, "closing_cost")
    if closing is not None and may_close is None:
        raise UsageError("closing_cost: give may_close too (closing costs apply to existing sites that may close)")
    if closing is not None and model in ("p-median", "p-center", "mexclp"):
        raise UsageError(f"closing_cost: {model} takes no budget, so closing costs cannot count; use lscp, or mclp / "
                         f"backup with a budget")
    vehicles0 = _existing_values(existing_vehicles, parts, n_sites, "existing_vehicles")
    if vehicles0 is not None and model != "mexclp":
        raise UsageError(f"existing_vehicles: only mexclp counts vehicles, not {model}")
    if patients_per_bed is not None:
        ppb = float(patients_per_bed)
        if caps is None or not (ppb > 0 and math.isfinite(ppb)):
            raise UsageError(f"patients_per_bed: {patients_per_bed!r} needs a capacity (beds) and must be a positive "
                             f"number")
        caps = caps * ppb
        run_notes.append(f"capacity = capacity x {ppb:g} patients per bed")
    timings["sites"] = time.perf_counter() - t

    # -- demand and coverage ------------------------------------------------------------------------------------
    t = time.perf_counter()
    cells, weights, dzone = study.populated_cells()
    dzone = dzone.astype(np.int32)
    if cells.size == 0:
        raise InputError("the study has no populated cell inside a zone: nothing to optimise")
    standard = study.class_standard_seconds(thresholds, cells)
    radius_s = float(max_minutes) * 60.0 if max_minutes is not None else float(standard.max())
    src = np.ascontiguousarray(sites[["row", "col"]].to_numpy(), dtype=np.int64)
    offsets, rcells, rsec = study.reach_lists(src, radius_s, int(neighbours), np.full(n_sites, dispatch * 60.0))
    h, w = grid.shape
    cell_demand = np.full(h * w, -1, np.int32)
    cell_demand[cells] = np.arange(cells.size, dtype=np.int32)
    covering = model not in ("p-median", "p-center")
    costs = locate.site_costs_from_reach_lists(offsets, rcells, rsec, cell_demand, cells.size,
                                               max_cost=standard if covering else None)
    timings["coverage"] = time.perf_counter() - t

    # -- solve --------------------------------------------------------------------------------------------------
    t = time.perf_counter()
    population = float(weights.sum())
    if p is None and model != "lscp":
        p = max(len(fixed), math.ceil(population / float(residents_per_vehicle)))
        p = min(p, n_sites * (int(vehicles_per_site) if model == "mexclp" else 1))
        run_notes.append(f"p = {p}: one per {residents_per_vehicle:,.0f} residents of {population:,.0f} "
                         f"(existing included)")
    shares = None
    if zone_min_share is not None:
        if isinstance(zone_min_share, dict):
            pos = {str(z): i for i, z in enumerate(study.ids)}
            shares = np.zeros(len(study.ids))
            for k, v in zone_min_share.items():
                if str(k) not in pos:
                    raise UsageError(f"zone_min_share: zone {k!r} is not a zone id of the study")
                shares[pos[str(k)]] = float(v)
        else:
            shares = np.full(len(study.ids), float(zone_min_share))
    w_used = weights
    if not covering:
        reach_any = np.zeros(cells.size, bool)
        reach_any[costs.demand] = True
        left = float(weights[~reach_any].sum())
        if left > 0:
            w_used = np.where(reach_any, weights, 0.0)
            run_notes.append(f"{left:,.0f} people are beyond {radius_s / 60:g} min of every candidate and are left "
                             f"out of {model} (raise max_minutes to include them)")
    common = dict(fixed=fixed if fixed.size else None, solver=solver, time_limit_s=time_limit_s,
                  gap_target=gap_target)
    if may_close is not None:
        k = int(may_close)
        if k < 0 or k != may_close:
            raise UsageError(f"may_close: {may_close!r} must be a whole number >= 0 (existing sites that may close)")
        if model == "mexclp":
            raise UsageError("may_close: mexclp counts vehicles; existing sites cannot close in it")
        common.update(fixed=None, closable=fixed if fixed.size else None, max_closures=k)
    budget_kw = dict(site_cost=costs_per_site, budget=budget, zones=dzone, zone_min_share=shares)
    if closing is not None:
        budget_kw["closing_cost"] = closing
    if model == "lscp":
        sol = locate.lscp(costs, standard, weights=weights, skip_uncoverable=True, **budget_kw, **common)
    elif model == "mclp":
        sol = locate.mclp(costs, weights, p, standard, capacity=caps, single_source=single_source, **budget_kw,
                          **common)
    elif model == "backup":
        sol = locate.backup(costs, weights, p, standard, backup_weight=backup_weight, **budget_kw, **common)
    elif model == "mexclp":
        sol = locate.mexclp(costs, weights, p, standard, busy_fraction=busy_fraction,
                            max_vehicles_per_site=vehicles_per_site,
                            existing_vehicles=None if vehicles0 is None else vehicles0.astype(np.int32),
                            zones=dzone, zone_min_share=shares, **common)
    elif model == "p-median":
        sol = locate.p_median(costs, w_used, p, capacity=caps, single_source=single_source, **common)
    else:
        sol = locate.p_center(costs, w_used, p, **common)
    timings["solve"] = time.perf_counter() - t

    # -- before / after, per zone ------------------------------------------------------------------------------
    cover_costs = costs if covering else locate.site_costs_from_reach_lists(offsets, rcells, rsec, cell_demand,
                                                                             cells.size, max_cost=standard)

    served_caps = caps if model == "mclp" else None  # capacitated MCLP: people served, not just in range

    def served_share(open_sites) -> np.ndarray:
        """Per demand cell, the share of its people served by `open_sites` (1 or 0 without capacities)."""
        if not len(open_sites):
            return np.zeros(cells.size)
        ev = locate.evaluate("mclp", cover_costs, open_sites, weights=weights, max_cost=standard,
                             p=max(1, len(open_sites)), capacity=served_caps,
                             single_source=bool(single_source) and served_caps is not None)
        return ev["served"]

    def covered_cells(share) -> np.ndarray:
        """The grid's cells (demand cells only) with some of their people covered."""
        out = np.zeros(h * w, bool)
        out[cells[share > 0]] = True
        return out.reshape(h, w)

    def covered_by_zone(share) -> np.ndarray:
        return np.bincount(dzone, weights=weights * share, minlength=len(study.ids))

    share_before, share_after = served_share(fixed), served_share(sol.sites)
    cells_before, cells_after = covered_cells(share_before), covered_cells(share_after)
    before, after = covered_by_zone(share_before), covered_by_zone(share_after)
    pop_z = np.bincount(dzone, weights=weights, minlength=len(study.ids))
    idx = pd.Index(list(study.ids) + [study.region_label], name=study.zone_id)
    table = pd.DataFrame(index=idx)
    for k in study.keep:
        table[k] = list(study.frame[k].tolist()) + [None]
    table["population"] = np.append(pop_z, pop_z.sum())
    table["covered_before"] = np.append(before, before.sum())
    table["covered_after"] = np.append(after, after.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        table["share_before"] = table["covered_before"] / table["population"]
        table["share_after"] = table["covered_after"] / table["population"]
    table["gained"] = table["covered_after"] - table["covered_before"]

    open_mask = np.zeros(n_sites, bool)
    open_mask[sol.sites] = True
    sites["open"] = open_mask
    sites["fixed"] = sites["source"] == "existing"  # existing facilities (kept open unless may_close)
    sites["closed"] = (sites["source"] == "existing") & ~sites["open"]
    rank = np.full(n_sites, np.nan)
    gain = np.full(n_sites, np.nan)
    rank[sol.added_order] = np.arange(1, len(sol.added_order) + 1)
    gain[sol.added_order] = sol.marginal_gain
    sites["added_rank"] = rank
    sites["marginal_gain"] = gain
    if model == "mexclp":
        veh = np.zeros(n_sites, np.int64)
        veh[sol.sites] = sol.vehicles
        sites["vehicles"] = veh
    base = float(before.sum())
    curve = pd.DataFrame({"rank": np.arange(1, len(sol.added_order) + 1),
                          "site": [sites.index[i] for i in sol.added_order], "gain": sol.marginal_gain})
    if covering:
        curve["objective"] = curve_objective(sol.objective, sol.marginal_gain)

    result = Optimized.of(study=study, grid=grid, label=label, sites=sites, table=table, curve=curve, solution=sol,
                          covered_cells_before=cells_before, covered_cells_after=cells_after,
                          modelled=study.modelled or bool(modelled))
    result.diagnostics = {"model": model, "solver": sol.solver, "objective": sol.objective, "bound": sol.bound,
                     "gap": sol.gap, "proven_optimal": sol.proven_optimal, "status": sol.status,
                     "bound_source": sol.bound_source, "seconds": sol.seconds_elapsed, "p": p,
                     "candidates": n_sites, "existing": int(fixed.size), "demand_cells": int(cells.size),
                     "coverage_pairs": int(costs.n_pairs), "population_covered_before": base}
    if model == "mexclp":
        result.diagnostics["existing_vehicles"] = int(vehicles0.sum()) if vehicles0 is not None else int(fixed.size)
    result.notes = list(study.notes) + run_notes + [
        f"response = dispatch {dispatch:g} min + travel from the site; covered = response <= the threshold of the "
        f"cell's class ({thresholds_text(thresholds)}; inclusive)",
        f"{model} solved {sol.solver}: objective {sol.objective:,.6g}, proven bound {sol.bound:,.6g} "
        f"({sol.bound_source}), gap {sol.gap:.4%}, {sol.status}",
        "people are counted per populated cell; a cell split by a zone boundary counts in the zone holding most of it",
    ]
    timings["total"] = time.perf_counter() - t_all
    result.timings = timings
    return result
