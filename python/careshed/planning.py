"""Catchments and floating-catchment accessibility on a :class:`careshed.Study` — the planner's level.

A :class:`careshed.Study` already holds the analysis grid, the zones on it, the people per cell and the friction
surface (see careshed.reach). This module places a set of facilities (hospitals) on that grid, exactly as
:meth:`Study.reach` places stations, and runs the array-level algorithms on it:

* :func:`study_catchments` — nearest-facility catchments (:func:`careshed.catchments`): per facility the people
  it is nearest to (by travel time), area, resources per 1000 of those people, mean / p90 minutes, display
  polygons; with a capacity, also the AccessMod capacity-aware coverage (:func:`careshed.capacity_coverage`):
  per facility covered people and when its capacity ran out, per zone the covered share.
* :func:`study_access` — the 2SFCA family on the grid (:func:`careshed.grid_accessibility`): a score per cell
  (supply per resident, × ``per`` = e.g. beds per 1000), aggregated population-weighted per zone.

Both return result objects with ``.table`` (pandas), ``.plot()``, ``.to_geopackage()``, ``.save(folder)``;
every output carries the study's notes, and says MODELLED when an input is marked modelled. No algorithm lives
here: this module only wires, checks inputs and shapes outputs.
"""
from __future__ import annotations

import math
import time
import warnings
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from . import _core
from .density import write_table
from .errors import InputError
from .reach import (Study, _as_list, _modelled_notes, _place_all, _point_columns, _read_stations, _snap_distance,
                    _travel_time)

__all__ = ["study_catchments", "study_access", "Catchments", "AccessMap", "parse_steps"]


# ---- helpers ------------------------------------------------------------------------------------

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
                raise InputError(f"steps: {part.strip()!r} is not MINUTES:WEIGHT; write e.g. 10:1,20:0.68,30:0.22")
            items.append((bound, weight))
    out = {}
    for bound, weight in items:
        try:
            b, w = float(bound), float(weight)
        except (TypeError, ValueError):
            raise InputError(f"steps: {bound}:{weight} — bound and weight must be numbers, e.g. "
                             "10:1,20:0.68") from None
        if not (math.isfinite(b) and b >= 0 and math.isfinite(w) and w >= 0):
            raise InputError(f"steps: {bound}:{weight} — bounds are minutes >= 0 and weights finite numbers >= 0")
        if b in out:
            raise InputError(f"steps: the bound {b:g} minutes is given twice")
        out[b] = w
    if not out:
        raise InputError("steps: give at least one MINUTES:WEIGHT step, e.g. 10:1,20:0.68,30:0.22")
    return dict(sorted(out.items()))


def _place_facilities(study: Study, facilities, *, facility_id, name_field, layer, x, y, crs, snap_max_m, unplaced,
                      what):
    """Read and place facilities on the study's grid (Study.reach's rules). Returns (st, used, rr, cc, moved,
    status, zone index per facility, notes)."""
    grid = study.grid
    snap = _snap_distance(grid, snap_max_m, unplaced)
    st = _read_stations(facilities, grid, station_id=facility_id, name_field=name_field, turnout_seconds=None,
                        vehicles=None, layer=layer, x=x, y=y, crs=crs)
    rr, cc, moved, status, used, notes = _place_all(st, grid, np.isfinite(study.friction.seconds_per_metre), snap,
                                                    unplaced, what=what, one=what, stacklevel=4)
    from shapely import wkb as shapely_wkb
    zone_wkb = [shapely_wkb.dumps(g) for g in study.zones.geometry]
    st_zone = np.asarray(_core.assign_points_to_zones(zone_wkb, np.ascontiguousarray(st.x),
                                                      np.ascontiguousarray(st.y)), dtype=np.int64)
    return st, used, rr, cc, moved, status, st_zone, notes


def _values(st, spec, what: str) -> np.ndarray:
    """One float per facility: a field name of the facility layer, one number, or a sequence."""
    from .density import _numeric
    if isinstance(spec, str):
        v, _ = _numeric(st.frame, spec, what, ids=st.ids)
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


def _resources_spec(resources) -> dict:
    """{output name: field/values} from a dict, a field name or a list of field names."""
    if resources is None:
        return {}
    if isinstance(resources, str):
        return {resources: resources}
    if isinstance(resources, Mapping):
        return {str(k): v for k, v in resources.items()}
    return {str(r): r for r in resources}


def _points(frame: pd.DataFrame, crs):
    import geopandas as gpd
    from shapely.geometry import Point

    f = frame.reset_index()
    for c in f.columns:
        if f[c].dtype == object:
            f[c] = f[c].map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
    return gpd.GeoDataFrame(f, geometry=[Point(x, y) for x, y in zip(f["x"], f["y"])], crs=crs)


def _zones_layer(study: Study, table: pd.DataFrame):
    z = study.zones
    keep = [k for k in study.keep if k in z.columns and k != study.zone_id]
    layer = z[[study.zone_id] + keep + [z.geometry.name]].copy()
    numbers = table.iloc[:len(study.ids)].drop(columns=[k for k in study.keep if k in table.columns])
    for col in numbers.columns:
        layer[col] = numbers[col].to_numpy()
    return layer


def _notes_frame(notes) -> pd.DataFrame:
    return pd.DataFrame({"note": list(notes) or ["(none)"]})


def _save_png(fig, path) -> None:
    """save_png without one "Glyph ... missing" warning per character when labels use a script the installed
    fonts lack (e.g. Chinese names): those characters are drawn as boxes; use an English name field instead."""
    from .mapping import save_png
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from")
        save_png(fig, path)


def _headline_prefix(modelled: bool) -> str:
    return "MODELLED — " if modelled else ""


# ---- catchments ---------------------------------------------------------------------------------

class Catchments:
    """The result of :func:`study_catchments`.

    Attributes
    ----------
    table : DataFrame, one row per facility (index = facility id): name, zone (the zone its point stands in), x/y
        (grid CRS), row/col, status, snapped_m, ``population`` (people whose nearest facility — by travel time,
        within max_minutes — it is), ``cells``, ``area_km2``, ``mean_minutes``, ``p90_minutes``, each resource
        ``R`` and ``R_per_1000`` (per 1000 residents of the catchment; NaN when nobody lives in it); with a
        capacity also ``capacity``, ``covered``, ``capacity_remaining``, ``exhausted``, ``exhausted_minutes``,
        ``rank``, ``reachable_population``.
    zones : DataFrame, one row per zone (index = zone id) and a region row: ``population``,
        ``population_reached`` (nearest facility within max_minutes), ``population_unreached``, and with a
        capacity ``covered`` / ``covered_share`` (capacity-aware coverage).
    polygons : GeoDataFrame of the catchment polygons (display only; people are counted on the grid).
    capacity : the :class:`careshed.CapacityCoverage`, or None.
    seconds, nearest : travel minutes ×60 (float32, inf unreachable) and nearest facility index (into ``table``,
        -1 none) per cell; grid, study, notes, modelled, totals.
    """

    def __repr__(self) -> str:
        t = self.totals
        head = (f"{_headline_prefix(self.modelled)}Catchments of {len(self.table)} {self.label}"
                f"{f' within {self.max_minutes:g} min' if self.max_minutes is not None else ''}: "
                f"{t['reached_population']:,.0f} of {t['total_population']:,.0f} people in a catchment")
        if self.capacity is not None:
            head += (f"; capacity-aware coverage {self.capacity.total_covered:,.0f} people "
                     f"({self.capacity.covered_share:.1%})")
        return head + "\n" + self.table.to_string()

    def _repr_html_(self) -> str:
        import html
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes if n.startswith("MODELLED"))
        return (f"<p><b>{html.escape(repr(self).splitlines()[0])}</b></p>"
                + self.table.drop(columns=["x", "y", "row", "col"]).to_html(float_format=lambda v: f"{v:,.2f}")
                + (f"<ul>{notes}</ul>" if notes else ""))

    @property
    def minutes(self) -> np.ndarray:
        return self.seconds / np.float32(60.0)

    def to_csv(self, path) -> Path:
        """The facility table as CSV (notes as leading ``# `` lines), atomically."""
        return write_table(self.table, path, notes=self.notes)

    def to_geopackage(self, path) -> Path:
        """One GeoPackage (temporary name, then renamed): ``catchments`` (polygons + the facility numbers),
        ``facilities`` (points), ``zones`` (polygons + the zone table), ``region`` and ``notes``; grid CRS."""
        from .io import write_layers

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
        region = self.zones.iloc[[-1]].reset_index()
        region[region.columns[0]] = region[region.columns[0]].astype(str)
        write_layers(path, {"catchments": polys.reset_index(drop=True),
                            "facilities": _points(self.table, self.grid.crs),
                            "zones": _zones_layer(self.study, self.zones), "region": region,
                            "notes": _notes_frame(self.notes)})
        return Path(path)

    def to_geotiff(self, folder, *, prefix="catchments") -> dict:
        """COGs: ``PREFIX_nearest.tif`` (facility index per cell, -1 none; ids in the metadata) and
        ``PREFIX_minutes.tif`` (minutes to the nearest facility, NaN unreachable)."""
        from .raster import write_geotiff
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        meta = {f"CARESHED_NOTE_{i:02d}": n.replace("\n", " ") for i, n in enumerate(self.notes)}
        if self.modelled:
            meta["CARESHED_MODELLED"] = "yes: some inputs are MODELLED (see the notes)"
        m = np.where(np.isfinite(self.seconds), self.seconds / np.float32(60.0), np.float32(np.nan)).astype(np.float32)
        ids = "|".join(str(i) for i in self.table.index)
        return {
            "nearest": Path(write_geotiff(folder / f"{prefix}_nearest.tif", self.nearest.astype(np.int32), self.grid,
                                          nodata=-1, metadata={"VALUES": "index of the nearest facility, -1 none",
                                                               "FACILITY_IDS": ids[:30000], **meta})),
            "minutes": Path(write_geotiff(folder / f"{prefix}_minutes.tif", m, self.grid,
                                          metadata={"UNITS": "minutes to the nearest facility", **meta})),
        }

    def plot(self, path=None, *, title=None, dpi=120):
        """Map: catchment polygons shaded by the first resource per 1000 (or by facility), zone outlines,
        facilities, labels; MODELLED in the title when an input is. Returns the Figure; with `path` writes a PNG."""
        from matplotlib import colormaps
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        from .mapping import draw_polygons, frame_zones, map_footnotes, new_figure

        fig = new_figure(8.5, 8.6, dpi)
        ax = fig.add_axes([0.03, 0.14, 0.80, 0.72])
        polys = self.polygons
        rate_col = next((c for c in self.table.columns if c.endswith("_per_1000")), None)
        if rate_col is not None:
            rates = self.table[rate_col].to_numpy(dtype=float)
            fin = rates[np.isfinite(rates)]
            norm = Normalize(vmin=float(fin.min()) if fin.size else 0.0,
                             vmax=float(fin.max()) if fin.size and fin.max() > fin.min() else
                             (float(fin.max()) + 1.0 if fin.size else 1.0))
            cmap = colormaps["YlGnBu"]
            colours = [cmap(norm(r)) if np.isfinite(r) else (0.85, 0.85, 0.85, 1) for r in rates]
        else:
            cmap = colormaps["tab20"]
            colours = [cmap(i % 20) for i in range(len(polys))]
        draw_polygons(ax, list(polys.geometry), facecolors=colours, edgecolor="#555555", linewidth=0.6)
        draw_polygons(ax, list(self.study.zones.geometry), fill=False, edgecolor="#111111", linewidth=1.0, zorder=3)
        t = self.table
        placed = t["status"].isin(["on grid", "snapped"]).to_numpy()
        ax.scatter(t["x"].to_numpy()[placed], t["y"].to_numpy()[placed], marker="P", s=70, c="#b2182b",
                   edgecolors="white", linewidths=0.8, zorder=7)
        for i, (fid, row) in enumerate(t.iterrows()):
            if not placed[i]:
                continue
            name = row["name"] if "name" in t.columns and row["name"] else str(fid)
            txt = f"{name}\n{row['population']:,.0f} people"
            if rate_col is not None and np.isfinite(row[rate_col]):
                txt += f"\n{row[rate_col]:.2f} {rate_col.replace('_per_1000', '')}/1000"
            ax.annotate(txt, (row["x"], row["y"]), xytext=(6, 6), textcoords="offset points", fontsize=7.5,
                        bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.75), zorder=8)
        frame_zones(ax, self.study.zones)
        if rate_col is not None:
            cax = fig.add_axes([0.86, 0.2, 0.03, 0.58])
            cb = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax)
            cb.set_label(f"{rate_col.replace('_per_1000', '')} per 1000 residents of the catchment")
        lim = f" within {self.max_minutes:g} min" if self.max_minutes is not None else ""
        fig.suptitle(title or f"{_headline_prefix(self.modelled)}{self.study.region_label}: catchments of the "
                     f"nearest {self.label} by travel time{lim}", fontsize=11.5, y=0.975)
        tot = self.totals
        fig.text(0.5, 0.915, f"{tot['reached_population']:,.0f} of {tot['total_population']:,.0f} people in a "
                 f"catchment; grey = nobody lives in it", ha="center", fontsize=8.5)
        map_footnotes(fig, self.notes, self.grid, "; polygons are for display.")
        if path is not None:
            _save_png(fig, path)
        return fig

    def save(self, folder, *, prefix="catchments", draw_map=True) -> list:
        """``PREFIX.csv`` (facility table), ``PREFIX_zones.csv``, ``PREFIX.gpkg``, ``PREFIX.png`` and the COGs
        ``PREFIX_nearest.tif`` / ``PREFIX_minutes.tif``; with a capacity ``PREFIX_capacity.csv`` (per facility)
        and ``PREFIX_capacity_uncovered.tif`` (people left uncovered per cell). Each file is written under a
        temporary name and renamed. Returns the paths."""
        from .raster import write_geotiff
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = [self.to_csv(folder / f"{prefix}.csv")]
        written.append(write_table(self.zones, folder / f"{prefix}_zones.csv", notes=self.notes))
        if self.capacity is not None:
            written.append(write_table(self.capacity_table, folder / f"{prefix}_capacity.csv",
                                       notes=self.notes + [self.capacity_rule]))
            meta = {"UNITS": "people left uncovered per cell (capacity-aware coverage)"}
            if self.modelled:
                meta["CARESHED_MODELLED"] = "yes: some inputs are MODELLED (see the notes)"
            written.append(Path(write_geotiff(folder / f"{prefix}_capacity_uncovered.tif",
                                              self.capacity.uncovered.astype(np.float32), self.grid, metadata=meta)))
        written.append(self.to_geopackage(folder / f"{prefix}.gpkg"))
        if draw_map:
            self.plot(folder / f"{prefix}.png")
            written.append(folder / f"{prefix}.png")
        written += list(self.to_geotiff(folder, prefix=prefix).values())
        return written


def study_catchments(study: Study, facilities, *, resources=None, capacity=None, patients_per_bed=None,
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
    from .catchment import capacity_coverage, catchments

    t0 = time.perf_counter()
    st, used, rr, cc, moved, status, st_zone, place_notes = _place_facilities(
        study, facilities, facility_id=facility_id, name_field=name_field, layer=layer, x=x, y=y, crs=crs,
        snap_max_m=snap_max_m, unplaced=unplaced, what=label)
    n = len(st.ids)
    res = {name: _values(st, spec, f"resource {name!r}") for name, spec in _resources_spec(resources).items()}
    if max_minutes is not None:
        max_minutes = float(max_minutes)
        if not (math.isfinite(max_minutes) and max_minutes > 0):
            raise InputError(f"max_minutes: {max_minutes!r} must be a positive number of minutes")
    grid = study.grid
    sources = np.ascontiguousarray(np.column_stack([rr[used], cc[used]]), dtype=np.int64)
    seconds, near_used = _travel_time(study.friction.seconds_per_metre, sources, grid.cell_size,
                                      np.zeros(used.size), None if max_minutes is None else max_minutes * 60.0,
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
    cols = _point_columns(st, study, st_zone, rr, cc, moved, status)
    for c in table.columns:
        if c != "facility":
            cols[c] = table[c].to_numpy()
    out.modelled = study.modelled or bool(modelled)
    lim = f"within {max_minutes:g} min" if max_minutes is not None else "with no time limit"
    out.notes = list(study.notes) + _modelled_notes(modelled) + place_notes + [str(v) for v in _as_list(notes)] + [
        f"catchment of each of the {label} = the cells it is the nearest to by travel time ({lim}; ties to the "
        "lowest facility index); resources per 1000 residents of the catchment; NaN when nobody lives in it",
        f"p90_minutes is exact to {out.totals['bin_seconds']:g} s (histogram bins; never below the exact percentile)"]

    # -- per zone: people reached --------------------------------------------------------------
    from .zonal import zonal_sum
    pop = np.nan_to_num(study.population)
    reached = np.where(nearest >= 0, pop, 0.0)
    zpop = np.asarray(zonal_sum(pop, study.zone_raster), dtype=np.float64)[:len(study.ids)]
    zreach = np.asarray(zonal_sum(reached, study.zone_raster), dtype=np.float64)[:len(study.ids)]
    zcols: dict[str, Any] = {k: list(study.frame[k].tolist()) + [None] for k in study.keep}
    zcols["population"] = np.append(zpop, zpop.sum())
    zcols["population_reached"] = np.append(zreach, zreach.sum())
    zcols["population_unreached"] = zcols["population"] - zcols["population_reached"]

    # -- capacity-aware coverage ---------------------------------------------------------------
    out.capacity = None
    out.capacity_table = None
    if capacity is not None:
        cap = _values(st, capacity, "capacity")
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
            order_values = _values(st, order, "order")[used]
        elif isinstance(order, str):
            order_values = order
        else:
            order_values = np.asarray(order, dtype=np.float64)[used]
        cov = capacity_coverage(study.friction, sources, study.population, cap[used], max_minutes=float(cmax),
                                band_minutes=float(band_minutes), order=order_values, zones=study.zone_raster,
                                zone_ids=list(study.ids), neighbours=int(neighbours))
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
    out.zones = pd.DataFrame(zcols, index=pd.Index(list(study.ids) + [study.region_label], name=study.zone_id))
    out.zones.attrs["notes"] = out.notes
    out.timings = {"total": time.perf_counter() - t0}
    return out


# ---- accessibility ------------------------------------------------------------------------------

class AccessMap:
    """The result of :func:`study_access`.

    Attributes
    ----------
    table : DataFrame, one row per zone (index = zone id) and a region row: kept fields, ``population``,
        ``population_no_access`` (no facility within the catchment), ``score`` (population-weighted mean of
        the cells' scores over people with access: supply per resident) and ``<supply>_per_<per>`` (score ×
        per, e.g. beds_per_1000).
    facilities : DataFrame per facility: name, zone, x/y, row/col, status, snapped_m, ``supply``,
        ``supply_ratio`` (R_j: supply per weighted resident of its catchment; NaN nobody in reach).
    score : (H, W) float64 per cell (NaN: nobody lives there, or no facility within the catchment).
    report : counts, conservation (Σ demand × score = Σ supply of the facilities with demand in reach).
    grid, study, method, max_minutes, steps, per, supply_name, notes, modelled.
    """

    def __repr__(self) -> str:
        r = self.table.iloc[-1]
        return (f"{_headline_prefix(self.modelled)}{self.method.upper()} within {self.max_minutes:g} min: "
                f"{self.study.region_label} {r[self.rate_column]:.2f} {self.supply_name} per {self.per:g} residents "
                f"with access; {r['population_no_access']:,.0f} people with no {self.label} in reach; conservation "
                f"error {self.report.get('conservation_relative_error', float('nan')):.1e}\n" + self.table.to_string())

    def _repr_html_(self) -> str:
        import html
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes if n.startswith("MODELLED"))
        return (f"<p><b>{html.escape(repr(self).splitlines()[0])}</b></p>"
                + self.table.to_html(float_format=lambda v: f"{v:,.4g}") + (f"<ul>{notes}</ul>" if notes else ""))

    @property
    def rate_column(self) -> str:
        return f"{self.supply_name}_per_{self.per:g}"

    @property
    def conservation(self) -> dict:
        keys = ("supply_total", "supply_with_demand", "demand_times_score", "conservation_relative_error",
                "zero_demand_supplies", "empty_catchments")
        return {k: self.report[k] for k in keys if k in self.report}

    def to_csv(self, path) -> Path:
        return write_table(self.table, path)

    def to_geotiff(self, path) -> Path:
        """The per-cell score × per (e.g. beds per 1000) as a COG, NaN = nobody lives there / no facility in
        reach; written under a temporary name and renamed."""
        from .raster import write_geotiff
        meta = {"UNITS": f"{self.supply_name} per {self.per:g} residents ({self.method}, {self.max_minutes:g} min)"}
        meta.update({f"CARESHED_NOTE_{i:02d}": n.replace("\n", " ") for i, n in enumerate(self.notes)})
        if self.modelled:
            meta["CARESHED_MODELLED"] = "yes: some inputs are MODELLED (see the notes)"
        return Path(write_geotiff(path, (self.score * self.per).astype(np.float32), self.grid, metadata=meta))

    def to_geopackage(self, path) -> Path:
        """Layers ``zones`` (polygons + the zone table), ``region``, ``facilities`` (points), ``notes``."""
        from .io import write_layers
        region = self.table.iloc[[-1]].reset_index()
        region[region.columns[0]] = region[region.columns[0]].astype(str)
        write_layers(path, {"zones": _zones_layer(self.study, self.table), "region": region,
                            "facilities": _points(self.facilities, self.grid.crs), "notes": _notes_frame(self.notes)})
        return Path(path)

    def plot(self, path=None, *, title=None, dpi=120, vmax=None, labels=None, outlines=None, outline_label=None,
             subtitle=None):
        """Map of the per-cell score × per with zone outlines, zone labels (population-weighted values),
        facilities, colour bar; MODELLED in the title when an input is. `labels`: {zone id: text} replacing the
        zone labels; `outlines`: extra polygons (e.g. catchments, grid CRS) drawn dashed, named `outline_label`
        in the legend; `subtitle` replaces the line under the title."""
        from matplotlib import colormaps
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        from .mapping import draw_polygons, frame_zones, map_footnotes, new_figure

        fig = new_figure(8.5, 8.6, dpi)
        ax = fig.add_axes([0.03, 0.14, 0.80, 0.72])
        g = self.grid
        vals = self.score * self.per
        fin = vals[np.isfinite(vals)]
        hi = float(vmax) if vmax is not None else (float(np.percentile(fin, 98)) if fin.size else 1.0)
        norm = Normalize(vmin=0.0, vmax=hi if hi > 0 else 1.0)
        cmap = colormaps["viridis"].copy()
        cmap.set_bad((1, 1, 1, 0))
        x0, y0, x1, y1 = g.bounds
        ax.imshow(np.ma.masked_invalid(vals), cmap=cmap, norm=norm, extent=(x0, x1, y0, y1), origin="upper",
                  interpolation="nearest", zorder=1)
        none = (np.nan_to_num(self.study.population) > 0) & ~np.isfinite(self.score)
        if none.any():
            from matplotlib.colors import ListedColormap
            ax.imshow(np.where(none, 1.0, np.nan), cmap=ListedColormap(["#d73027"]), extent=(x0, x1, y0, y1),
                      origin="upper", interpolation="nearest", zorder=2)
        draw_polygons(ax, list(self.study.zones.geometry), fill=False, edgecolor="#111111", linewidth=1.0, zorder=3)
        label_field = self.study.keep[-1] if self.study.keep else None
        for i, geom in enumerate(self.study.zones.geometry):
            v = self.table[self.rate_column].iloc[i]
            name = str(self.study.zones[label_field].iloc[i]) if label_field else str(self.study.ids[i])
            pt = geom.representative_point()
            text = labels.get(self.study.ids[i], f"{name}\n{v:.2f}") if labels else f"{name}\n{v:.2f}"
            ax.annotate(text, (pt.x, pt.y), ha="center", va="center", fontsize=7.5 if labels else 8,
                        bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.75), zorder=6)
        if outlines is not None:
            from matplotlib.lines import Line2D
            draw_polygons(ax, list(getattr(outlines, "geometry", outlines)), fill=False, edgecolor="#f0f0f0",
                          linewidth=1.4, zorder=4)
            n0 = len(ax.patches)
            draw_polygons(ax, list(getattr(outlines, "geometry", outlines)), fill=False, edgecolor="#b2182b",
                          linewidth=0.9, zorder=4)
            for patch in ax.patches[n0:]:
                patch.set_linestyle("--")
            ax.legend(handles=[Line2D([], [], color="#b2182b", linestyle="--", label=outline_label or "outlines"),
                               Line2D([], [], color="#111111", label="zones")], loc="lower right", fontsize=7.5,
                      framealpha=0.9)
        f = self.facilities
        placed = f["status"].isin(["on grid", "snapped"]).to_numpy()
        ax.scatter(f["x"].to_numpy()[placed], f["y"].to_numpy()[placed], marker="P", s=70, c="#b2182b",
                   edgecolors="white", linewidths=0.8, zorder=7)
        frame_zones(ax, self.study.zones)
        cax = fig.add_axes([0.86, 0.2, 0.03, 0.58])
        cb = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax)
        cb.set_label(f"{self.supply_name} per {self.per:g} residents ({self.method.upper()}); red: none in reach")
        fig.suptitle(title or f"{_headline_prefix(self.modelled)}{self.study.region_label}: {self.supply_name} per "
                     f"{self.per:g} residents within {self.max_minutes:g} min ({self.method.upper()})",
                     fontsize=11.5, y=0.975)
        r = self.table.iloc[-1]
        fig.text(0.5, 0.915, subtitle or f"zone labels: population-weighted {self.supply_name} per {self.per:g}; "
                 f"{self.study.region_label} {r[self.rate_column]:.2f}; {r['population_no_access']:,.0f} people with "
                 f"none in reach", ha="center", fontsize=8.5)
        map_footnotes(fig, self.notes, g, ".")
        if path is not None:
            _save_png(fig, path)
        return fig

    def save(self, folder, *, prefix="access", draw_map=True) -> list:
        """``PREFIX.csv`` (zone table), ``PREFIX_facilities.csv``, ``PREFIX.gpkg``, ``PREFIX.tif`` (per-cell COG)
        and ``PREFIX.png``; each under a temporary name, then renamed. Returns the paths."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = [self.to_csv(folder / f"{prefix}.csv")]
        written.append(write_table(self.facilities, folder / f"{prefix}_facilities.csv", notes=self.notes))
        written.append(self.to_geopackage(folder / f"{prefix}.gpkg"))
        written.append(self.to_geotiff(folder / f"{prefix}.tif"))
        if draw_map:
            self.plot(folder / f"{prefix}.png")
            written.append(folder / f"{prefix}.png")
        return written


def study_access(study: Study, facilities, *, supply, max_minutes, method="e2sfca", steps=None, per=1000.0,
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
    Facilities are read and placed like :func:`study_catchments`.
    """
    from .access import FCA_METHODS, grid_accessibility

    if method not in FCA_METHODS:
        raise InputError(f"method {method!r}: use one of {', '.join(FCA_METHODS)}")
    try:
        max_minutes = float(max_minutes)
    except (TypeError, ValueError):
        raise InputError(f"max_minutes: {max_minutes!r} must be a number of minutes") from None
    if not (math.isfinite(max_minutes) and max_minutes > 0):
        raise InputError(f"max_minutes: {max_minutes!r} must be a positive number of minutes")
    per = float(per)
    if not (math.isfinite(per) and per > 0):
        raise InputError(f"per: {per!r} must be a positive number of residents (e.g. 1000)")
    weights = parse_steps(steps)
    if weights is not None and method in ("g2sfca", "gravity"):
        raise InputError(f"steps: method {method!r} has its own weights; steps go with 2sfca, e2sfca or 3sfca")
    if weights is not None and max(weights) > max_minutes + 1e-9:
        raise InputError(f"steps: the last bound ({max(weights):g} min) lies beyond max_minutes ({max_minutes:g}); "
                         "the catchment ends at max_minutes")
    t0 = time.perf_counter()
    st, used, rr, cc, moved, status, st_zone, place_notes = _place_facilities(
        study, facilities, facility_id=facility_id, name_field=name_field, layer=layer, x=x, y=y, crs=crs,
        snap_max_m=snap_max_m, unplaced=unplaced, what=label)
    sup = _values(st, supply, "supply")
    name = supply_name or (supply if isinstance(supply, str) else "supply")
    rc = np.ascontiguousarray(np.column_stack([rr[used], cc[used]]), dtype=np.int64)
    r = grid_accessibility(study.friction, study.population, rc, sup[used], max_minutes=max_minutes, method=method,
                           weights=weights, zones=study.zone_raster, zone_ids=list(study.ids),
                           neighbours=int(neighbours), normalize=bool(normalize))
    out = AccessMap.__new__(AccessMap)
    out.study, out.grid, out.method, out.max_minutes, out.per, out.label = study, study.grid, method, max_minutes, \
        per, label
    out.supply_name = name
    out.score = r.score
    out.report = dict(r.report)
    if weights is not None:
        out.steps = weights
    elif method in ("e2sfca", "3sfca"):
        out.steps = {max_minutes / 3: 1.0, 2 * max_minutes / 3: 0.68, max_minutes: 0.22}
    else:
        out.steps = None
    z = r.zones
    tot = z["population"].to_numpy(dtype=np.float64)
    none = z["population_no_access"].to_numpy(dtype=np.float64)
    sc = z["score"].to_numpy(dtype=np.float64)
    w = tot - none
    reg = float(np.nansum(np.where(w > 0, sc * w, 0.0)) / w.sum()) if w.sum() > 0 else math.nan
    cols: dict[str, Any] = {k: list(study.frame[k].tolist()) + [None] for k in study.keep}
    cols["population"] = np.append(tot, tot.sum())
    cols["population_no_access"] = np.append(none, none.sum())
    cols["score"] = np.append(sc, reg)
    cols[out.rate_column] = cols["score"] * per
    out.modelled = study.modelled or bool(modelled)
    wtxt = ("steps " + ", ".join(f"<= {b:g} min: {v:g}" for b, v in out.steps.items())) if out.steps else \
        {"2sfca": "weight 1 inside", "g2sfca": "Gaussian weight reaching 0 at the catchment size",
         "gravity": "gravity weights"}.get(method, "")
    out.notes = list(study.notes) + _modelled_notes(modelled) + place_notes + [str(v) for v in _as_list(notes)] + [
        f"{method.upper()} within {max_minutes:g} min of travel (inclusive), {wtxt}; score = {name} per resident, "
        f"shown x {per:g}; zone values are population-weighted means over the people with any of the {label} in reach; "
        "NaN / population_no_access: nobody or no facility in reach",
        f"conservation: sum(population x score) = {out.report.get('demand_times_score', math.nan):,.4f} vs "
        f"{name} of the {label} with people in reach {out.report.get('supply_with_demand', math.nan):,.4f} "
        f"(relative error {out.report.get('conservation_relative_error', math.nan):.1e})"]
    out.table = pd.DataFrame(cols, index=pd.Index(list(study.ids) + [study.region_label], name=study.zone_id))
    out.table.attrs["notes"] = out.notes
    fcols = _point_columns(st, study, st_zone, rr, cc, moved, status)
    fcols["supply"] = sup
    ratio = np.full(len(st.ids), np.nan)
    ratio[used] = r.supply_ratio
    fcols["supply_ratio"] = ratio
    fcols[f"{name}_per_{per:g}_of_catchment"] = ratio * per
    out.facilities = pd.DataFrame(fcols, index=pd.Index(st.ids, name="facility"))
    out.timings = {"total": time.perf_counter() - t0}
    return out
