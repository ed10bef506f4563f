"""Floating-catchment accessibility (2SFCA family) on a :class:`careshed.Study` — the planner's level.

``study.access(facilities, ...)`` (implemented by :func:`run`): a score per cell (supply per resident, × ``per``
= e.g. beds per 1000) from :func:`careshed.arrays.access.grid_accessibility`, aggregated population-weighted
per zone. Returns an :class:`AccessMap`.
"""
from __future__ import annotations

import math
import time
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..arrays.access import FCA_METHODS, grid_accessibility
from ..constants import LUO_QI_STEPS_MIN
from ..errors import UsageError
from ..io.fields import as_list
from ..mapping import (add_colourbar, draw_polygons, frame_zones, legend_beside, map_axes,
                       new_figure, place_labels, place_name, robust_scale)
from ..placement import facility_values, place_facilities, point_columns
from ..prepared import PreparedStudy
from ..io.qgis_styles import rate_style
from ..results import (Result, facility_layer_style, headline_prefix, modelled_notes, notes_frame, points_frame,
                       zones_layer)

__all__ = ["AccessMap", "run", "parse_steps"]


def parse_steps(text) -> dict:
    """Step weights ``"10:1,20:0.68,30:0.22"`` (inclusive upper bound in minutes : weight) as a dict; a dict
    passes through (checked)."""
    if text is None:
        return None
    if isinstance(text, Mapping):
        items = list(text.items())
    else:
        items = []
        for part in str(text).split(","):
            bound, sep, weight = part.strip().partition(":")
            if not sep:
                raise UsageError(f"steps: {part.strip()!r} is not MINUTES:WEIGHT; write e.g. 10:1,20:0.68,30:0.22")
            items.append((bound, weight))
    out = {}
    for bound, weight in items:
        try:
            b, w = float(bound), float(weight)
        except (TypeError, ValueError):
            raise UsageError(f"steps: {bound}:{weight} — bound and weight must be numbers, e.g. "
                             "10:1,20:0.68") from None
        if not (math.isfinite(b) and b >= 0 and math.isfinite(w) and w >= 0):
            raise UsageError(f"steps: {bound}:{weight} — bounds are minutes >= 0 and weights finite numbers >= 0")
        if b in out:
            raise UsageError(f"steps: the bound {b:g} minutes is given twice")
        out[b] = w
    if not out:
        raise UsageError("steps: give at least one MINUTES:WEIGHT step, e.g. 10:1,20:0.68,30:0.22")
    return dict(sorted(out.items()))


class AccessMap(Result):
    """The result of :meth:`careshed.Study.access`.

    Attributes
    ----------
    table : DataFrame, one row per zone (index = zone id), an ``"outside every zone"`` row when the population
        raster puts people on the grid outside every zone (as :class:`careshed.Reach`), and a region row (all of
        them): kept fields, ``population``,
        ``population_no_access`` (no facility within the catchment), ``score`` (population-weighted mean of
        the cells' scores over people with access: supply per resident) and ``<supply>_per_<per>`` (score ×
        per, e.g. beds_per_1000).
    facilities : DataFrame per facility: name, zone, x/y, row/col, status, snapped_m, ``supply``,
        ``supply_ratio`` (R_j: supply per weighted resident of its catchment; NaN nobody in reach).
    score : (H, W) float64 per cell (NaN: nobody lives there, or no facility within the catchment).
    diagnostics : counts, conservation (Σ demand × score = Σ supply of the facilities with demand in reach);
        ``report(path)`` is the common Result method that writes the HTML report.
    grid, study, method, max_minutes, steps, per, supply_name, notes, modelled.
    """

    default_prefix = "access"

    def summary(self) -> str:
        r = self.table.iloc[-1]
        return (f"{headline_prefix(self.modelled)}{self.method.upper()} within {self.max_minutes:g} min: "
                f"{self.study.region_label} {r[self.rate_column]:.2f} {self.supply_name} per {self.per:g} residents "
                f"with access; {r['population_no_access']:,.0f} people with no {self.label} in reach; conservation "
                f"error {self.diagnostics.get('conservation_relative_error', float('nan')):.1e}")

    @property
    def rate_column(self) -> str:
        return f"{self.supply_name}_per_{self.per:g}"

    @property
    def conservation(self) -> dict:
        keys = ("supply_total", "supply_with_demand", "demand_times_score", "conservation_relative_error",
                "zero_demand_supplies", "empty_catchments")
        return {k: self.diagnostics[k] for k in keys if k in self.diagnostics}

    def _raster_layers(self) -> dict:
        """``score``: the per-cell score × per (e.g. beds per 1000), NaN = nobody lives there / no facility in
        reach."""
        return {"score": ((self.score * self.per).astype(np.float32), None,
                          {"UNITS": f"{self.supply_name} per {self.per:g} residents ({self.method}, "
                                    f"{self.max_minutes:g} min)"})}

    def _layers(self) -> dict:
        """GeoPackage layers: ``zones`` (polygons + the zone table), ``region``, ``facilities`` (points), ``notes``."""
        region = self.table.iloc[len(self.study.ids):].reset_index()   # "outside every zone" (if any), region
        region[region.columns[0]] = region[region.columns[0]].astype(str)
        return {"zones": zones_layer(self.study, self.table), "region": region,
                "facilities": points_frame(self.facilities, self.grid.crs), "notes": notes_frame(self.notes)}

    def _layer_styles(self, layers: dict) -> dict:
        """zones: the rate per N residents with access (quintiles: access has no target); facilities."""
        zones = layers["zones"]
        return {"zones": rate_style(self.rate_column, zones[self.rate_column].tolist(),
                                    unit=f"{self.supply_name} per {self.per:g} residents with access",
                                    name=f"{self.supply_name} per {self.per:g}"),
                "facilities": facility_layer_style(layers["facilities"])}

    def _extra_tables(self) -> dict:
        return {"facilities": (self.facilities, self.notes)}

    def plot(self, path=None, *, title=None, dpi=120, vmax=None, labels=None, outlines=None, outline_label=None,
             subtitle=None):
        """Map of the per-cell score × per with zone outlines, zone labels (population-weighted values, placed
        without overlap), facilities, the colour bar beside the map (cividis, clipped at Tukey's fences and
        saying so; `vmax` sets the top instead); MODELLED in the title when an input is. `labels`: {zone id:
        text} replacing the zone labels; `outlines`: extra polygons (e.g. catchments, grid CRS) drawn dashed,
        named `outline_label` in the legend; `subtitle` replaces the line under the title."""
        from matplotlib.colors import ListedColormap, Normalize
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        fig = new_figure(dpi=dpi)
        ax = map_axes(fig)
        g = self.grid
        vals = self.score * self.per
        scale = robust_scale(vals)
        if vmax is not None:
            scale.hi = float(vmax)
            scale.lo = min(scale.lo, 0.0)
            scale.norm = Normalize(vmin=scale.lo, vmax=scale.hi if scale.hi > scale.lo else scale.lo + 1.0)
        x0, y0, x1, y1 = g.bounds
        ax.imshow(np.ma.masked_invalid(vals), cmap=scale.cmap, norm=scale.norm, extent=(x0, x1, y0, y1),
                  origin="upper", interpolation="nearest", zorder=1)
        # people with none in reach: white, hatched (cividis spans every lightness, so no flat colour would
        # stay distinct in greyscale)
        none = (np.nan_to_num(self.study.population) > 0) & ~np.isfinite(self.score)
        if none.any():
            ax.imshow(np.where(none, 1.0, np.nan), cmap=ListedColormap(["white"]),
                      extent=(x0, x1, y0, y1), origin="upper", interpolation="nearest", zorder=2)
            dx, dy = g.cell_size
            ax.contourf(x0 + (np.arange(g.width) + 0.5) * dx, y1 - (np.arange(g.height) + 0.5) * dy,
                        none.astype(np.float32), levels=[0.5, 1.5], colors="none", hatches=["////"], zorder=2.5)
        draw_polygons(ax, list(self.study.zones.geometry), fill=False, edgecolor="#111111", linewidth=1.0, zorder=3)
        handles = [Patch(facecolor="white", edgecolor="#555555", hatch="////", label="people with no facility in "
                                                                                     "reach"),
                   Line2D([], [], marker="P", color="#e66101", markeredgecolor="white", linestyle="none",
                          label=self.label),
                   Line2D([], [], color="#111111", label="zones")]
        if outlines is not None:
            geoms = list(getattr(outlines, "geometry", outlines))
            draw_polygons(ax, geoms, fill=False, edgecolor="#f0f0f0", linewidth=1.4, zorder=4)
            draw_polygons(ax, geoms, fill=False, edgecolor="#e66101", linewidth=0.9, zorder=4, linestyle="--")
            handles.append(Line2D([], [], color="#e66101", linestyle="--", label=outline_label or "outlines"))
        f = self.facilities
        placed = f["status"].isin(["on grid", "snapped"]).to_numpy()
        ax.scatter(f["x"].to_numpy()[placed], f["y"].to_numpy()[placed], marker="P", s=70, c="#e66101",
                   edgecolors="white", linewidths=0.8, zorder=7)
        frame_zones(ax, self.study.zones)
        label_field = self.study.keep[-1] if self.study.keep else None
        items = []
        for i, geom in enumerate(self.study.zones.geometry):
            v = self.table[self.rate_column].iloc[i]
            name = str(self.study.zones[label_field].iloc[i]) if label_field else str(self.study.ids[i])
            pt = geom.representative_point()
            text = labels.get(self.study.ids[i], f"{name}\n{v:.2f}") if labels else f"{name}\n{v:.2f}"
            items.append((pt.x, pt.y, text, self.table["population"].iloc[i]))
        zl = place_labels(ax, items, kind="area", fontsize=7.5 if labels else 8, zorder=9)
        legend_beside(fig, handles)
        add_colourbar(fig, scale, f"{self.supply_name} per {self.per:g} residents ({self.method.upper()}, within "
                      f"{self.max_minutes:g} min)", unit=f"per {self.per:g}")
        r = self.table.iloc[-1]
        place = place_name(self.study)
        return self.finish_map(
            fig, title or f"{headline_prefix(self.modelled)}{place}: {self.supply_name} per "
            f"{self.per:g} residents within {self.max_minutes:g} min ({self.method.upper()})",
            subtitle or f"zone labels: population-weighted {self.supply_name} per {self.per:g}; "
            f"{place} {r[self.rate_column]:.2f}; {r['population_no_access']:,.0f} people with none "
            "in reach", ".", path, extra_notes=[zl.note("zones")])


def run(study: PreparedStudy, facilities, *, supply, max_minutes, method="e2sfca", steps=None, per=1000.0,
                 supply_name=None, normalize=False, facility_id=None, name_field=None, layer=None, x=None, y=None,
                 crs=None, snap_max_m=None, unplaced="error", neighbours=8, label="facilities", modelled=None,
                 notes=None) -> AccessMap:
    """Floating catchment accessibility (2SFCA family) of `facilities` for the study's people.

    Parameters
    ----------
    supply : field name of the facilities (e.g. "beds"), one number, or values per facility.
    max_minutes : the catchment, inclusive (a cell exactly max_minutes from a facility is in its catchment).
    method : "2sfca", "e2sfca" (default; Luo & Qi steps on thirds of max_minutes unless `steps`), "g2sfca",
        "3sfca" or "gravity" — see docs/access.md for the formulas.
    steps : step weights ``{upper minutes: weight}`` or ``"10:1,20:0.68,30:0.22"`` (inclusive bounds).
    per : the score is supply per resident; columns and maps show score × per (default per 1000).
    supply_name : name of the supply in outputs (default: the field name, else "supply").
    normalize : divide scores by the population-weighted mean (1 = regional average).
    Facilities are read and placed like :meth:`careshed.Study.catchments`.
    """
    study.require_symmetric_travel("access")
    if method not in FCA_METHODS:
        raise UsageError(f"method {method!r}: use one of {', '.join(FCA_METHODS)}")
    try:
        max_minutes = float(max_minutes)
    except (TypeError, ValueError):
        raise UsageError(f"max_minutes: {max_minutes!r} must be a number of minutes") from None
    if not (math.isfinite(max_minutes) and max_minutes > 0):
        raise UsageError(f"max_minutes: {max_minutes!r} must be a positive number of minutes")
    per = float(per)
    if not (math.isfinite(per) and per > 0):
        raise UsageError(f"per: {per!r} must be a positive number of residents (e.g. 1000)")
    weights = parse_steps(steps)
    if weights is not None and method in ("g2sfca", "gravity"):
        raise UsageError(f"steps: method {method!r} has its own weights; steps go with 2sfca, e2sfca or 3sfca")
    if weights is not None and max(weights) > max_minutes + 1e-9:
        raise UsageError(f"steps: the last bound ({max(weights):g} min) lies beyond max_minutes ({max_minutes:g}); "
                         "the catchment ends at max_minutes")
    t0 = time.perf_counter()
    st, used, rr, cc, moved, status, st_zone, place_notes = place_facilities(
        study, facilities, facility_id=facility_id, name_field=name_field, layer=layer, x=x, y=y, crs=crs,
        snap_max_m=snap_max_m, unplaced=unplaced, what=label)
    sup = facility_values(st, supply, "supply")
    name = supply_name or (supply if isinstance(supply, str) else "supply")
    rc = np.ascontiguousarray(np.column_stack([rr[used], cc[used]]), dtype=np.int64)
    zones, zone_ids = study.zones_counting_everybody()   # + "outside every zone" when people live there
    # On terrain each facility is searched alone on directed costs (the terrain model's direction: patients to the
    # facility by default), with tiles= tile by tile on Dask; otherwise the engine searches the friction itself.
    lists = (study.reach_lists(rc, max_minutes * 60.0, int(neighbours))
             if study.searches_reach_lists(len(rc), max_minutes * 60.0) else None)
    r = grid_accessibility(study.friction, study.population, rc, sup[used], max_minutes=max_minutes, method=method,
                           weights=weights, zones=zones, zone_ids=zone_ids,
                           neighbours=int(neighbours), normalize=bool(normalize), reach_lists=lists)
    out = AccessMap.__new__(AccessMap)
    out.study, out.grid, out.method, out.max_minutes, out.per, out.label = study, study.grid, method, max_minutes, \
        per, label
    out.supply_name = name
    out.score = r.score
    out.diagnostics = dict(r.report)
    if weights is not None:
        out.steps = weights
    elif method in ("e2sfca", "3sfca"):
        # Luo & Qi's weights on thirds of the catchment (their 10/20/30 minutes for a 30-minute one)
        out.steps = dict(zip((max_minutes / 3, 2 * max_minutes / 3, max_minutes), LUO_QI_STEPS_MIN.values()))
    else:
        out.steps = None
    z = r.zones
    tot = z["population"].to_numpy(dtype=np.float64)
    none = z["population_no_access"].to_numpy(dtype=np.float64)
    sc = z["score"].to_numpy(dtype=np.float64)
    w = tot - none
    reg = float(np.nansum(np.where(w > 0, sc * w, 0.0)) / w.sum()) if w.sum() > 0 else math.nan
    cols: dict[str, Any] = {k: list(study.frame[k].tolist()) + [None] * (len(zone_ids) - len(study.ids) + 1)
                            for k in study.keep}
    cols["population"] = np.append(tot, tot.sum())
    cols["population_no_access"] = np.append(none, none.sum())
    cols["score"] = np.append(sc, reg)
    cols[out.rate_column] = cols["score"] * per
    out.modelled = study.modelled or bool(modelled)
    wtxt = ("steps " + ", ".join(f"<= {b:g} min: {v:g}" for b, v in out.steps.items())) if out.steps else \
        {"2sfca": "weight 1 inside", "g2sfca": "Gaussian weight reaching 0 at the catchment size",
         "gravity": "gravity weights"}.get(method, "")
    out.notes = list(study.notes) + modelled_notes(modelled) + place_notes + [str(v) for v in as_list(notes)] + [
        f"{method.upper()} within {max_minutes:g} min of travel (inclusive), {wtxt}; score = {name} per resident, "
        f"shown x {per:g}; zone values are population-weighted means over the people with any of the {label} in reach; "
        "NaN / population_no_access: nobody or no facility in reach",
        f"conservation: sum(population x score) = {out.diagnostics.get('demand_times_score', math.nan):,.4f} vs "
        f"{name} of the {label} with people in reach {out.diagnostics.get('supply_with_demand', math.nan):,.4f} "
        f"(relative error {out.diagnostics.get('conservation_relative_error', math.nan):.1e})"]
    out.table = pd.DataFrame(cols, index=pd.Index(zone_ids + [study.region_label], name=study.zone_id))
    out.table.attrs["notes"] = out.notes
    fcols = point_columns(st, study, st_zone, rr, cc, moved, status)
    fcols["supply"] = sup
    ratio = np.full(len(st.ids), np.nan)
    ratio[used] = r.supply_ratio
    fcols["supply_ratio"] = ratio
    fcols[f"{name}_per_{per:g}_of_catchment"] = ratio * per
    out.facilities = pd.DataFrame(fcols, index=pd.Index(st.ids, name="facility"))
    out.timings = {"total": time.perf_counter() - t0}
    return out
