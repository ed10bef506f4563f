"""Nearest-facility catchments, and the AccessMod capacity-aware coverage, on a :class:`careshed.Study`.

``study.catchments(facilities, ...)`` (implemented by :func:`run`): per facility the people it is nearest to by
travel time, area, resources per 1000 of those people, mean / p90 minutes, display polygons; with a capacity
also the capacity-aware coverage (:func:`careshed.arrays.catchments.capacity_coverage`): per facility covered
people and when its capacity ran out, per zone the covered share. Returns a :class:`Catchments`.
"""
from __future__ import annotations

import math
import time
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..arrays.catchments import capacity_coverage, catchments
from ..arrays.zonal import zonal_sum
from ..constants import METADATA_MAX_CHARS
from ..errors import InputError, UsageError
from ..io.fields import as_list
from ..mapping import (add_colourbar, draw_polygons, frame_zones, legend_beside, map_axes, new_figure, place_labels,
                       place_name, robust_scale)
from ..placement import facility_values, place_facilities, point_columns
from ..prepared import PreparedStudy
from ..io.qgis_styles import category_style, neighbour_colours, outline_style
from ..results import (Result, coverage_layer_style, facility_layer_style, headline_prefix, minutes_raster_style,
                       modelled_notes, notes_frame, points_frame, zones_layer)

__all__ = ["Catchments", "run", "resources_spec"]


def resources_spec(resources) -> dict:
    """{output name: field/values} from a dict, a field name or a list of field names."""
    if resources is None:
        return {}
    if isinstance(resources, str):
        return {resources: resources}
    if isinstance(resources, Mapping):
        return {str(k): v for k, v in resources.items()}
    return {str(r): r for r in resources}


class Catchments(Result):
    """The result of :meth:`careshed.Study.catchments`.

    Attributes
    ----------
    table : DataFrame, one row per facility (index = facility id): name, zone (the zone its point stands in), x/y
        (grid CRS), row/col, status, snapped_m, ``population`` (people whose nearest facility — by travel time,
        within max_minutes — it is), ``cells``, ``area_km2``, ``mean_minutes``, ``p90_minutes``, each resource
        ``R`` and ``R_per_1000`` (per 1000 residents of the catchment; NaN when nobody lives in it); with a
        capacity also ``capacity``, ``covered``, ``capacity_remaining``, ``exhausted``, ``exhausted_minutes``,
        ``rank``, ``reachable_population``.
    zone_table : DataFrame, one row per zone (index = zone id) and a region row: ``population``,
        ``population_reached`` (nearest facility within max_minutes), ``population_unreached``, and with a
        capacity ``covered`` / ``covered_share`` (capacity-aware coverage). ``zones`` is the same with the zone
        polygons (a GeoDataFrame).
    polygons : GeoDataFrame of the catchment polygons (display only; people are counted on the grid).
    capacity : the :class:`careshed.CapacityCoverage`, or None.
    seconds, nearest : travel minutes ×60 (float32, inf unreachable) and nearest facility index (into ``table``,
        -1 none) per cell; grid, study, notes, modelled, totals.
    """

    default_prefix = "catchments"
    zone_table = None  # set by run()

    def summary(self) -> str:
        t = self.totals
        head = (f"{headline_prefix(self.modelled)}Catchments of {len(self.table)} {self.label}"
                f"{f' within {self.max_minutes:g} min' if self.max_minutes is not None else ''}: "
                f"{t['reached_population']:,.0f} of {t['total_population']:,.0f} people in a catchment")
        if self.capacity is not None:
            head += (f"; capacity-aware coverage {self.capacity.total_covered:,.0f} people "
                     f"({self.capacity.covered_share:.1%})")
        return head

    def _html_table(self) -> pd.DataFrame:
        return self.table.drop(columns=["x", "y", "row", "col"])

    @property
    def minutes(self) -> np.ndarray:
        return self.seconds / np.float32(60.0)

    def _layers(self) -> dict:
        """GeoPackage layers: ``catchments`` (polygons + the facility numbers), ``facilities`` (points), ``zones``
        (polygons + the zone table), ``region`` and ``notes``; grid CRS."""
        polys = self.polygons.copy()
        numbers = self.table.drop(columns=["x", "y", "row", "col", "cells", "area_km2"], errors="ignore")
        polys.index = self.table.index
        for col in numbers.columns:
            v = numbers[col]
            # text columns: None (not NaN) for missing values, so the layer field stays a string field
            polys[col] = v.astype(object).where(v.notna(), None).to_numpy() if v.dtype == object else v.to_numpy()
        polys.insert(0, "facility_id", [str(i) for i in self.table.index])
        polys["note"] = "display only: people are counted on the grid" + (" — MODELLED inputs" if self.modelled
                                                                          else "")
        region = self.zone_table.iloc[len(self.study.ids):].reset_index()   # "outside every zone" (if any), region
        region[region.columns[0]] = region[region.columns[0]].astype(str)
        return {"catchments": polys.reset_index(drop=True), "facilities": points_frame(self.table, self.grid.crs),
                "zones": zones_layer(self.study, self.zone_table), "region": region, "notes": notes_frame(self.notes)}

    def _layer_styles(self, layers: dict) -> dict:
        """catchments: one colour per facility (neighbours differ); facilities; zones: covered share against the
        target with a capacity, else outlines over the catchments."""
        polys = layers["catchments"]
        names = polys["name"] if "name" in polys.columns else polys["facility_id"]
        labels = [f"{n} ({i})" if isinstance(n, str) and n and n != str(i) else str(i)
                  for n, i in zip(names, polys["facility_id"])]
        styles = {"catchments": category_style("facility_id", list(polys["facility_id"]), labels,
                                               name="catchment by facility",
                                               colours=neighbour_colours(list(polys.geometry))),
                  "facilities": facility_layer_style(layers["facilities"]),
                  "zones": outline_style(name="zones")}
        if "covered_share" in layers["zones"].columns:
            styles["zones"] = coverage_layer_style("covered_share", what="covered within capacity")
        return styles

    def _raster_styles(self) -> dict:
        limit = [self.max_minutes] if self.max_minutes is not None else []
        return {"minutes": minutes_raster_style(self.minutes, limit + [15.0, 30.0, 60.0])}

    def _raster_layers(self) -> dict:
        """``nearest`` (facility index per cell, -1 none; ids in the metadata), ``minutes`` (to the nearest
        facility, NaN unreachable) and, with a capacity, ``capacity_uncovered`` (people left uncovered per cell)."""
        m = np.where(np.isfinite(self.seconds), self.seconds / np.float32(60.0), np.float32(np.nan)).astype(np.float32)
        ids = "|".join(str(i) for i in self.table.index)
        layers = {"nearest": (self.nearest.astype(np.int32), -1, {"VALUES": "index of the nearest facility, -1 none",
                                                                  "FACILITY_IDS": ids[:METADATA_MAX_CHARS]}),
                  "minutes": (m, None, {"UNITS": "minutes to the nearest facility"})}
        if self.capacity is not None:
            layers["capacity_uncovered"] = (self.capacity.uncovered.astype(np.float32), None,
                                            {"UNITS": "people left uncovered per cell (capacity-aware coverage)"})
        return layers

    def _extra_tables(self) -> dict:
        tables = {"zones": (self.zone_table, self.notes)}
        if self.capacity is not None:
            tables["capacity"] = (self.capacity_table, self.notes + [self.capacity_rule])
        return tables

    def plot(self, path=None, *, title=None, dpi=120, max_labels=30):
        """Map: catchment polygons shaded by the first resource per 1000 (cividis, clipped at Tukey's fences and
        saying so) or by facility, zone outlines, facilities, labels placed without overlap (the most people
        first, at most `max_labels`); the legend beside the map; MODELLED in the title when an input is. Returns
        the Figure; with `path` writes a PNG (PDF for ``.pdf``)."""
        from matplotlib import colormaps
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        fig = new_figure(dpi=dpi)
        ax = map_axes(fig)
        polys = self.polygons
        rate_col = next((c for c in self.table.columns if c.endswith("_per_1000")), None)
        scale = None
        if rate_col is not None:
            rates = self.table[rate_col].to_numpy(dtype=float)
            scale = robust_scale(rates)
            colours = [scale.cmap(scale.norm(r)) if np.isfinite(r) else (0.85, 0.85, 0.85, 1) for r in rates]
        else:
            cmap = colormaps["tab20"]
            colours = [cmap(i % 20) for i in range(len(polys))]
        draw_polygons(ax, list(polys.geometry), facecolors=colours, edgecolor="#555555", linewidth=0.6)
        draw_polygons(ax, list(self.study.zones.geometry), fill=False, edgecolor="#111111", linewidth=1.0, zorder=3)
        t = self.table
        placed = t["status"].isin(["on grid", "snapped"]).to_numpy()
        ax.scatter(t["x"].to_numpy()[placed], t["y"].to_numpy()[placed], marker="P", s=60, c="#e66101",
                   edgecolors="white", linewidths=0.8, zorder=7)
        frame_zones(ax, self.study.zones)
        items = []
        for i, (fid, row) in enumerate(t.iterrows()):
            if not placed[i]:
                continue
            name = row["name"] if "name" in t.columns and isinstance(row["name"], str) and row["name"] else str(fid)
            txt = f"{name[:32]}\n{row['population']:,.0f} people"
            if rate_col is not None and np.isfinite(row[rate_col]):
                txt += f"\n{row[rate_col]:.2f} {rate_col.replace('_per_1000', '')}/1000"
            items.append((row["x"], row["y"], txt, row["population"]))
        fl = place_labels(ax, items, fontsize=7, max_labels=max_labels)
        handles = [Line2D([], [], marker="P", color="#e66101", markeredgecolor="white", linestyle="none",
                          label=self.label),
                   Patch(facecolor="none", edgecolor="#111111", label="zones"),
                   Patch(facecolor=(0.85, 0.85, 0.85, 1), edgecolor="#555555", label="catchment where nobody lives")]
        legend_beside(fig, handles)
        if scale is not None:
            add_colourbar(fig, scale, f"{rate_col.replace('_per_1000', '')} per 1000 residents of the catchment",
                          unit="per 1000")
        lim = f" within {self.max_minutes:g} min" if self.max_minutes is not None else ""
        tot = self.totals
        return self.finish_map(
            fig, title or f"{headline_prefix(self.modelled)}{place_name(self.study)}: catchments of the nearest "
            f"{self.label} by travel time{lim}",
            f"{tot['reached_population']:,.0f} of {tot['total_population']:,.0f} people in a catchment",
            "; polygons are for display.", path, extra_notes=[fl.note(self.label)])


def run(study: PreparedStudy, facilities, *, resources=None, capacity=None, patients_per_bed=None,
                     max_minutes=None, capacity_max_minutes=None, band_minutes=1.0, order="population",
                     facility_id=None, name_field=None, layer=None, x=None, y=None, crs=None, snap_max_m=None,
                     unplaced="error", neighbours=8, label="facilities", modelled=None, notes=None) -> Catchments:
    """Nearest-facility catchments (and optionally capacity-aware coverage) on a study's grid and people.

    Parameters
    ----------
    study : careshed.Study — grid, zones, population and friction (see careshed.reach).
    facilities : points (path, GeoDataFrame, or CSV with `x`/`y` + `crs`), placed like Study.reach's stations
        (snapped off impassable cells within `snap_max_m`; `unplaced="skip"` leaves unplaceable ones out).
    resources : field name(s) of the facilities, or ``{"beds": "beds_field" or values}``: each gives ``R`` and
        ``R_per_1000`` (per 1000 residents of the catchment).
    capacity : field name, number or values: people each facility can serve; multiplied by `patients_per_bed`
        when given (capacity = beds × patients per bed). Enables the AccessMod capacity-aware coverage.
    max_minutes : catchments only reach this far (cells beyond belong to no catchment); default no limit.
    capacity_max_minutes : maximum time of the capacity coverage, INCLUSIVE (default `max_minutes`, required
        for coverage). band_minutes: its time bands (default 1 min, ((k-1)b, kb]); order: "population"
        (default, descending people within the maximum), "index", or a field / values (processed descending).
    facility_id, name_field, layer, x, y, crs : how to read the facilities.
    label, modelled, notes : naming, and MODELLED marks for this call's inputs (e.g. modelled positions).
    """
    t0 = time.perf_counter()
    st, used, rr, cc, moved, status, st_zone, place_notes = place_facilities(
        study, facilities, facility_id=facility_id, name_field=name_field, layer=layer, x=x, y=y, crs=crs,
        snap_max_m=snap_max_m, unplaced=unplaced, what=label)
    n = len(st.ids)
    res = {name: facility_values(st, spec, f"resource {name!r}") for name, spec in resources_spec(resources).items()}
    if max_minutes is not None:
        max_minutes = float(max_minutes)
        if not (math.isfinite(max_minutes) and max_minutes > 0):
            raise UsageError(f"max_minutes: {max_minutes!r} must be a positive number of minutes")
    grid = study.grid
    sources = np.ascontiguousarray(np.column_stack([rr[used], cc[used]]), dtype=np.int64)
    seconds, near_used = study.nearest_travel_time(sources, np.zeros(used.size),
                                                   None if max_minutes is None else max_minutes * 60.0,
                                                   int(neighbours))
    nearest = np.where(near_used >= 0, used.astype(np.int32)[np.maximum(near_used, 0)], -1).astype(np.int32)
    ids = pd.Index(st.ids, name="facility")
    table = catchments(seconds, nearest, study.population, grid, resources=res or None, n_facilities=n,
                       polygons=True)
    out = Catchments.__new__(Catchments)
    out.study, out.grid, out.label, out.max_minutes = study, grid, label, max_minutes
    out.seconds, out.nearest = seconds, nearest
    out.totals = dict(table.totals)
    out.polygons = table.polygons
    cols = point_columns(st, study, st_zone, rr, cc, moved, status)
    for c in table.columns:
        if c != "facility":
            cols[c] = table[c].to_numpy()
    out.modelled = study.modelled or bool(modelled)
    lim = f"within {max_minutes:g} min" if max_minutes is not None else "with no time limit"
    out.notes = list(study.notes) + modelled_notes(modelled) + place_notes + [str(v) for v in as_list(notes)] + [
        f"catchment of each of the {label} = the cells it is the nearest to by travel time ({lim}; ties to the "
        "lowest facility index); resources per 1000 residents of the catchment; NaN when nobody lives in it",
        f"p90_minutes is exact to {out.totals['bin_seconds']:g} s (histogram bins; never below the exact percentile)"]

    # -- per zone: people reached --------------------------------------------------------------
    pop = np.nan_to_num(study.population)
    reached = np.where(nearest >= 0, pop, 0.0)
    zones, zone_ids = study.zones_counting_everybody()   # + "outside every zone" when people live there
    zpop = np.asarray(zonal_sum(pop, zones), dtype=np.float64)[:len(zone_ids)]
    zreach = np.asarray(zonal_sum(reached, zones), dtype=np.float64)[:len(zone_ids)]
    zcols: dict[str, Any] = {k: list(study.frame[k].tolist()) + [None] * (len(zone_ids) - len(study.ids) + 1)
                             for k in study.keep}
    zcols["population"] = np.append(zpop, zpop.sum())
    zcols["population_reached"] = np.append(zreach, zreach.sum())
    zcols["population_unreached"] = zcols["population"] - zcols["population_reached"]

    # -- capacity-aware coverage ---------------------------------------------------------------
    out.capacity = None
    out.capacity_table = None
    if capacity is not None:
        cap = facility_values(st, capacity, "capacity")
        if patients_per_bed is not None:
            ppb = float(patients_per_bed)
            if not (math.isfinite(ppb) and ppb > 0):
                raise InputError(f"patients_per_bed: {patients_per_bed!r} must be a positive number")
            cap = cap * ppb
        cmax = capacity_max_minutes if capacity_max_minutes is not None else max_minutes
        if cmax is None:
            raise InputError("capacity coverage needs a maximum travel time: give max_minutes (or "
                             "capacity_max_minutes), e.g. 60")
        if isinstance(order, str) and order not in ("index", "population"):
            order_values = facility_values(st, order, "order")[used]
        elif isinstance(order, str):
            order_values = order
        else:
            order_values = np.asarray(order, dtype=np.float64)[used]
        if study.ride is not None:
            raise UsageError("catchments: capacity coverage needs per-facility searches, which walk then ride "
                             "(travel={'modes': ...}) does not provide yet; leave the capacity out")
        cov = capacity_coverage(study.friction, sources, study.population, cap[used], max_minutes=float(cmax),
                                band_minutes=float(band_minutes), order=order_values, zones=zones,
                                zone_ids=zone_ids, neighbours=int(neighbours))
        out.capacity = cov
        f = cov.facilities
        ct = pd.DataFrame(index=ids)
        if st.names is not None:
            ct["name"] = st.names
        ct["capacity"] = cap
        for c in ("rank", "reachable_population", "covered", "capacity_used", "capacity_remaining", "exhausted",
                  "exhausted_minutes", "cells_reached"):
            full = np.full(n, np.nan) if c != "exhausted" else np.zeros(n, dtype=bool)
            full[used] = f[c].to_numpy()
            ct[c] = full
        out.capacity_table = ct
        for c in ("covered", "capacity_remaining", "exhausted", "exhausted_minutes", "rank"):
            cols[f"capacity_{c}" if c in ("exhausted", "rank") else c] = ct[c].to_numpy()
        cols["capacity"] = cap
        zt = cov.zones
        zcols["covered"] = np.append(zt["covered"].to_numpy(), zt["covered"].sum())
        zcols["covered_share"] = np.where(zcols["population"] > 0, zcols["covered"] / np.maximum(zcols["population"],
                                                                                                  1e-300), np.nan)
        out.capacity_rule = (f"capacity-aware coverage (AccessMod): facilities in order "
                             f"{order if isinstance(order, str) else 'given'} each take the remaining people in "
                             f"{float(band_minutes):g}-minute bands ((k-1)b, kb] up to {float(cmax):g} min "
                             "(inclusive) until capacity is used; the last band fractionally"
                             + (f"; capacity = capacity field x {float(patients_per_bed):g} patients per bed"
                                if patients_per_bed is not None else ""))
        out.notes.append(out.capacity_rule)
    out.table = pd.DataFrame(cols, index=ids)
    out.table.attrs["notes"] = out.notes
    out.zone_table = pd.DataFrame(zcols, index=pd.Index(zone_ids + [study.region_label], name=study.zone_id))
    out.zone_table.attrs["notes"] = out.notes
    out.timings = {"total": time.perf_counter() - t0}
    return out
